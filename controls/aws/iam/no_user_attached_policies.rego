package controls.aws.iam.no_user_attached_policies

collected(p) if "attached_policies" in object.keys(p)

direct(p) := array.concat(
	[sprintf("%s (managed)", [a.name]) | some a in p.attached_policies],
	[sprintf("%s (inline)", [i.name]) | some i in object.get(p, "inline_policies", [])],
)

# Each user is judged once: its direct policies are listed once.
results contains {"resource": r.id, "status": v.status, "message": v.message} if {
	some r in input.resources
	v := verdict(r.properties)
}

verdict(p) := {"status": "error", "message": "the account authorization details were not collected for this user"} if {
	not collected(p)
} else := listed(direct(p))

listed(policies) := {"status": "pass", "message": "no policy attached to the user directly"} if {
	count(policies) == 0
} else := {"status": "fail", "message": sprintf("policies attached to the user directly: %s", [concat(", ", policies)])}
