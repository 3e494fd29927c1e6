package controls.aws.iam.single_active_access_key

# Each user is judged once: its active keys (numbered 1 and 2, as the credential report
# names them) are listed once, then one verdict is chosen; a key's name is formatted only
# in the message that names it. The verdict is the result itself: building a second
# object from it was about a tenth of this rule's time (benches/scale.sh 100000).
results := [verdict(r.id, r.properties) | some r in input.resources]

# Most users have no active key: that case is decided first, with no call to the verdict
# helper below (1.04 s -> 0.92 s for 100,000 users). A list of keys means the report
# was collected, so deciding it first never hides the error cases.
verdict(id, p) := {"resource": id, "status": "not_applicable", "message": "no active access key"} if {
	is_array(p.credential_report.access_keys)
	count([k | some k in p.credential_report.access_keys; k.active == true; _ = k.number]) == 0
} else := {"resource": id, "status": "error", "message": "the credential report was not collected for this user"} if {
	not p.credential_report
} else := {"resource": id, "status": "error", "message": "the credential report row has no access key columns"} if {
	not is_array(p.credential_report.access_keys)
} else := keys_verdict(id, [k | some k in p.credential_report.access_keys; k.active == true; _ = k.number])

keys_verdict(id, keys) := {"resource": id, "status": "not_applicable", "message": "no active access key"} if {
	count(keys) == 0
} else := {"resource": id, "status": "pass", "message": sprintf("one active access key (key %d)", [keys[0].number])} if {
	count(keys) == 1
} else := {"resource": id, "status": "fail", "message": sprintf("%d active access keys (%s)", [count(keys), concat(", ", [sprintf("key %d", [k.number]) | some k in keys])])}
