package controls.azure.keyvault.purge_protection

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# The vault's settings object as ARM returns it; tenantId is always in it, so its
# presence tells a collected vault from one known only by name.
settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
	"tenantId" in object.keys(s)
}

# enablePurgeProtection cannot be set to false and ARM leaves it out until it is turned
# on; Azure Policy's own check (0b60c0b2-2dc2-4e1c-b5c9-abbed971de53) treats a missing
# value as "not enabled". So in a collected vault, absent means off.
results contains {"resource": r.id, "status": "error", "message": "the key vault's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

retention(r) := sprintf("%v-day retention period", [d]) if {
	d := object.get(settings(r), "softDeleteRetentionInDays", null)
	is_number(d)
} else := "retention period"

results contains {"resource": r.id, "status": "pass", "message": sprintf("purge protection is enabled: deleted vaults and objects cannot be purged before the %s ends", [retention(r)])} if {
	some r in input.resources
	settings(r).enablePurgeProtection == true
}

results contains {"resource": r.id, "status": "fail", "message": "purge protection is not enabled (enablePurgeProtection is not set: ARM reports it only once it is turned on)"} if {
	some r in input.resources
	object.get(settings(r), "enablePurgeProtection", null) == null
}

results contains {"resource": r.id, "status": "fail", "message": "purge protection is not enabled (enablePurgeProtection is false)"} if {
	some r in input.resources
	settings(r).enablePurgeProtection == false
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unexpected enablePurgeProtection value %v", [v])} if {
	some r in input.resources
	v := object.get(settings(r), "enablePurgeProtection", null)
	v != null
	not is_boolean(v)
}
