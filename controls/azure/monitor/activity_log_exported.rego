package controls.azure.monitor.activity_log_exported

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

required := ["Administrative", "Security"]

destination_fields := {
	"workspaceId": "Log Analytics workspace",
	"storageAccountId": "storage account",
	"eventHubAuthorizationRuleId": "event hub",
	"marketplacePartnerId": "partner solution",
}

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
}

logs(r) := l if {
	l := object.get(settings(r), "logs", null)
	is_array(l)
}

name(r) := n if {
	n := object.get(arm(r), "name", null)
	is_string(n)
} else := r.id

destinations(r) := [sprintf("%s %s", [label, v]) |
	some field, label in destination_fields
	v := object.get(settings(r), field, null)
	is_string(v)
	v != ""
]

enabled(entry) if {
	is_object(entry)
	object.get(entry, "enabled", false) == true
}

# The "allLogs" category group (API 2021-05-01-preview on) covers every category.
all_logs(r) if {
	some entry in logs(r)
	enabled(entry)
	is_string(object.get(entry, "categoryGroup", null))
	lower(entry.categoryGroup) == "alllogs"
}

covered(r, category) if all_logs(r)

covered(r, category) if {
	some entry in logs(r)
	enabled(entry)
	is_string(object.get(entry, "category", null))
	lower(entry.category) == lower(category)
}

missing(r) := [c | some c in required; not covered(r, c)]

complete(r) if logs(r)

exporting(r) if {
	complete(r)
	count(destinations(r)) > 0
	count(missing(r)) == 0
}

problem(r) := sprintf("%s: no destination", [name(r)]) if {
	complete(r)
	count(destinations(r)) == 0
}

problem(r) := sprintf("%s: %s not enabled", [name(r), concat(" and ", missing(r))]) if {
	complete(r)
	count(destinations(r)) > 0
	count(missing(r)) > 0
}

# Sets, so that messages are sorted whatever the order of the resources.
passing := {sprintf("%s sends %s to %s", [name(r), concat(", ", required), concat(" and ", destinations(r))]) | some r in input.resources; exporting(r)}

unreadable := {name(r) | some r in input.resources; not complete(r)}

problems := {problem(r) | some r in input.resources; problem(r)}

results contains {"resource": input.scope.id, "status": "pass", "message": concat("; ", passing)} if {
	count(passing) > 0
}

results contains {"resource": input.scope.id, "status": "fail", "message": "no diagnostic setting exports the subscription's activity log: Azure keeps it for 90 days only"} if {
	count(input.resources) == 0
}

results contains {"resource": input.scope.id, "status": "error", "message": sprintf("no collected diagnostic setting exports the activity log, and the destinations or log categories of %s were not collected", [concat(", ", unreadable)])} if {
	count(passing) == 0
	count(unreadable) > 0
}

results contains {"resource": input.scope.id, "status": "fail", "message": sprintf("no diagnostic setting exports both Administrative and Security activity logs to a destination: %s", [concat("; ", problems)])} if {
	count(input.resources) > 0
	count(passing) == 0
	count(unreadable) == 0
}
