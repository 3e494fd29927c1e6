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
idle(c) := {"days": d, "text": sprintf("%s last used %d days ago", [c.what, d])} if {
	is_string(c.used)
	d := age_days(c.used)
}

idle(c) := {"days": d, "text": sprintf("%s never used, created %d days ago", [c.what, d])} if {
	not is_string(c.used)
	count(c.since) > 0
	d := age_days(c.since[0])
}

results contains {"resource": r.id, "status": "error", "message": "the credential report was not collected for this user"} if {
	some r in input.resources
	not r.properties.credential_report
}

# Each user's credentials are listed and dated once (this rule is the costliest of the
# catalogue on large accounts: it runs per user, per credential).
results contains object.union({"resource": r.id}, verdict(credentials(report))) if {
	some r in input.resources
	report := r.properties.credential_report
}

verdict(creds) := {"status": "not_applicable", "message": "no console password and no active access key"} if {
	count(creds) == 0
}

verdict(creds) := outcome(creds, dated, stale, fresh) if {
	count(creds) > 0
	idles := [i | some c in creds; i := idle(c)]
	dated := count(idles)
	stale := [i.text | some i in idles; i.days >= max_idle_days]
	fresh := [i.text | some i in idles; i.days < max_idle_days]
}

# Credentials idle() cannot date, looked for only when some are missing (dating each
# credential twice, for every user, was a third of this rule's time).
undated(creds) := [c.what | some c in creds; not idle(c)]

outcome(_, _, stale, _) := {"status": "fail", "message": sprintf("unused for %d+ days but still enabled: %s", [max_idle_days, concat("; ", stale)])} if {
	count(stale) > 0
}

outcome(creds, dated, stale, _) := {"status": "error", "message": sprintf("no last-use or creation date in the credential report for: %s", [concat(", ", undated(creds))])} if {
	count(stale) == 0
	dated < count(creds)
}

outcome(creds, dated, stale, fresh) := {"status": "pass", "message": sprintf("every enabled credential used within %d days: %s", [max_idle_days, concat("; ", fresh)])} if {
	count(stale) == 0
	dated == count(creds)
}
