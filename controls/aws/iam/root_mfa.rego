package controls.aws.iam.root_mfa

# The account summary is authoritative; the credential report's root row is the fallback.
has_summary(p) if {
	_ = p.summary.AccountMFAEnabled
}

known(p) if has_summary(p)

known(p) if is_boolean(p.root.mfa_active)

enabled(p) if p.summary.AccountMFAEnabled == 1

enabled(p) if {
	not has_summary(p)
	p.root.mfa_active == true
}

results contains {"resource": r.id, "status": "pass", "message": "the root user has MFA enabled"} if {
	some r in input.resources
	known(r.properties)
	enabled(r.properties)
}

results contains {"resource": r.id, "status": "fail", "message": "the root user has no MFA device"} if {
	some r in input.resources
	known(r.properties)
	not enabled(r.properties)
}

results contains {"resource": r.id, "status": "error", "message": "neither the account summary nor the credential report was collected"} if {
	some r in input.resources
	not known(r.properties)
}
