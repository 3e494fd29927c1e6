package controls.aws.iam.single_active_access_key

# Each user is judged once: its active keys (numbered 1 and 2, as the credential report
# names them) are listed once, then one verdict is chosen; a key's name is formatted only
# in the message that names it.
results := [{"resource": r.id, "status": v.status, "message": v.message} |
	some r in input.resources
	v := verdict(r.properties)
]

verdict(p) := {"status": "error", "message": "the credential report was not collected for this user"} if {
	not p.credential_report
} else := {"status": "error", "message": "the credential report row has no access key columns"} if {
	not is_array(object.get(p.credential_report, "access_keys", null))
} else := keys_verdict([k | some k in p.credential_report.access_keys; k.active == true; _ = k.number])

keys_verdict(keys) := {"status": "not_applicable", "message": "no active access key"} if {
	count(keys) == 0
} else := {"status": "pass", "message": sprintf("one active access key (key %d)", [keys[0].number])} if {
	count(keys) == 1
} else := {"status": "fail", "message": sprintf("%d active access keys (%s)", [count(keys), concat(", ", [sprintf("key %d", [k.number]) | some k in keys])])}
