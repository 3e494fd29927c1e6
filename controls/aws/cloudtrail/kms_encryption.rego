package controls.aws.cloudtrail.kms_encryption

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

name(r) := object.get(config(r), "name", r.id)

# Config records a trail once, in its home region; a copy seen elsewhere (a "shadow"
# trail of a multi-region trail) is judged where it lives.
shadow(r) if {
	home := object.get(config(r), "homeRegion", r.region)
	is_string(home)
	home != r.region
}

field_recorded(r, k) if k in object.keys(config(r))

results contains {"resource": r.id, "status": "error", "message": "the trail's configuration was not recorded"} if {
	some r in input.resources
	not config(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("trail %s belongs to %s and is judged there", [name(r), config(r).homeRegion])} if {
	some r in input.resources
	shadow(r)
}

results contains {"resource": r.id, "status": "error", "message": sprintf("trail %s: %s was not recorded", [name(r), field])} if {
	some r in input.resources
	config(r)
	not shadow(r)
	not field_recorded(r, field)
}

field := "kmsKeyId"

judged(r) if {
	config(r)
	not shadow(r)
	field_recorded(r, field)
}

key(r) := k if {
	k := config(r).kmsKeyId
	is_string(k)
	k != ""
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("trail %s encrypts its logs with KMS key %s", [name(r), key(r)])} if {
	some r in input.resources
	judged(r)
	key(r)
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("trail %s has no KMS key: its logs get only the bucket's default encryption", [name(r)])} if {
	some r in input.resources
	judged(r)
	not key(r)
}
