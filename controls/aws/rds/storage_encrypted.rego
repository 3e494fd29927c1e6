package controls.aws.rds.storage_encrypted

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

name(r) := n if {
	n := object.get(config(r), "dBInstanceIdentifier", null)
	is_string(n)
} else := r.id

flag(r) := object.get(config(r), "storageEncrypted", null)

key(r) := sprintf(" with KMS key %s", [k]) if {
	k := object.get(config(r), "kmsKeyId", null)
	is_string(k)
	k != ""
} else := ""

results contains {"resource": r.id, "status": "error", "message": "the instance's storageEncrypted was not recorded"} if {
	some r in input.resources
	not is_boolean(flag(r))
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%s: storage encrypted%s", [name(r), key(r)])} if {
	some r in input.resources
	flag(r) == true
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s (%s): storage not encrypted", [name(r), object.get(config(r), "engine", "unknown engine")])} if {
	some r in input.resources
	flag(r) == false
}
