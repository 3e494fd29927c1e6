package controls.aws.iam.root_no_access_keys

# The account summary is authoritative; the credential report's root row is the fallback.
has_summary(p) if {
	is_number(p.summary.AccountAccessKeysPresent)
}

has_row(p) if is_array(p.root.access_keys)

active_row_keys(p) := [sprintf("key %d", [k.number]) | some k in p.root.access_keys; k.active == true]

results contains {"resource": r.id, "status": "pass", "message": "the root user has no access keys (account summary)"} if {
	some r in input.resources
	has_summary(r.properties)
	r.properties.summary.AccountAccessKeysPresent == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("the root user has access keys (account summary AccountAccessKeysPresent = %d)", [r.properties.summary.AccountAccessKeysPresent])} if {
	some r in input.resources
	has_summary(r.properties)
	r.properties.summary.AccountAccessKeysPresent != 0
}

results contains {"resource": r.id, "status": "pass", "message": "the root user has no active access key (credential report)"} if {
	some r in input.resources
	not has_summary(r.properties)
	has_row(r.properties)
	count(active_row_keys(r.properties)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("the root user has an active access key (credential report: %s)", [concat(", ", active_row_keys(r.properties))])} if {
	some r in input.resources
	not has_summary(r.properties)
	has_row(r.properties)
	count(active_row_keys(r.properties)) > 0
}

results contains {"resource": r.id, "status": "error", "message": "neither the account summary nor the credential report's root row was collected"} if {
	some r in input.resources
	not has_summary(r.properties)
	not has_row(r.properties)
}
