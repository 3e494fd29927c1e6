package controls.aws.ec2.default_sg_closed

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

group_name(r) := n if {
	n := object.get(config(r), "groupName", null)
	is_string(n)
} else := n if {
	n := object.get(r.properties, "resourceName", null)
	is_string(n)
}

group_id(r) := object.get(config(r), "groupId", "")

is_default(r) if group_name(r) == "default"

collected(r) if {
	is_array(object.get(config(r), "ipPermissions", null))
	is_array(object.get(config(r), "ipPermissionsEgress", null))
}

protocol(perm) := lower(sprintf("%v", [object.get(perm, "ipProtocol", "")]))

ports(perm) := "all traffic" if {
	protocol(perm) in {"-1", "all"}
} else := sprintf("%s %d", [protocol(perm), perm.fromPort]) if {
	perm.fromPort == perm.toPort
} else := sprintf("%s %d-%d", [protocol(perm), perm.fromPort, perm.toPort]) if {
	is_number(perm.fromPort)
} else := protocol(perm)

peer_name(r, g) := sprintf("%s (itself)", [g]) if g == group_id(r)

peer_name(r, g) := g if g != group_id(r)

peers(r, perm) := array.concat(
	array.concat(
		[c.cidrIp | some c in object.get(perm, "ipv4Ranges", [])],
		[c.cidrIpv6 | some c in object.get(perm, "ipv6Ranges", [])],
	),
	array.concat(
		[peer_name(r, p.groupId) | some p in object.get(perm, "userIdGroupPairs", [])],
		[p.prefixListId | some p in object.get(perm, "prefixListIds", [])],
	),
)

describe(r, perm, word) := sprintf("%s %s %s", [ports(perm), word, concat(", ", peers(r, perm))]) if {
	count(peers(r, perm)) > 0
} else := ports(perm)

ingress(r) := [describe(r, perm, "from") | some perm in config(r).ipPermissions]

egress(r) := [describe(r, perm, "to") | some perm in config(r).ipPermissionsEgress]

results contains {"resource": r.id, "status": "error", "message": "the security group's name was not recorded"} if {
	some r in input.resources
	not group_name(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("not a default security group (%s)", [n])} if {
	some r in input.resources
	n := group_name(r)
	n != "default"
}

results contains {"resource": r.id, "status": "error", "message": "the default security group's rules were not recorded"} if {
	some r in input.resources
	is_default(r)
	not collected(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("the default security group of %s has no inbound and no outbound rules", [object.get(config(r), "vpcId", "its VPC")])} if {
	some r in input.resources
	is_default(r)
	collected(r)
	count(ingress(r)) + count(egress(r)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("the default security group of %s still has rules: inbound [%s], outbound [%s]", [object.get(config(r), "vpcId", "its VPC"), concat("; ", ingress(r)), concat("; ", egress(r))])} if {
	some r in input.resources
	is_default(r)
	collected(r)
	count(ingress(r)) + count(egress(r)) > 0
}
