package controls.aws.iam.root_not_used_recently

window_days := 30

day_ns := ((24 * 60) * 60) * 1000000000

has_row(p) if {
	"root" in object.keys(p)
	p.root != null
}

age_days(ts) := floor((input.now_ns - time.parse_rfc3339_ns(ts)) / day_ns)

# Each sign-in or key use recorded in the root row, with how long ago it was.
uses(root) := array.concat(
	[{"what": "password (console sign-in)", "days": age_days(t)} |
		t := object.get(root, "password_last_used", null)
		is_string(t)
	],
	[{"what": sprintf("access key %d", [k.number]), "days": age_days(k.last_used_date)} |
		some k in object.get(root, "access_keys", [])
		is_string(object.get(k, "last_used_date", null))
	],
)

recent(root) := [sprintf("%s used %d days ago", [u.what, u.days]) |
	some u in uses(root)
	u.days < window_days
]

last_seen(root) := "never used (or no use recorded)" if count(uses(root)) == 0

last_seen(root) := concat(", ", [sprintf("%s last used %d days ago", [u.what, u.days]) | some u in uses(root)]) if count(uses(root)) > 0

results contains {"resource": r.id, "status": "error", "message": "the credential report's root row was not collected"} if {
	some r in input.resources
	not has_row(r.properties)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("root not used in the last %d days: %s", [window_days, last_seen(r.properties.root)])} if {
	some r in input.resources
	has_row(r.properties)
	count(recent(r.properties.root)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("root used within the last %d days: %s", [window_days, concat("; ", recent(r.properties.root))])} if {
	some r in input.resources
	has_row(r.properties)
	count(recent(r.properties.root)) > 0
}
