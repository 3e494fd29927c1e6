package controls.azure.storage.default_network_deny

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

# Lower-cased string value of obj[key], or "" when absent, null or not a string (regorus
# raises an error, rather than failing the expression, when a builtin gets a null).
lower_str(obj, key) := lower(v) if {
	is_object(obj)
	v := object.get(obj, key, null)
	is_string(v)
} else := ""

acls(r) := a if {
	a := object.get(settings(r), "networkAcls", null)
	is_object(a)
} else := {}

public_access(r) := lower_str(settings(r), "publicNetworkAccess")

default_action(r) := lower_str(acls(r), "defaultAction")

# publicNetworkAccess Disabled (or SecuredByPerimeter, where a network security
# perimeter's rules decide) closes the public endpoint whatever the firewall says.
closed(r) if public_access(r) in {"disabled", "securedbyperimeter"}

firewalled(r) if default_action(r) == "deny"

# Positive evidence of an open endpoint: the firewall admits all networks and public
# network access is not turned off.
open(r) if {
	default_action(r) == "allow"
	not closed(r)
}

bypass(r) := b if {
	b := object.get(acls(r), "bypass", null)
	is_string(b)
} else := "None"

listed(r, key) := count(l) if {
	l := object.get(acls(r), key, null)
	is_array(l)
} else := 0

results contains {"resource": r.id, "status": "error", "message": "the storage account's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("public network access is %s", [object.get(settings(r), "publicNetworkAccess", "")])} if {
	some r in input.resources
	closed(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("firewall default action is Deny (%d IP rule(s), %d virtual network rule(s), bypass: %s)", [listed(r, "ipRules"), listed(r, "virtualNetworkRules"), bypass(r)])} if {
	some r in input.resources
	not closed(r)
	firewalled(r)
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("firewall default action is Allow and public network access is %s: the endpoints accept connections from any network", [object.get(settings(r), "publicNetworkAccess", "not set")])} if {
	some r in input.resources
	open(r)
}

results contains {"resource": r.id, "status": "error", "message": "neither publicNetworkAccess Disabled nor networkAcls.defaultAction was found in the collected account: not collected"} if {
	some r in input.resources
	settings(r)
	not closed(r)
	not firewalled(r)
	not open(r)
}
