package controls.aws.iam.access_key_rotation

max_age_days := 90

day_ns := ((24 * 60) * 60) * 1000000000

age_days(key) := floor((input.now_ns - time.parse_rfc3339_ns(key.last_rotated)) / day_ns)

# Most users have no active key: that case is decided before any list is made.
any_active(r) if {
	some key in r.properties.credential_report.access_keys
	key.active == true
}

active(r) := [key | some key in r.properties.credential_report.access_keys; key.active == true]

stale(keys) := [sprintf("key %d last rotated %d days ago", [key.number, days]) |
	some key in keys
	days := age_days(key)
	days > max_age_days
]

# Each user is judged once: its active keys are listed once and each is dated once
# (listing them again to find the stale ones cost a quarter of this rule's time). The
# verdict is the result itself, not an object to build it from.
results := [verdict(r) | some r in input.resources]

verdict(r) := {"resource": r.id, "status": "error", "message": "the credential report was not collected for this user"} if {
	not r.properties.credential_report
} else := {"resource": r.id, "status": "not_applicable", "message": "no active access key"} if {
	not any_active(r)
} else := rotation(r.id, keys, stale(keys)) if {
	keys := active(r)
}

rotation(id, keys, late) := {"resource": id, "status": "not_applicable", "message": "no active access key"} if {
	count(keys) == 0
} else := {"resource": id, "status": "pass", "message": sprintf("%d active key(s), all rotated within %d days", [count(keys), max_age_days])} if {
	count(late) == 0
} else := {"resource": id, "status": "fail", "message": sprintf("%s (limit %d)", [concat("; ", late), max_age_days])}
