package controls.aws.iam.cross_account_external_id

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

statements(doc) := [st | some st in as_list(object.get(doc, "Statement", [])); is_object(st)]

allows(st) if object.get(st, "Effect", "") == "Allow"

# The `AWS` principals of a statement (Principal may also be the string "*", which is
# aws.iam.no_wildcard_trust's concern, or name only services and federated providers).
aws_principals(st) := as_list(st.Principal.AWS) if is_object(object.get(st, "Principal", null))

aws_principals(st) := [] if not is_object(object.get(st, "Principal", null))

# An account ID or an IAM/STS ARN naming an account other than this one. Unique IDs
# (AROA..., left when a trusted role is deleted) and "*" name no account and are skipped.
foreign(p) if {
	regex.match(`^[0-9]{12}$`, p)
	p != input.scope.account
}

foreign(p) if {
	regex.match(`^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:`, p)
	not regex.match(sprintf(`^arn:aws[a-z-]*:(iam|sts)::%s:`, [input.scope.account]), p)
}

foreign_in(st) := [p | some p in aws_principals(st); is_string(p); foreign(p)]

# `sts:ExternalId` required with StringEquals or StringLike (operator and key names are
# case-insensitive), with a value that is not just a wildcard. The ...IfExists forms do
# not count: they let a caller without an ExternalId in.
requires_external_id(st) if {
	some operator, block in object.get(st, "Condition", {})
	lower(operator) in {"stringequals", "stringlike"}
	some key, value in block
	lower(key) == "sts:externalid"
	values := as_list(value)
	count(values) > 0
	every v in values {
		is_string(v)
		not regex.match(`^[*?]*$`, v)
	}
}

trusted(doc) := {p | some st in statements(doc); allows(st); some p in foreign_in(st)}

unprotected(doc) := {p |
	some st in statements(doc)
	allows(st)
	not requires_external_id(st)
	some p in foreign_in(st)
}

# AWS Organizations creates OrganizationAccountAccessRole in member accounts, trusted by
# the management account's root. ExternalId protects against a confused deputy (a third
# party acting for many customers); the management account is none, so the role is not
# applicable, as long as it has exactly that shape: one other account, as a whole.
organizations_role(r, doc) if {
	object.get(r.properties, "name", "") == "OrganizationAccountAccessRole"
	accounts := trusted(doc)
	count(accounts) == 1
	some p in accounts
	regex.match(`^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:root)$`, p)
}

readable(r) if is_object(object.get(r.properties, "assume_role_policy", null))

results contains {"resource": r.id, "status": "error", "message": "the role's trust policy was not collected"} if {
	some r in input.resources
	not readable(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": "the trust policy names no principal of another AWS account (only services, federated identities or this account)"} if {
	some r in input.resources
	readable(r)
	count(trusted(r.properties.assume_role_policy)) == 0
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("OrganizationAccountAccessRole trusted by %s, expected to be the AWS Organizations management account: ExternalId does not apply (confirm that account is the management account)", [concat(", ", trusted(doc))])} if {
	some r in input.resources
	readable(r)
	doc := r.properties.assume_role_policy
	organizations_role(r, doc)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("other-account principals %s must present sts:ExternalId", [concat(", ", trusted(doc))])} if {
	some r in input.resources
	readable(r)
	doc := r.properties.assume_role_policy
	count(trusted(doc)) > 0
	not organizations_role(r, doc)
	count(unprotected(doc)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("trusts other-account principal %s without an sts:ExternalId condition", [concat(", ", unprotected(doc))])} if {
	some r in input.resources
	readable(r)
	doc := r.properties.assume_role_policy
	not organizations_role(r, doc)
	count(unprotected(doc)) > 0
}
