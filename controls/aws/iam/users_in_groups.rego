package controls.aws.iam.users_in_groups

has_report(p) if p.credential_report

has_groups(p) if is_array(object.get(p, "groups", null))

console(p) if p.credential_report.password_enabled == true

results contains {"resource": r.id, "status": "error", "message": "the credential report was not collected for this user: cannot tell whether it has a console password"} if {
	some r in input.resources
	not has_report(r.properties)
}

results contains {"resource": r.id, "status": "not_applicable", "message": "no console password"} if {
	some r in input.resources
	has_report(r.properties)
	not console(r.properties)
}

results contains {"resource": r.id, "status": "error", "message": "console user, but its group memberships (account authorization details) were not collected"} if {
	some r in input.resources
	console(r.properties)
	not has_groups(r.properties)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("console user in group %s", [concat(", ", r.properties.groups)])} if {
	some r in input.resources
	console(r.properties)
	has_groups(r.properties)
	count(r.properties.groups) > 0
}

results contains {"resource": r.id, "status": "fail", "message": "console user belongs to no group"} if {
	some r in input.resources
	console(r.properties)
	has_groups(r.properties)
	count(r.properties.groups) == 0
}
