package controls.aws.iam.no_user_attached_policies

collected(p) if "attached_policies" in object.keys(p)

direct(p) := array.concat(
	[sprintf("%s (managed)", [a.name]) | some a in p.attached_policies],
	[sprintf("%s (inline)", [i.name]) | some i in object.get(p, "inline_policies", [])],
)

results contains {"resource": r.id, "status": "error", "message": "the account authorization details were not collected for this user"} if {
	some r in input.resources
	not collected(r.properties)
}

results contains {"resource": r.id, "status": "pass", "message": "no policy attached to the user directly"} if {
	some r in input.resources
	collected(r.properties)
	count(direct(r.properties)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("policies attached to the user directly: %s", [concat(", ", direct(r.properties))])} if {
	some r in input.resources
	collected(r.properties)
	count(direct(r.properties)) > 0
}
