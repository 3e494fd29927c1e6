package controls.aws.iam.user_console_mfa

# Each user is judged once, by the first case that holds.
results := [{"resource": r.id, "status": v.status, "message": v.message} |
	some r in input.resources
	v := verdict(r.properties)
]

verdict(p) := {"status": "error", "message": "the credential report was not collected for this user"} if {
	not p.credential_report
} else := {"status": "not_applicable", "message": "no console password"} if {
	object.get(p.credential_report, "password_enabled", null) != true
} else := {"status": "pass", "message": "console password protected by MFA"} if {
	p.credential_report.mfa_active == true
} else := {"status": "fail", "message": "console password enabled and no MFA device"}
