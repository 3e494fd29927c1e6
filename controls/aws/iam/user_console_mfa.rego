package controls.aws.iam.user_console_mfa

results contains {"resource": r.id, "status": "error", "message": "the credential report was not collected for this user"} if {
	some r in input.resources
	not r.properties.credential_report
}

results contains {"resource": r.id, "status": "not_applicable", "message": "no console password"} if {
	some r in input.resources
	report := r.properties.credential_report
	object.get(report, "password_enabled", null) != true
}

results contains {"resource": r.id, "status": "pass", "message": "console password protected by MFA"} if {
	some r in input.resources
	report := r.properties.credential_report
	report.password_enabled == true
	report.mfa_active == true
}

results contains {"resource": r.id, "status": "fail", "message": "console password enabled and no MFA device"} if {
	some r in input.resources
	report := r.properties.credential_report
	report.password_enabled == true
	object.get(report, "mfa_active", null) != true
}
