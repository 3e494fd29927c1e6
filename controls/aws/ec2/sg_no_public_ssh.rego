package controls.aws.ec2.sg_no_public_ssh

port := 22

world := {"0.0.0.0/0", "::/0"}

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

collected(r) if is_array(object.get(config(r), "ipPermissions", null))

# Open sources of one rule: `ipv4Ranges` / `ipv6Ranges`, and the older `ipRanges` list.
sources(perm) := {cidr |
	some range in object.get(perm, "ipv4Ranges", [])
	cidr := object.get(range, "cidrIp", "")
	cidr in world
} | {cidr |
	some range in object.get(perm, "ipv6Ranges", [])
	cidr := object.get(range, "cidrIpv6", "")
	cidr in world
} | {cidr |
	some cidr in object.get(perm, "ipRanges", [])
	cidr in world
}

protocol(perm) := lower(sprintf("%v", [object.get(perm, "ipProtocol", "")]))

covers(perm) if protocol(perm) in {"-1", "all"}

covers(perm) if {
	protocol(perm) in {"tcp", "6"}
	object.get(perm, "fromPort", 65536) <= port
	port <= object.get(perm, "toPort", -1)
}

describe(perm) := "all traffic" if {
	protocol(perm) in {"-1", "all"}
} else := sprintf("%s %d", [protocol(perm), perm.fromPort]) if {
	perm.fromPort == perm.toPort
} else := sprintf("%s %d-%d", [protocol(perm), perm.fromPort, perm.toPort])

open(r) := [sprintf("%s from %s", [describe(perm), concat(", ", sort_set(sources(perm)))]) |
	some perm in config(r).ipPermissions
	covers(perm)
	count(sources(perm)) > 0
]

sort_set(s) := [x | some x in s]

results contains {"resource": r.id, "status": "error", "message": "the security group's ingress rules were not recorded"} if {
	some r in input.resources
	not collected(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("no ingress rule opens port %d to 0.0.0.0/0 or ::/0", [port])} if {
	some r in input.resources
	collected(r)
	count(open(r)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("port %d open to the internet: %s", [port, concat("; ", open(r))])} if {
	some r in input.resources
	collected(r)
	count(open(r)) > 0
}
