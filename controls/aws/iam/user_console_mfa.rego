package controls.aws.iam.user_console_mfa

# Each user is judged once, by the first case that holds.
# The verdict is the result itself, not an object to build it from.
results := [verdict(r.id, r.properties) | some r in input.resources]

verdict(id, p) := {"resource": id, "status": "error", "message": "the credential report was not collected for this user"} if {
	not is_object(p.credential_report)
} else := {"resource": id, "status": "not_applicable", "message": "no console password"} if {
	not p.credential_report.password_enabled == true
} else := {"resource": id, "status": "pass", "message": "console password protected by MFA"} if {
	p.credential_report.mfa_active == true
} else := {"resource": id, "status": "fail", "message": "console password enabled and no MFA device"}
