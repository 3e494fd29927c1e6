package controls.aws.iam.unused_credentials_disabled

max_idle_days := 45

day_ns := ((24 * 60) * 60) * 1000000000

age_days(ts) := floor((input.now_ns - time.parse_rfc3339_ns(ts)) / day_ns)

# The first timestamp of a list that is set (credential report "N/A" is null).
first_set(values) := [v | some v in values; is_string(v)]

# Every enabled credential of a user: what it is, when it was last used, and when it
# was created (a password's last change, a key's last rotation, else the user's creation).
credentials(report) := array.concat(
	[{"what": "console password", "used": object.get(report, "password_last_used", null), "since": first_set([object.get(report, "password_last_changed", null), object.get(report, "user_creation_time", null)])} |
		report.password_enabled == true
	],
	[{"what": sprintf("access key %d", [k.number]), "used": object.get(k, "last_used_date", null), "since": first_set([object.get(k, "last_rotated", null), object.get(report, "user_creation_time", null)])} |
		some k in object.get(report, "access_keys", [])
		k.active == true
	],
)

# Idle days and a description, for a credential whose dates are known.
idle(c) := {"days": age_days(c.used), "text": sprintf("%s last used %d days ago", [c.what, age_days(c.used)])} if is_string(c.used)

idle(c) := {"days": age_days(c.since[0]), "text": sprintf("%s never used, created %d days ago", [c.what, age_days(c.since[0])])} if {
	not is_string(c.used)
	count(c.since) > 0
}

undated(report) := [c.what | some c in credentials(report); not idle(c)]

stale(report) := [i.text | some c in credentials(report); i := idle(c); i.days >= max_idle_days]

fresh(report) := [i.text | some c in credentials(report); i := idle(c); i.days < max_idle_days]

results contains {"resource": r.id, "status": "error", "message": "the credential report was not collected for this user"} if {
	some r in input.resources
	not r.properties.credential_report
}

results contains {"resource": r.id, "status": "not_applicable", "message": "no console password and no active access key"} if {
	some r in input.resources
	report := r.properties.credential_report
	count(credentials(report)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("unused for %d+ days but still enabled: %s", [max_idle_days, concat("; ", stale(report))])} if {
	some r in input.resources
	report := r.properties.credential_report
	count(stale(report)) > 0
}

results contains {"resource": r.id, "status": "error", "message": sprintf("no last-use or creation date in the credential report for: %s", [concat(", ", undated(report))])} if {
	some r in input.resources
	report := r.properties.credential_report
	count(stale(report)) == 0
	count(undated(report)) > 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("every enabled credential used within %d days: %s", [max_idle_days, concat("; ", fresh(report))])} if {
	some r in input.resources
	report := r.properties.credential_report
	count(credentials(report)) > 0
	count(stale(report)) == 0
	count(undated(report)) == 0
}
