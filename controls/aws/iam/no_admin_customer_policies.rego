package controls.aws.iam.no_admin_customer_policies

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

admin_statements(doc) := [label(i, st) | some i, st in statements(doc); full_admin(st)]

label(i, st) := sprintf("statement %s", [st.Sid]) if is_string(object.get(st, "Sid", null))

label(i, st) := sprintf("statement #%d", [i + 1]) if not is_string(object.get(st, "Sid", null))

managed_known(p) if is_boolean(object.get(p, "aws_managed", null))

customer(p) if p.aws_managed == false

readable(p) if is_object(object.get(p, "document", null))

attachments(p) := sprintf("attachment count %d", [p.attachment_count]) if is_number(object.get(p, "attachment_count", null))

attachments(p) := "attachments unknown" if not is_number(object.get(p, "attachment_count", null))

results contains {"resource": r.id, "status": "error", "message": "the policy's owner (AWS or customer managed) was not collected"} if {
	some r in input.resources
	not managed_known(r.properties)
}

results contains {"resource": r.id, "status": "not_applicable", "message": "AWS managed policy"} if {
	some r in input.resources
	r.properties.aws_managed == true
}

results contains {"resource": r.id, "status": "error", "message": "the policy's default version document was not collected"} if {
	some r in input.resources
	customer(r.properties)
	not readable(r.properties)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("no statement allows \"*\" on \"*\" (default version %s)", [object.get(r.properties, "default_version", "unknown")])} if {
	some r in input.resources
	customer(r.properties)
	readable(r.properties)
	count(admin_statements(r.properties.document)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s allows action \"*\" on resource \"*\" (full administrator; default version %s, %s)", [concat(", ", admin_statements(r.properties.document)), object.get(r.properties, "default_version", "unknown"), attachments(r.properties)])} if {
	some r in input.resources
	customer(r.properties)
	readable(r.properties)
	count(admin_statements(r.properties.document)) > 0
}
