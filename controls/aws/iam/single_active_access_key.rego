package controls.aws.iam.single_active_access_key

active(report) := [sprintf("key %d", [k.number]) | some k in object.get(report, "access_keys", []); k.active == true]

# Each user is judged once: its active keys are listed once, then one verdict is chosen.
results contains {"resource": r.id, "status": v.status, "message": v.message} if {
	some r in input.resources
	v := verdict(r.properties)
}

verdict(p) := {"status": "error", "message": "the credential report was not collected for this user"} if {
	not p.credential_report
} else := {"status": "error", "message": "the credential report row has no access key columns"} if {
	not is_array(object.get(p.credential_report, "access_keys", null))
} else := keys_verdict(active(p.credential_report))

keys_verdict(keys) := {"status": "not_applicable", "message": "no active access key"} if {
	count(keys) == 0
} else := {"status": "pass", "message": sprintf("one active access key (%s)", [keys[0]])} if {
	count(keys) == 1
} else := {"status": "fail", "message": sprintf("%d active access keys (%s)", [count(keys), concat(", ", keys)])}
