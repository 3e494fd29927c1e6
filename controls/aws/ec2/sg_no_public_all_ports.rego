package controls.aws.ec2.sg_no_public_all_ports

world := {"0.0.0.0/0", "::/0"}

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

collected(r) if is_array(object.get(config(r), "ipPermissions", null))

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

names := {"6": "tcp", "17": "udp", "tcp": "tcp", "udp": "udp"}

all_ports(perm) if protocol(perm) in {"-1", "all"}

all_ports(perm) if {
	names[protocol(perm)]
	object.get(perm, "fromPort", 1) <= 0
	object.get(perm, "toPort", 0) >= 65535
}

describe(perm) := "all traffic" if {
	protocol(perm) in {"-1", "all"}
} else := sprintf("every %s port (%d-%d)", [names[protocol(perm)], perm.fromPort, perm.toPort])

open(r) := [sprintf("%s from %s", [describe(perm), concat(", ", [c | some c in sources(perm)])]) |
	some perm in config(r).ipPermissions
	all_ports(perm)
	count(sources(perm)) > 0
]

results contains {"resource": r.id, "status": "error", "message": "the security group's ingress rules were not recorded"} if {
	some r in input.resources
	not collected(r)
}

results contains {"resource": r.id, "status": "pass", "message": "no ingress rule opens all ports to 0.0.0.0/0 or ::/0"} if {
	some r in input.resources
	collected(r)
	count(open(r)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("all ports open to the internet: %s", [concat("; ", open(r))])} if {
	some r in input.resources
	collected(r)
	count(open(r)) > 0
}
