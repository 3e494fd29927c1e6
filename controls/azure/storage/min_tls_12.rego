package controls.azure.storage.min_tls_12

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

version(r) := object.get(settings(r), "minimumTlsVersion", null)

# ARM values: TLS1_0, TLS1_1, TLS1_2 and, since 2025, TLS1_3.
modern(v) if {
	is_string(v)
	regex.match(`^tls1_[2-9]$`, lower(v))
}

legacy(v) if {
	is_string(v)
	regex.match(`^tls1_[01]$`, lower(v))
}

results contains {"resource": r.id, "status": "error", "message": "the storage account's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

results contains {"resource": r.id, "status": "error", "message": "minimumTlsVersion is absent from the collected account: not collected"} if {
	some r in input.resources
	settings(r)
	version(r) == null
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("minimum TLS version is %s", [version(r)])} if {
	some r in input.resources
	modern(version(r))
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("minimum TLS version is %s: clients may still connect with TLS 1.0/1.1 (TLS1_2 or higher required)", [version(r)])} if {
	some r in input.resources
	legacy(version(r))
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unrecognised minimumTlsVersion %v", [v])} if {
	some r in input.resources
	v := version(r)
	v != null
	not modern(v)
	not legacy(v)
}
