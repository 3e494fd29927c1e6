package controls.aws.iam.single_active_access_key

active(report) := [sprintf("key %d", [k.number]) | some k in object.get(report, "access_keys", []); k.active == true]

results contains {"resource": r.id, "status": "error", "message": "the credential report was not collected for this user"} if {
	some r in input.resources
	not r.properties.credential_report
}

results contains {"resource": r.id, "status": "error", "message": "the credential report row has no access key columns"} if {
	some r in input.resources
	report := r.properties.credential_report
	not is_array(object.get(report, "access_keys", null))
}

results contains {"resource": r.id, "status": "not_applicable", "message": "no active access key"} if {
	some r in input.resources
	report := r.properties.credential_report
	is_array(object.get(report, "access_keys", null))
	count(active(report)) == 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("one active access key (%s)", [active(report)[0]])} if {
	some r in input.resources
	report := r.properties.credential_report
	count(active(report)) == 1
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%d active access keys (%s)", [count(active(report)), concat(", ", active(report))])} if {
	some r in input.resources
	report := r.properties.credential_report
	count(active(report)) > 1
}
