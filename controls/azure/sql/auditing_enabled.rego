package controls.azure.sql.auditing_enabled

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# `auditing` is the server's auditingSettings/default object (null: none returned).
collected(r) if "auditing" in object.keys(arm(r))

audit_props(r) := p if {
	a := arm(r).auditing
	is_object(a)
	p := object.get(a, "properties", null)
	is_object(p)
}

state(r) := s if {
	s := object.get(audit_props(r), "state", null)
	is_string(s)
}

to_storage(p) if {
	e := object.get(p, "storageEndpoint", null)
	is_string(e)
	e != ""
}

to_monitor(p) if object.get(p, "isAzureMonitorTargetEnabled", false) == true

destinations(r) := d if {
	p := audit_props(r)
	d := array.concat(["a storage account" | to_storage(p)], ["Azure Monitor (Log Analytics or Event Hubs)" | to_monitor(p)])
}

describe(r) := sprintf("to %s, retention %v days (0 = unlimited)", [concat(" and ", destinations(r)), object.get(audit_props(r), "retentionDays", "?")]) if {
	count(destinations(r)) > 0
} else := "no destination reported"

results contains {"resource": r.id, "status": "error", "message": "the server's auditing settings were not collected"} if {
	some r in input.resources
	not collected(r)
}

results contains {"resource": r.id, "status": "fail", "message": "the server has no auditing settings: server-level auditing was never configured"} if {
	some r in input.resources
	collected(r)
	arm(r).auditing == null
}

results contains {"resource": r.id, "status": "error", "message": "the server's auditing settings were collected without a state"} if {
	some r in input.resources
	collected(r)
	arm(r).auditing != null
	not state(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("server auditing is Enabled, %s", [describe(r)])} if {
	some r in input.resources
	state(r) == "Enabled"
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("server auditing is %s: database events on this server are not recorded", [state(r)])} if {
	some r in input.resources
	state(r) != "Enabled"
}
