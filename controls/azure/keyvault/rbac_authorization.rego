package controls.azure.keyvault.rbac_authorization

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
	"tenantId" in object.keys(s)
}

flag(r) := object.get(settings(r), "enableRbacAuthorization", null)

policies(r) := count(l) if {
	l := object.get(settings(r), "accessPolicies", null)
	is_array(l)
} else := 0

results contains {"resource": r.id, "status": "error", "message": "the key vault's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

# Absent is not read as either model: the API's default is moving from access policies
# to Azure RBAC, so only the reported value is evidence.
results contains {"resource": r.id, "status": "error", "message": "enableRbacAuthorization is absent from the collected vault: the permission model cannot be determined"} if {
	some r in input.resources
	settings(r)
	flag(r) == null
}

results contains {"resource": r.id, "status": "pass", "message": "data-plane access is authorised with Azure RBAC (enableRbacAuthorization is true)"} if {
	some r in input.resources
	flag(r) == true
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("data-plane access uses vault access policies (enableRbacAuthorization is false; %d access policy entries)", [policies(r)])} if {
	some r in input.resources
	flag(r) == false
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unexpected enableRbacAuthorization value %v", [v])} if {
	some r in input.resources
	v := flag(r)
	v != null
	not is_boolean(v)
}
