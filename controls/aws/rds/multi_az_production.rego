package controls.aws.rds.multi_az_production

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

name(r) := n if {
	n := object.get(config(r), "dBInstanceIdentifier", null)
	is_string(n)
} else := r.id

tags_known(r) if {
	is_object(r.properties.tags)
}

production(r) if {
	v := r.properties.tags[k]
	lower(k) in {"environment", "env"}
	is_string(v)
	lower(v) in {"production", "prod"}
}

env_tags(r) := [sprintf("%s=%s", [k, v]) |
	v := r.properties.tags[k]
	lower(k) in {"environment", "env"}
]

env_text(r) := concat(", ", env_tags(r)) if count(env_tags(r)) > 0

env_text(r) := "no environment/env tag" if count(env_tags(r)) == 0

# Members of an Aurora or Multi-AZ DB cluster get their availability from the cluster.
cluster(r) := c if {
	c := object.get(config(r), "dBClusterIdentifier", null)
	is_string(c)
	c != ""
}

flag(r) := object.get(config(r), "multiAZ", null)

standby(r) := z if {
	z := object.get(config(r), "secondaryAvailabilityZone", null)
	is_string(z)
} else := "another zone"

results contains {"resource": r.id, "status": "error", "message": "the instance's tags were not recorded"} if {
	some r in input.resources
	not tags_known(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("%s is not tagged as production (%s)", [name(r), env_text(r)])} if {
	some r in input.resources
	tags_known(r)
	not production(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("%s is a member of DB cluster %s: availability is the cluster's", [name(r), cluster(r)])} if {
	some r in input.resources
	tags_known(r)
	production(r)
	cluster(r)
}

results contains {"resource": r.id, "status": "error", "message": "the production instance's multiAZ was not recorded"} if {
	some r in input.resources
	tags_known(r)
	production(r)
	not cluster(r)
	not is_boolean(flag(r))
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("production instance %s is Multi-AZ (standby in %s)", [name(r), standby(r)])} if {
	some r in input.resources
	tags_known(r)
	production(r)
	not cluster(r)
	flag(r) == true
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("production instance %s (%s) is single-AZ, in %s only", [name(r), env_text(r), object.get(config(r), "availabilityZone", "one zone")])} if {
	some r in input.resources
	tags_known(r)
	production(r)
	not cluster(r)
	flag(r) == false
}
