package controls.azure.resources.required_tags

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

owner_keys := {"owner"}

classification_keys := {"data-classification", "data_classification", "dataclassification", "classification"}

# A record is an ARM object when it carries its id; ARM leaves `tags` out of an object
# that has none, so in a collected object a missing `tags` means no tags at all.
collected(r) if is_string(object.get(arm(r), "id", null))

tags(r) := t if {
	t := object.get(arm(r), "tags", null)
	is_object(t)
} else := {}

# A tag counts when its key matches (case-insensitively) and its value is not blank.
has(r, keys) if {
	some k, v in tags(r)
	lower(k) in keys
	is_string(v)
	regex.match(`[^ \t\r\n]`, v)
}

missing(r) := array.concat(
	["owner" | not has(r, owner_keys)],
	["a data classification tag (data-classification, data_classification, dataclassification or classification)" | not has(r, classification_keys)],
)

kind(r) := "resource group" if r.type == "azure.resources.group"

kind(r) := sprintf("resource (%v)", [object.get(arm(r), "type", "unknown type")]) if r.type != "azure.resources.group"

results contains {"resource": r.id, "status": "error", "message": "the ARM object of this resource was not collected"} if {
	some r in input.resources
	not collected(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%s carries an owner and a data classification tag", [kind(r)])} if {
	some r in input.resources
	collected(r)
	count(missing(r)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s is missing: %s", [kind(r), concat(" and ", missing(r))])} if {
	some r in input.resources
	collected(r)
	count(missing(r)) > 0
}
