package controls.aws.cloudtrail.cloudwatch_logs

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

name(r) := object.get(config(r), "name", r.id)

# Config records a trail once, in its home region; a copy seen elsewhere (a "shadow"
# trail of a multi-region trail) is judged where it lives.
shadow(r) if {
	home := object.get(config(r), "homeRegion", r.region)
	is_string(home)
	home != r.region
}

field_recorded(r, k) if k in object.keys(config(r))

results contains {"resource": r.id, "status": "error", "message": "the trail's configuration was not recorded"} if {
	some r in input.resources
	not config(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("trail %s belongs to %s and is judged there", [name(r), config(r).homeRegion])} if {
	some r in input.resources
	shadow(r)
}

results contains {"resource": r.id, "status": "error", "message": sprintf("trail %s: %s was not recorded", [name(r), field])} if {
	some r in input.resources
	config(r)
	not shadow(r)
	not field_recorded(r, field)
}

field := "cloudWatchLogsLogGroupArn"

judged(r) if {
	config(r)
	not shadow(r)
	field_recorded(r, field)
}

group(r) := g if {
	g := config(r).cloudWatchLogsLogGroupArn
	is_string(g)
	g != ""
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("trail %s delivers to CloudWatch Logs group %s", [name(r), group(r)])} if {
	some r in input.resources
	judged(r)
	group(r)
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("trail %s does not deliver to CloudWatch Logs: no metric filters or alarms can watch its events", [name(r)])} if {
	some r in input.resources
	judged(r)
	not group(r)
}
