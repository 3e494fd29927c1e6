package controls.aws.iam.access_key_rotation

max_age_days := 90

day_ns := ((24 * 60) * 60) * 1000000000

age_days(key) := floor((input.now_ns - time.parse_rfc3339_ns(key.last_rotated)) / day_ns)

active(r) := [key | some key in r.properties.credential_report.access_keys; key.active == true]

stale(r) := [sprintf("key %d last rotated %d days ago", [key.number, age_days(key)]) |
	some key in active(r)
	age_days(key) > max_age_days
]

results contains {"resource": r.id, "status": "error", "message": "the credential report was not collected for this user"} if {
	some r in input.resources
	not r.properties.credential_report
}

results contains {"resource": r.id, "status": "not_applicable", "message": "no active access key"} if {
	some r in input.resources
	r.properties.credential_report
	count(active(r)) == 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%d active key(s), all rotated within %d days", [count(active(r)), max_age_days])} if {
	some r in input.resources
	count(active(r)) > 0
	count(stale(r)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s (limit %d)", [concat("; ", stale(r)), max_age_days])} if {
	some r in input.resources
	count(stale(r)) > 0
}
