package controls.azure.authorization.owner_count

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

max_direct := 3

min_total := 2

# The built-in Owner role's definition name, the same in every tenant.
owner_guid := "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"

subscription_scope := lower(sprintf("/subscriptions/%s", [input.scope.account]))

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
} else := {}

str(obj, key) := v if {
	v := object.get(obj, key, null)
	is_string(v)
	v != ""
}

role_name(r) := str(arm(r), "role_name")

definition(r) := lower(str(settings(r), "roleDefinitionId"))

scope(r) := lower(str(settings(r), "scope"))

# role_name says which role; without it, the built-in Owner's fixed definition name does.
owner(r) if role_name(r) == "Owner"

owner(r) if {
	not role_name(r)
	endswith(definition(r), concat("/", ["", owner_guid]))
}

role_unknown(r) if {
	not role_name(r)
	not definition(r)
}

at_subscription(r) if scope(r) == subscription_scope

# Assignments at a management group (or the root) are inherited by the subscription.
inherited(r) if startswith(scope(r), "/providers/microsoft.management/managementgroups/")

inherited(r) if scope(r) == "/"

# Assignments that would count if they were Owner: at the subscription, above it, or of
# unknown scope. Assignments on resource groups and resources are out of scope.
relevant(r) if at_subscription(r)

relevant(r) if inherited(r)

relevant(r) if not scope(r)

label(r) := str(arm(r), "principal_name")

label(r) := sprintf("%s %s", [object.get(settings(r), "principalType", "principal"), object.get(settings(r), "principalId", r.id)]) if not str(arm(r), "principal_name")

direct := {label(r) | some r in input.resources; owner(r); at_subscription(r)}

above := {label(r) | some r in input.resources; owner(r); inherited(r)}

unresolved := {r.id | some r in input.resources; relevant(r); role_unknown(r)}

unplaced := {r.id | some r in input.resources; owner(r); not scope(r)}

unknown := unresolved | unplaced

# Distinct owners: the same principal may hold Owner both here and on a management group.
owners := direct | above

names(s) := sprintf(" (%s)", [concat(", ", s)]) if {
	count(s) > 0
} else := ""

results contains {"resource": input.scope.id, "status": "fail", "message": sprintf("%d Owner assignments at subscription scope (at most %d): %s", [count(direct), max_direct, concat(", ", direct)])} if {
	count(direct) > max_direct
}

results contains {"resource": input.scope.id, "status": "error", "message": sprintf("the role or scope of %d role assignment(s) that may grant Owner on the subscription was not collected: %s", [count(unknown), concat(", ", unknown)])} if {
	count(direct) <= max_direct
	count(unknown) > 0
}

results contains {"resource": input.scope.id, "status": "fail", "message": sprintf("only %d principal(s) hold Owner on the subscription%s: a second owner is needed so that administrative access survives the loss of one account", [count(owners), names(owners)])} if {
	count(unknown) == 0
	count(owners) < min_total
}

results contains {"resource": input.scope.id, "status": "pass", "message": sprintf("%d Owner assignment(s) at subscription scope%s and %d inherited from management groups%s", [count(direct), names(direct), count(above), names(above)])} if {
	count(unknown) == 0
	count(direct) <= max_direct
	count(owners) >= min_total
}
