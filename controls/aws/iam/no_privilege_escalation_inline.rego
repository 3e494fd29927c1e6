package controls.aws.iam.no_privilege_escalation_inline

# IAM actions that let an identity raise its own privileges (or take over another
# identity's) when allowed on every resource.
escalation := [
	"iam:AddUserToGroup",
	"iam:AttachGroupPolicy",
	"iam:AttachRolePolicy",
	"iam:AttachUserPolicy",
	"iam:CreateAccessKey",
	"iam:CreateLoginProfile",
	"iam:CreatePolicyVersion",
	"iam:PassRole",
	"iam:PutGroupPolicy",
	"iam:PutRolePolicy",
	"iam:PutUserPolicy",
	"iam:SetDefaultPolicyVersion",
	"iam:UpdateAssumeRolePolicy",
	"iam:UpdateLoginProfile",
]

# Policy grammar: Statement, Action, NotAction and Resource may each be one value or a list.
as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

statements(doc) := [st | some st in as_list(object.get(doc, "Statement", [])); is_object(st)]

# Action names are case-insensitive; `*` and `?` are wildcards within the name, and a
# lone `*` is every action of every service.
matches(pattern, action) if pattern == "*"

matches(pattern, action) if {
	is_string(pattern)
	glob.match(lower(pattern), [":"], lower(action))
}

on_everything(st) if {
	object.get(st, "Effect", "") == "Allow"
	some resource in as_list(object.get(st, "Resource", []))
	resource == "*"
}

# What a statement allows from the list, in the policy's own words.
found(st) := [pattern |
	some pattern in as_list(object.get(st, "Action", []))
	is_string(pattern)
	some action in escalation
	matches(pattern, action)
]

# An Allow with NotAction allows every action it does not name.
left_by_not_action(st) := [action |
	"NotAction" in object.keys(st)
	some action in escalation
	not excluded(st, action)
]

excluded(st, action) if {
	some pattern in as_list(st.NotAction)
	matches(pattern, action)
}

hits(doc) := [h |
	some st in statements(doc)
	on_everything(st)
	some h in array.concat(found(st), [sprintf("NotAction leaves %s", [a]) | some a in left_by_not_action(st)])
]

kinds := {"aws.iam.user": "user", "aws.iam.group": "group", "aws.iam.role": "role"}

kind(r) := object.get(kinds, r.type, r.type)

collected(p) if is_array(object.get(p, "inline_policies", null))

readable(pol) if is_object(object.get(pol, "document", null))

unreadable(p) := [object.get(pol, "name", "?") | some pol in p.inline_policies; not readable(pol)]

offending(p) := [sprintf("%s allows %s on \"*\"", [pol.name, concat(", ", sort_unique(hits(pol.document)))]) |
	some pol in p.inline_policies
	readable(pol)
	count(hits(pol.document)) > 0
]

sort_unique(xs) := [x | some x in {y | some y in xs}]

# Each principal is judged once: its offending and unreadable policies are listed once.
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
} else := inline(r, offending(r.properties), unreadable(r.properties))

inline(r, found, broken) := {"resource": r.id, "status": "fail", "message": sprintf("privilege escalation possible through inline policy: %s", [concat("; ", found)])} if {
	count(found) > 0
} else := {"resource": r.id, "status": "error", "message": sprintf("inline policy document not readable: %s", [concat(", ", broken)])} if {
	count(broken) > 0
} else := {"resource": r.id, "status": "pass", "message": sprintf("no inline policy of the %s allows a privilege-escalation action on \"*\" (%d checked)", [kind(r), count(r.properties.inline_policies)])}
