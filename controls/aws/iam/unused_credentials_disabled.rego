package controls.aws.iam.unused_credentials_disabled

max_idle_days := 45

day_ns := ((24 * 60) * 60) * 1000000000

# The timestamps of a list that are set (credential report "N/A" is null).
first_set(values) := [v | some v in values; is_string(v)]

# This rule is the costliest of the catalogue on large accounts (it runs per user, per
# credential), so each credential is dated once, and each user's verdict is the first
# case of an else chain that holds (the interpreter stops there).
# The verdict is the result itself, not a pair to build it from.
results := [judged(r.id, r.properties) | some r in input.resources]

# A user with neither a console password nor an active key (a dormant one) is decided
# first, before any credential is listed or dated (2.85 s -> 2.13 s for the 100,000
# users of benches/scale.sh, half of them dormant). Only a report read as an object
# gets there: anything else takes the cases below, as before.
judged(id, p) := {"resource": id, "status": "not_applicable", "message": "no console password and no active access key"} if {
	report := p.credential_report
	is_object(report)
	not report.password_enabled == true
	is_array(report.access_keys)
	count([k | some k in report.access_keys; k.active == true]) == 0
} else := {"resource": id, "status": "error", "message": "the credential report was not collected for this user"} if {
	not is_object(p.credential_report)
} else := {"resource": id, "status": "error", "message": "the credential report row's access keys are not a list"} if {
	keys := p.credential_report.access_keys
	not is_array(keys)
} else := verdict(id, credentials(p.credential_report))

# Every enabled credential of a user, dated: a console password, then active access keys.
# What it was created from (a password's last change, a key's last rotation, else the
# user's creation) is looked at only for a credential never used.
credentials(report) := array.concat(
	[dated("console password", object.get(report, "password_last_used", null), report, report, "password_last_changed") |
		report.password_enabled == true
	],
	[dated(sprintf("access key %d", [k.number]), object.get(k, "last_used_date", null), report, k, "last_rotated") |
		some k in object.get(report, "access_keys", [])
		k.active == true
	],
)

# [days idle, description] of a credential: idle since its last use, or, never used,
# since its creation (`created` of `holder`, else the user's creation); [null, what it
# is] when neither date is known. The days are worked out in place: a function call
# per credential was a good part of this rule's time.
dated(what, used, report, holder, created) := [d, sprintf("%s last used %d days ago", [what, d])] if {
	is_string(used)
	d := floor((input.now_ns - time.parse_rfc3339_ns(used)) / day_ns)
} else := [d, sprintf("%s never used, created %d days ago", [what, d])] if {
	not is_string(used)
	since := first_set([object.get(holder, created, null), object.get(report, "user_creation_time", null)])
	count(since) > 0
	d := floor((input.now_ns - time.parse_rfc3339_ns(since[0])) / day_ns)
} else := [null, what]

# The result for user `id` from its dated credentials.
verdict(id, creds) := {"resource": id, "status": "not_applicable", "message": "no console password and no active access key"} if {
	count(creds) == 0
} else := {"resource": id, "status": "fail", "message": sprintf("unused for %d+ days but still enabled: %s", [max_idle_days, concat("; ", stale)])} if {
	stale := [c[1] | some c in creds; c[0] != null; c[0] >= max_idle_days]
	count(stale) > 0
} else := {"resource": id, "status": "error", "message": sprintf("no last-use or creation date in the credential report for: %s", [concat(", ", undated)])} if {
	undated := [c[1] | some c in creds; c[0] == null]
	count(undated) > 0
} else := {"resource": id, "status": "pass", "message": sprintf("every enabled credential used within %d days: %s", [max_idle_days, concat("; ", [c[1] | some c in creds])])}
