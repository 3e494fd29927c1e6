package controls.aws.config.recorder_enabled

listed(p) if is_array(p.recorders)

recording(p) := [rec.name | some rec in p.recorders; rec.status.recording == true]

stopped(p) := [sprintf("%s (last status %s)", [rec.name, object.get(rec.status, "lastStatus", "unknown")]) |
	some rec in p.recorders
	object.get(object.get(rec, "status", {}), "recording", false) != true
]

results contains {"resource": r.id, "status": "pass", "message": sprintf("recorder %s is recording", [concat(", ", recording(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(recording(r.properties)) > 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("recorder %s exists but is not recording", [concat(", ", stopped(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(r.properties.recorders) > 0
	count(recording(r.properties)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": "no configuration recorder in this region"} if {
	some r in input.resources
	listed(r.properties)
	count(r.properties.recorders) == 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("a configuration snapshot (%s) was delivered from this region", [object.get(r.properties.snapshot, "id", "no id")])} if {
	some r in input.resources
	not listed(r.properties)
	r.properties.snapshot
}

results contains {"resource": r.id, "status": "error", "message": "neither the recorder status nor a configuration snapshot was collected"} if {
	some r in input.resources
	not listed(r.properties)
	not r.properties.snapshot
}
