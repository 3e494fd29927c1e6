package controls.azure.storage.https_only

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# The record's properties are the ARM object; its own `properties` holds the settings.
settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
}

results contains {"resource": r.id, "status": "error", "message": "the storage account's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

# ARM returns supportsHttpsTrafficOnly for every account (true by default for accounts
# created since 2019-04-01). Absent means we did not collect it: the default is not evidence.
results contains {"resource": r.id, "status": "error", "message": "supportsHttpsTrafficOnly is absent from the collected account: not collected (a default is not evidence)"} if {
	some r in input.resources
	object.get(settings(r), "supportsHttpsTrafficOnly", null) == null
}

results contains {"resource": r.id, "status": "pass", "message": "secure transfer required: supportsHttpsTrafficOnly is true, HTTP requests are refused"} if {
	some r in input.resources
	settings(r).supportsHttpsTrafficOnly == true
}

results contains {"resource": r.id, "status": "fail", "message": "secure transfer not required: supportsHttpsTrafficOnly is false, so the blob, file, queue and table endpoints accept plain HTTP"} if {
	some r in input.resources
	settings(r).supportsHttpsTrafficOnly == false
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unexpected supportsHttpsTrafficOnly value %v", [v])} if {
	some r in input.resources
	v := object.get(settings(r), "supportsHttpsTrafficOnly", null)
	v != null
	not is_boolean(v)
}
