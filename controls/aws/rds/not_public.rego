package controls.aws.rds.not_public

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

name(r) := n if {
	n := object.get(config(r), "dBInstanceIdentifier", null)
	is_string(n)
} else := r.id

flag(r) := object.get(config(r), "publiclyAccessible", null)

endpoint(r) := sprintf(" (endpoint %s)", [a]) if {
	a := config(r).endpoint.address
	is_string(a)
} else := ""

results contains {"resource": r.id, "status": "error", "message": "the instance's publiclyAccessible was not recorded"} if {
	some r in input.resources
	not is_boolean(flag(r))
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%s is not publicly accessible", [name(r)])} if {
	some r in input.resources
	flag(r) == false
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s is publicly accessible: its endpoint resolves to a public address%s", [name(r), endpoint(r)])} if {
	some r in input.resources
	flag(r) == true
}
