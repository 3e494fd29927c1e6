package controls.aws.iam.users_in_groups

has_report(p) if p.credential_report

has_groups(p) if is_array(object.get(p, "groups", null))

console(p) if p.credential_report.password_enabled == true

# Each user is judged once, by the first case that holds.
results contains {"resource": r.id, "status": v.status, "message": v.message} if {
	some r in input.resources
	v := verdict(r.properties)
}

verdict(p) := {"status": "error", "message": "the credential report was not collected for this user: cannot tell whether it has a console password"} if {
	not has_report(p)
} else := {"status": "not_applicable", "message": "no console password"} if {
	not console(p)
} else := {"status": "error", "message": "console user, but its group memberships (account authorization details) were not collected"} if {
	not has_groups(p)
} else := {"status": "pass", "message": sprintf("console user in group %s", [concat(", ", p.groups)])} if {
	count(p.groups) > 0
} else := {"status": "fail", "message": "console user belongs to no group"}
