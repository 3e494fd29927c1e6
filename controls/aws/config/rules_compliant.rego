package controls.aws.config.rules_compliant

name(p) := object.get(p, "ConfigRuleName", "(unnamed rule)")

collected(p) if "compliance" in object.keys(p)

ctype(p) := object.get(p.compliance, "ComplianceType", "") if p.compliance != null

contributors(p) := sprintf("%d%s", [c.CappedCount, plus]) if {
	c := object.get(p.compliance, "ComplianceContributorCount", null)
	c != null
	is_number(object.get(c, "CappedCount", null))
	plus := cap(object.get(c, "CapExceeded", false))
} else := "an unknown number of"

cap(true) := "+"

cap(x) := "" if x != true

results contains {"resource": r.id, "status": "error", "message": sprintf("the compliance of Config rule %s was not collected (describe-compliance-by-config-rule)", [name(r.properties)])} if {
	some r in input.resources
	not collected(r.properties)
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("Config rule %s has no evaluation yet", [name(r.properties)])} if {
	some r in input.resources
	collected(r.properties)
	r.properties.compliance == null
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("Config rule %s is NON_COMPLIANT: %s resource(s) non-compliant", [name(r.properties), contributors(r.properties)])} if {
	some r in input.resources
	ctype(r.properties) == "NON_COMPLIANT"
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("Config rule %s is COMPLIANT", [name(r.properties)])} if {
	some r in input.resources
	ctype(r.properties) == "COMPLIANT"
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("Config rule %s is %s", [name(r.properties), t])} if {
	some r in input.resources
	t := ctype(r.properties)
	t in {"NOT_APPLICABLE", "INSUFFICIENT_DATA"}
}

results contains {"resource": r.id, "status": "error", "message": sprintf("Config rule %s has an unrecognised compliance type \"%v\"", [name(r.properties), t])} if {
	some r in input.resources
	t := ctype(r.properties)
	not t in {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"}
}
