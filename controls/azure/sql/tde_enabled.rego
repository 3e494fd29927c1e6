package controls.azure.sql.tde_enabled

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# The system database `master` is encrypted by the service and its TDE setting cannot
# be changed; it is reported as not applicable.
is_master(r) if {
	n := object.get(arm(r), "name", null)
	is_string(n)
	lower(n) == "master"
}

is_master(r) if endswith(lower(r.id), "/databases/master")

collected(r) if "transparent_data_encryption" in object.keys(arm(r))

# transparentDataEncryption/current: `state` (API 2021+), `status` in the 2014 API.
state(r) := s if {
	t := arm(r).transparent_data_encryption
	is_object(t)
	p := object.get(t, "properties", {})
	is_object(p)
	s := object.get(p, "state", object.get(p, "status", null))
	is_string(s)
}

results contains {"resource": r.id, "status": "not_applicable", "message": "the master system database is encrypted by the service and has no TDE setting of its own"} if {
	some r in input.resources
	is_master(r)
}

results contains {"resource": r.id, "status": "error", "message": "the database's transparent data encryption setting was not collected"} if {
	some r in input.resources
	not is_master(r)
	not collected(r)
}

results contains {"resource": r.id, "status": "fail", "message": "no transparent data encryption configuration was returned for this database"} if {
	some r in input.resources
	not is_master(r)
	collected(r)
	arm(r).transparent_data_encryption == null
}

results contains {"resource": r.id, "status": "error", "message": "the transparent data encryption setting was collected without a state"} if {
	some r in input.resources
	not is_master(r)
	collected(r)
	arm(r).transparent_data_encryption != null
	not state(r)
}

results contains {"resource": r.id, "status": "pass", "message": "transparent data encryption is Enabled: data, log and backup files are encrypted at rest"} if {
	some r in input.resources
	not is_master(r)
	state(r) == "Enabled"
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("transparent data encryption is %s: data, log and backup files are stored unencrypted", [state(r)])} if {
	some r in input.resources
	not is_master(r)
	state(r) != "Enabled"
}
