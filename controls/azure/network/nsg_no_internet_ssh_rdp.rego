package controls.azure.network.nsg_no_internet_ssh_rdp

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# The NSG's own rules (defaultSecurityRules only admit VirtualNetwork and
# AzureLoadBalancer inbound, never the internet).
rules(r) := rs if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
	rs := object.get(s, "securityRules", null)
	is_array(rs)
}

# ARM nests each rule's settings under `properties`; accept a flattened rule too.
spec(rule) := s if {
	is_object(rule)
	s := object.get(rule, "properties", null)
	is_object(s)
} else := rule if {
	is_object(rule)
} else := {}

name(rule) := n if {
	is_object(rule)
	n := str(rule, "name")
	n != ""
} else := "?"

str(obj, key) := v if {
	v := object.get(obj, key, null)
	is_string(v)
} else := ""

strings(obj, key) := [v | some v in l; is_string(v)] if {
	l := object.get(obj, key, null)
	is_array(l)
} else := []

# Every source prefix and port range of a rule, singular and plural fields together.
sources(s) := [p | some p in array.concat([str(s, "sourceAddressPrefix")], strings(s, "sourceAddressPrefixes")); p != ""]

port_ranges(s) := [p | some p in array.concat([str(s, "destinationPortRange")], strings(s, "destinationPortRanges")); p != ""]

internet(p) if lower(p) in {"*", "internet", "any"}

internet(p) if endswith(p, "/0") # 0.0.0.0/0, ::/0

internet(p) if p == "0.0.0.0"

# Port ranges are strings: "*", "22", "20-25". Without split/to_number, a range "a-b"
# covers a port when a matches "<= port" and b matches ">= port" as regexes.
at_most := {
	22: `0*([0-9]|1[0-9]|2[0-2])`,
	3389: `0*([0-9]{1,3}|[12][0-9]{3}|3[0-2][0-9]{2}|33[0-7][0-9]|338[0-9])`,
}

at_least := {
	22: `0*(2[2-9]|[3-9][0-9]|[1-9][0-9]{2,4})`,
	3389: `0*(3389|339[0-9]|3[4-9][0-9]{2}|[4-9][0-9]{3}|[1-9][0-9]{4})`,
}

covers(range, _) if range == "*"

covers(range, port) if range == sprintf("%d", [port])

covers(range, port) if regex.match(sprintf("^%s-%s$", [at_most[port], at_least[port]]), range)

service := {22: "SSH", 3389: "RDP"}

# One line per (rule, port) that admits the internet.
exposures(r) := {sprintf("rule %s (priority %v) allows %s %d from %s", [name(rule), object.get(s, "priority", "?"), service[port], port, concat(", ", [p | some p in sources(s); internet(p)])]) |
	some rule in rules(r)
	s := spec(rule)
	lower(str(s, "access")) == "allow"
	lower(str(s, "direction")) == "inbound"
	lower(str(s, "protocol")) in {"tcp", "*"}
	some src in sources(s)
	internet(src)
	some port in [22, 3389]
	some range in port_ranges(s)
	covers(range, port)
}

# Application security groups as the source: members of the virtual network, never the
# internet.
source_groups(s) := l if {
	l := object.get(s, "sourceApplicationSecurityGroups", null)
	is_array(l)
} else := []

known(s, key) if str(s, key) != ""

# What a rule's present fields already prove harmless, whatever its missing ones say.
harmless(s) if {
	known(s, "access")
	lower(str(s, "access")) != "allow"
}

harmless(s) if {
	known(s, "direction")
	lower(str(s, "direction")) != "inbound"
}

harmless(s) if {
	known(s, "protocol")
	not lower(str(s, "protocol")) in {"tcp", "*"}
}

harmless(s) if {
	count(sources(s)) + count(source_groups(s)) > 0
	not some_internet_source(s)
}

harmless(s) if {
	count(port_ranges(s)) > 0
	not some_admin_port(s)
}

some_internet_source(s) if {
	some p in sources(s)
	internet(p)
}

some_admin_port(s) if {
	some range in port_ranges(s)
	some port in [22, 3389]
	covers(range, port)
}

lacks(s) if not known(s, "access")

lacks(s) if not known(s, "direction")

lacks(s) if not known(s, "protocol")

lacks(s) if count(sources(s)) + count(source_groups(s)) == 0

lacks(s) if count(port_ranges(s)) == 0

# Rules that might expose SSH or RDP but miss a field needed to tell.
incomplete(r) := {name(rule) |
	some rule in rules(r)
	s := spec(rule)
	lacks(s)
	not harmless(s)
}

results contains {"resource": r.id, "status": "error", "message": "the security rules of this network security group were not collected"} if {
	some r in input.resources
	not rules(r)
}

results contains {"resource": r.id, "status": "fail", "message": concat("; ", exposures(r))} if {
	some r in input.resources
	count(exposures(r)) > 0
}

results contains {"resource": r.id, "status": "error", "message": sprintf("rule(s) %s lack the access, direction, protocol, source or port needed to judge them", [concat(", ", incomplete(r))])} if {
	some r in input.resources
	rules(r)
	count(exposures(r)) == 0
	count(incomplete(r)) > 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("none of the %d security rule(s) allows SSH (22) or RDP (3389) from the internet", [count(rules(r))])} if {
	some r in input.resources
	rules(r)
	count(exposures(r)) == 0
	count(incomplete(r)) == 0
}
