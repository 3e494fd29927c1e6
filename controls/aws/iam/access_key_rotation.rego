package controls.aws.iam.access_key_rotation

max_age_days := 90

day_ns := ((24 * 60) * 60) * 1000000000

# Each user is judged once: its active keys are listed once and each is dated once, in
# place. The interpreter pays about as much for a function call as for the rest of a
# simple rule, so the lists are made in the verdict's own body rather than by helpers
# (0.97 s -> 0.78 s for 100,000 users, benches/scale.sh's estate). The verdict is the
# result itself, not an object to build it from.
results := [verdict(r.id, r.properties) | some r in input.resources]

# Most users have no active key: that case is decided first. A list of keys means the
# report was read, so deciding it first never hides the error cases below it.
verdict(id, p) := {"resource": id, "status": "not_applicable", "message": "no active access key"} if {
	is_array(p.credential_report.access_keys)
	count([key | some key in p.credential_report.access_keys; key.active == true]) == 0
} else := {"resource": id, "status": "error", "message": "the credential report was not collected for this user"} if {
	not is_object(p.credential_report)
} else := {"resource": id, "status": "error", "message": "the credential report row's access keys are not a list"} if {
	keys := p.credential_report.access_keys
	not is_array(keys)
} else := rotation(id, keys, late) if {
	keys := [key | some key in p.credential_report.access_keys; key.active == true]
	count(keys) > 0
	late := [sprintf("key %d last rotated %d days ago", [key.number, days]) |
		some key in keys
		days := floor((input.now_ns - time.parse_rfc3339_ns(key.last_rotated)) / day_ns)
		days > max_age_days
	]
} else := {"resource": id, "status": "not_applicable", "message": "no active access key"}

rotation(id, keys, late) := {"resource": id, "status": "pass", "message": sprintf("%d active key(s), all rotated within %d days", [count(keys), max_age_days])} if {
	count(late) == 0
} else := {"resource": id, "status": "fail", "message": sprintf("%s (limit %d)", [concat("; ", late), max_age_days])}
