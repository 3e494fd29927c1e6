package controls.aws.iam.users_in_groups

# Each user is judged once, by the first case that holds (each test written out rather
# than in a helper: a function call per test was a third of this rule's time).
# The verdict is the result itself, not an object to build it from.
results := [verdict(r.id, r.properties) | some r in input.resources]

verdict(id, p) := {"resource": id, "status": "error", "message": "the credential report was not collected for this user: cannot tell whether it has a console password"} if {
	not p.credential_report
} else := {"resource": id, "status": "not_applicable", "message": "no console password"} if {
	not p.credential_report.password_enabled == true
} else := {"resource": id, "status": "error", "message": "console user, but its group memberships (account authorization details) were not collected"} if {
	not is_array(object.get(p, "groups", null))
} else := {"resource": id, "status": "pass", "message": sprintf("console user in group %s", [concat(", ", p.groups)])} if {
	count(p.groups) > 0
} else := {"resource": id, "status": "fail", "message": "console user belongs to no group"}
