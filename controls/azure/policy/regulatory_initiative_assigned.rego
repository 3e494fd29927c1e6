package controls.azure.policy.regulatory_initiative_assigned

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# Built-in regulatory compliance initiatives (policy set definitions), by name (GUID),
# from Azure/azure-policy built-in-policies/policySetDefinitions. Deprecated ones
# (Azure Security Benchmark v1 and v2) and other regimes (FedRAMP, HIPAA, NIST SP 800-53
# Rev. 4, ...) are deliberately left out.
initiatives := {
	# Regulatory Compliance/ISO27001_2013_audit.json
	"89c6cddc-1c73-4ac1-b19c-54d1a15a42f2": "ISO 27001:2013",
	# Regulatory Compliance/ISO_IEC_27001_2022.json
	"5e4ff661-23bf-42fa-8e3a-309a55091cc7": "ISO/IEC 27001:2022",
	# Regulatory Compliance/SOC_2.json
	"4054785f-702b-4a98-9215-009cbd58b141": "SOC 2 Type 2",
	# Regulatory Compliance/SOC_2023.json
	"53ad89f5-8542-49e9-ba81-1cbd686e0d52": "SOC 2023",
	# Security Center/AzureSecurityCenter.json (formerly Azure Security Benchmark; the
	# Defender for Cloud default assignment)
	"1f3afdf9-d0c9-4c3d-847f-89da613e70a8": "Microsoft cloud security benchmark",
	# Security Center/MCSBv2.json (preview)
	"e3ec7e09-768c-4b64-882c-fcada3772047": "Microsoft cloud security benchmark v2",
	# Regulatory Compliance/NIST_SP_800-53_R5.json
	"179d1daa-458f-4e47-8086-2a68d0d6c38f": "NIST SP 800-53 Rev. 5",
	# Regulatory Compliance/NIST_SP_800-53_R5.1.1.json
	"60205a79-6280-4e20-a147-e2011e09dc78": "NIST SP 800-53 R5.1.1",
	# Regulatory Compliance/CISv1_1_0.json
	"1a5bb27d-173f-493e-9568-eb56638dde4d": "CIS Microsoft Azure Foundations Benchmark 1.1.0",
	# Regulatory Compliance/CISv1_3_0.json
	"612b5213-9160-4969-8578-1518bd2a000c": "CIS Microsoft Azure Foundations Benchmark 1.3.0",
	# Regulatory Compliance/CISv1_4_0.json
	"c3f5c4d9-9a1d-4a99-85c0-7f93e384d5c5": "CIS Microsoft Azure Foundations Benchmark 1.4.0",
	# Regulatory Compliance/CISv2_0_0.json
	"06f19060-9e68-4070-92ca-f15cc126059e": "CIS Microsoft Azure Foundations Benchmark 2.0.0",
	# Regulatory Compliance/CIS_Azure_Foundations_v2.1.0.json
	"fe7782e4-6ff3-4e39-8d8a-64b6f7b82c85": "CIS Azure Foundations 2.1.0",
	# Regulatory Compliance/CIS_Azure_Foundations_v3.0.0.json
	"470a962c-86a0-433b-803a-3c176b5ce79c": "CIS Azure Foundations 3.0.0",
	# Regulatory Compliance/PCI_DSS_V4.0.json
	"c676748e-3af9-4e22-bc28-50feed564afb": "PCI DSS v4",
	# Regulatory Compliance/PCI_DSS_v4.0.1.json
	"a06d5deb-24aa-4991-9d58-fa7563154e31": "PCI DSS v4.0.1",
}

set_prefix := "/providers/microsoft.authorization/policysetdefinitions/"

subscription_scope := lower(sprintf("/subscriptions/%s", [input.scope.account]))

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
}

lower_field(r, key) := lower(v) if {
	v := object.get(settings(r), key, null)
	is_string(v)
}

# The initiative's name when the assignment is a listed built-in initiative.
initiative(r) := initiatives[guid] if {
	some guid, _ in initiatives
	lower_field(r, "policyDefinitionId") == concat("", [set_prefix, guid])
}

# The assignment is made at the subscription or above it (management group, root), and
# does not exclude the subscription.
covers_subscription(r) if {
	scope := lower_field(r, "scope")
	above_or_at(scope)
	not excluded(r)
}

above_or_at(scope) if scope == subscription_scope

above_or_at(scope) if startswith(scope, "/providers/microsoft.management/managementgroups/")

above_or_at(scope) if scope == "/"

excluded(r) if {
	not_scopes := object.get(settings(r), "notScopes", null)
	is_array(not_scopes)
	some ns in not_scopes
	is_string(ns)
	lower(ns) == subscription_scope
}

known(r) if {
	lower_field(r, "policyDefinitionId")
	lower_field(r, "scope")
}

display(r) := d if {
	d := object.get(settings(r), "displayName", null)
	is_string(d)
} else := n if {
	n := object.get(arm(r), "name", null)
	is_string(n)
} else := r.id

compliance(r) := "" if not "compliance" in object.keys(arm(r))

compliance(r) := ", no compliance results yet" if arm(r).compliance == null

non_compliant(r) := n if {
	c := arm(r).compliance
	is_object(c)
	res := object.get(c, "results", null)
	is_object(res)
	n := object.get(res, "nonCompliantResources", null)
	is_number(n)
}

compliance(r) := sprintf(", %v non-compliant resource(s)", [non_compliant(r)]) if non_compliant(r)

compliance(r) := ", compliance summary without a resource count" if {
	is_object(arm(r).compliance)
	not non_compliant(r)
}

assigned := {sprintf("%s assigned as '%s' at %s (enforcement %s%s)", [initiative(r), display(r), settings(r).scope, object.get(settings(r), "enforcementMode", "Default"), compliance(r)]) |
	some r in input.resources
	initiative(r)
	covers_subscription(r)
}

narrower := {sprintf("%s only at %s", [initiative(r), settings(r).scope]) |
	some r in input.resources
	initiative(r)
	known(r)
	not covers_subscription(r)
	not excluded(r)
}

excluding := {sprintf("%s at %s excludes this subscription", [initiative(r), settings(r).scope]) |
	some r in input.resources
	initiative(r)
	excluded(r)
}

unknown := {display(r) | some r in input.resources; not known(r)}

results contains {"resource": input.scope.id, "status": "pass", "message": concat("; ", assigned)} if count(assigned) > 0

results contains {"resource": input.scope.id, "status": "error", "message": sprintf("no regulatory compliance initiative found among the readable assignments, and the definition or scope of %s was not collected", [concat(", ", unknown)])} if {
	count(assigned) == 0
	count(unknown) > 0
}

# Regulatory initiatives that exist but do not cover the whole subscription.
partial := array.concat([x | some x in narrower], [x | some x in excluding])

notes := sprintf(" (%s)", [concat("; ", partial)]) if {
	count(partial) > 0
} else := ""

results contains {"resource": input.scope.id, "status": "fail", "message": sprintf("none of the %d policy assignment(s) applies a built-in regulatory compliance initiative to the whole subscription%s", [count(input.resources), notes])} if {
	count(assigned) == 0
	count(unknown) == 0
}
