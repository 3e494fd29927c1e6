package controls.azure.keyvault.soft_delete

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

minimum_retention_days := 7

# Microsoft turned soft delete on for every remaining vault in February 2025; since then
# it cannot be turned off. Runs evaluated from this date on read a missing
# enableSoftDelete as that platform default; earlier runs (re-evaluated history) as off.
enforced_from_ns := time.parse_rfc3339_ns("2025-03-01T00:00:00Z")

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
	"tenantId" in object.keys(s)
}

flag(r) := object.get(settings(r), "enableSoftDelete", null)

retention(r) := object.get(settings(r), "softDeleteRetentionInDays", null)

# How soft delete is known to be on, or undefined when it is not.
soft_delete_on(r) := "enableSoftDelete is true" if flag(r) == true

soft_delete_on(r) := "enableSoftDelete is not reported, but soft delete has been mandatory on every vault since February 2025" if {
	flag(r) == null
	input.now_ns >= enforced_from_ns
}

results contains {"resource": r.id, "status": "error", "message": "the key vault's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unexpected enableSoftDelete value %v", [v])} if {
	some r in input.resources
	v := flag(r)
	v != null
	not is_boolean(v)
}

results contains {"resource": r.id, "status": "fail", "message": "soft delete is disabled (enableSoftDelete is false): a deleted vault and its keys, secrets and certificates are gone at once"} if {
	some r in input.resources
	flag(r) == false
}

results contains {"resource": r.id, "status": "fail", "message": "soft delete is not enabled: enableSoftDelete is not set on the vault (before February 2025 such vaults had no soft delete)"} if {
	some r in input.resources
	settings(r)
	flag(r) == null
	input.now_ns < enforced_from_ns
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("soft delete on (%s), deleted items retained %d days", [soft_delete_on(r), retention(r)])} if {
	some r in input.resources
	soft_delete_on(r)
	is_number(retention(r))
	retention(r) >= minimum_retention_days
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("soft delete retention is %d days (at least %d required)", [retention(r), minimum_retention_days])} if {
	some r in input.resources
	soft_delete_on(r)
	is_number(retention(r))
	retention(r) < minimum_retention_days
}

results contains {"resource": r.id, "status": "error", "message": sprintf("soft delete on (%s), but softDeleteRetentionInDays was not collected: the retention period cannot be verified", [soft_delete_on(r)])} if {
	some r in input.resources
	soft_delete_on(r)
	not is_number(retention(r))
}
