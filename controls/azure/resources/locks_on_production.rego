package controls.azure.resources.locks_on_production

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# Judges resource groups only; locks are context and get no result of their own.
groups := [r | some r in input.resources; r.type == "azure.resources.group"]

locks := [r | some r in input.resources; r.type == "azure.resources.lock"]

lock_path := "/providers/microsoft.authorization/locks/"

tags(g) := t if {
	t := object.get(arm(g), "tags", null)
	is_object(t)
} else := {}

# Tagged environment/env = production/prod, keys and values in any case.
production(g) if {
	some k, v in tags(g)
	lower(k) in {"environment", "env"}
	is_string(v)
	lower(v) in {"production", "prod"}
}

# A group's own id, lower-cased: the record id, else the ARM object's.
group_id(g) := lower(g.id)

level(l) := v if {
	s := object.get(arm(l), "properties", null)
	is_object(s)
	v := object.get(s, "level", null)
	is_string(v)
}

# Where a lock applies to a group: on the group itself, or on the whole subscription.
applies(l, g) := "on the group" if startswith(lower(l.id), concat("", [group_id(g), lock_path]))

applies(l, _) := "inherited from the subscription" if startswith(lower(l.id), concat("", ["/subscriptions/", lower(input.scope.account), lock_path]))

protecting(g) := {sprintf("%s lock %s %s", [level(l), object.get(arm(l), "name", l.id), applies(l, g)]) |
	some l in locks
	applies(l, g)
	level(l) in {"CanNotDelete", "ReadOnly"}
}

unknown_level(g) := {l.id |
	some l in locks
	applies(l, g)
	not level(l)
}

results contains {"resource": g.id, "status": "not_applicable", "message": "not tagged as production (environment/env = production/prod)"} if {
	some g in groups
	not production(g)
}

results contains {"resource": g.id, "status": "pass", "message": concat("; ", protecting(g))} if {
	some g in groups
	production(g)
	count(protecting(g)) > 0
}

results contains {"resource": g.id, "status": "error", "message": sprintf("production group with no known lock, and the level of lock(s) %s that apply to it was not collected", [concat(", ", unknown_level(g))])} if {
	some g in groups
	production(g)
	count(protecting(g)) == 0
	count(unknown_level(g)) > 0
}

results contains {"resource": g.id, "status": "fail", "message": "production resource group with no CanNotDelete or ReadOnly lock on it or on the subscription: it and everything in it can be deleted in one operation"} if {
	some g in groups
	production(g)
	count(protecting(g)) == 0
	count(unknown_level(g)) == 0
}
