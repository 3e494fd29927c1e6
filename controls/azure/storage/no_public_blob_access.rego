package controls.azure.storage.no_public_blob_access

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
}

allowed(r) := object.get(settings(r), "allowBlobPublicAccess", null)

results contains {"resource": r.id, "status": "error", "message": "the storage account's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

results contains {"resource": r.id, "status": "error", "message": "allowBlobPublicAccess is absent from the collected account: not collected"} if {
	some r in input.resources
	settings(r)
	allowed(r) == null
}

results contains {"resource": r.id, "status": "pass", "message": "anonymous (public) blob access is disallowed for the whole account: allowBlobPublicAccess is false"} if {
	some r in input.resources
	allowed(r) == false
}

results contains {"resource": r.id, "status": "fail", "message": "allowBlobPublicAccess is true: any container may be made readable by anyone on the internet without credentials"} if {
	some r in input.resources
	allowed(r) == true
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unexpected allowBlobPublicAccess value %v", [v])} if {
	some r in input.resources
	v := allowed(r)
	v != null
	not is_boolean(v)
}
