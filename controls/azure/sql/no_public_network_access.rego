package controls.azure.sql.no_public_network_access

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

access(r) := v if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
	v := object.get(s, "publicNetworkAccess", null)
	is_string(v)
}

# Disabled: private endpoints only. SecuredByPerimeter: a network security perimeter's
# access rules decide, public access is otherwise denied.
closed := {"disabled", "securedbyperimeter"}

results contains {"resource": r.id, "status": "error", "message": "publicNetworkAccess was not collected for this server"} if {
	some r in input.resources
	not access(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("public network access is %s: the server is reachable through private endpoints only", [access(r)])} if {
	some r in input.resources
	lower(access(r)) == "disabled"
}

results contains {"resource": r.id, "status": "pass", "message": "public network access is SecuredByPerimeter: only the network security perimeter's access rules admit public traffic"} if {
	some r in input.resources
	lower(access(r)) == "securedbyperimeter"
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("public network access is %s: the server's public endpoint is reachable from the internet, limited only by its firewall rules", [access(r)])} if {
	some r in input.resources
	not lower(access(r)) in closed
}
