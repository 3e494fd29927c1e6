package controls.aws.iam.no_wildcard_trust

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

statements(doc) := [st | some st in as_list(object.get(doc, "Statement", [])); is_object(st)]

# Principal "*" or {"AWS": "*"} (alone or in a list): every AWS identity anywhere.
wildcard(st) if st.Principal == "*"

wildcard(st) if {
	is_object(st.Principal)
	some p in as_list(object.get(st.Principal, "AWS", []))
	p == "*"
}

# Condition keys that narrow who the caller is.
identity_keys := {
	"aws:principalorgid",
	"aws:principalorgpaths",
	"aws:principalaccount",
	"aws:principalarn",
	"aws:userid",
	"aws:sourceaccount",
	"aws:sourcearn",
	"aws:sourceorgid",
	"aws:sourceorgpaths",
	"sts:externalid",
}

# Positive match operators only: negated ones (StringNotEquals) admit everyone else,
# ...IfExists and ForAllValues admit callers without the key, Null only tests presence.
restricting_operators := {"stringequals", "stringlike", "stringequalsignorecase", "arnequals", "arnlike"}

operator_restricts(op) if lower(op) in restricting_operators

operator_restricts(op) if {
	startswith(lower(op), "foranyvalue:")
	some base in restricting_operators
	lower(op) == concat("", ["foranyvalue:", base])
}

restricting_keys(st) := {key |
	some op, block in object.get(st, "Condition", {})
	operator_restricts(op)
	some key, value in block
	lower(key) in identity_keys
	values := as_list(value)
	count(values) > 0
	every v in values {
		is_string(v)
		not regex.match(`^[*?]*$`, v)
	}
}

label(i, st) := sprintf("statement %s", [st.Sid]) if is_string(object.get(st, "Sid", null))

label(i, st) := sprintf("statement #%d", [i + 1]) if not is_string(object.get(st, "Sid", null))

allowing(doc) := [[i, st] | some i, st in statements(doc); object.get(st, "Effect", "") == "Allow"; wildcard(st)]

open_statements(doc) := [label(i, st) | some [i, st] in allowing(doc); count(restricting_keys(st)) == 0]

guarded_by(doc) := {k | some [_, st] in allowing(doc); some k in restricting_keys(st)}

readable(r) if is_object(object.get(r.properties, "assume_role_policy", null))

results contains {"resource": r.id, "status": "error", "message": "the role's trust policy was not collected"} if {
	some r in input.resources
	not readable(r)
}

results contains {"resource": r.id, "status": "pass", "message": "the trust policy names no wildcard principal"} if {
	some r in input.resources
	readable(r)
	count(allowing(r.properties.assume_role_policy)) == 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("the wildcard principal is restricted by a condition on %s", [concat(", ", guarded_by(doc))])} if {
	some r in input.resources
	readable(r)
	doc := r.properties.assume_role_policy
	count(allowing(doc)) > 0
	count(open_statements(doc)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s lets any AWS principal assume the role: Principal \"*\" with no condition on the caller's account, organisation, ARN or ExternalId", [concat(", ", open_statements(doc))])} if {
	some r in input.resources
	readable(r)
	doc := r.properties.assume_role_policy
	count(open_statements(doc)) > 0
}
