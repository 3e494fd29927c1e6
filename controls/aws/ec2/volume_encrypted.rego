package controls.aws.ec2.volume_encrypted

config(r) := c if {
	c := object.get(r.properties, "configuration", null)
	c != null
}

flag(r) := object.get(config(r), "encrypted", null)

name(r) := sprintf("%s (%s)", [object.get(config(r), "volumeId", r.id), n]) if {
	n := object.get(object.get(r.properties, "tags", {}), "Name", null)
	is_string(n)
} else := object.get(config(r), "volumeId", r.id)

use(r) := sprintf("attached to %s", [concat(", ", ids)]) if {
	ids := [a.instanceId | some a in object.get(config(r), "attachments", []); is_string(a.instanceId)]
	count(ids) > 0
} else := "not attached"

key(r) := sprintf(" with KMS key %s", [k]) if {
	k := object.get(config(r), "kmsKeyId", null)
	is_string(k)
	k != ""
} else := ""

results contains {"resource": r.id, "status": "error", "message": "the volume's encrypted flag was not recorded"} if {
	some r in input.resources
	not is_boolean(flag(r))
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("volume %s is encrypted%s", [name(r), key(r)])} if {
	some r in input.resources
	flag(r) == true
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("volume %s is not encrypted (%s, %v GiB)", [name(r), use(r), object.get(config(r), "size", "?")])} if {
	some r in input.resources
	flag(r) == false
}
