package controls.aws.kms.key_rotation

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

manager(r) := object.get(config(r), "keyManager", null)

state(r) := object.get(config(r), "keyState", null)

spec(r) := s if {
	s := object.get(config(r), "keySpec", null)
	s != null
} else := object.get(config(r), "customerMasterKeySpec", null)

origin(r) := o if {
	o := object.get(config(r), "origin", null)
	is_string(o)
} else := "AWS_KMS"

known(r) if {
	manager(r) != null
	state(r) != null
	spec(r) != null
}

# Why automatic rotation does not apply to a key, if it does not.
exempt(r) := "AWS managed key: AWS rotates it every year" if {
	manager(r) == "AWS"
} else := sprintf("key state is %s", [state(r)]) if {
	state(r) != "Enabled"
} else := sprintf("key spec %s: automatic rotation applies to symmetric encryption keys only", [spec(r)]) if {
	spec(r) != "SYMMETRIC_DEFAULT"
} else := sprintf("key material origin %s: automatic rotation is not supported", [origin(r)]) if {
	origin(r) != "AWS_KMS"
}

in_scope(r) if {
	known(r)
	manager(r) == "CUSTOMER"
	not exempt(r)
}

# A boolean in delivered snapshots; the API's supplementaryConfiguration map may carry
# it as the string "true" / "false".
rotation(r) := v if {
	s := object.get(r.properties, "supplementaryConfiguration", null)
	s != null
	raw := object.get(s, "KeyRotationStatus", null)
	v := as_bool(raw)
} else := null

as_bool(x) := x if is_boolean(x)

as_bool(x) := lower(x) == "true" if {
	is_string(x)
	lower(x) in {"true", "false"}
}

describe(r) := sprintf("customer managed key %s", [d]) if {
	d := object.get(config(r), "description", "")
	is_string(d)
	d != ""
} else := "customer managed key"

results contains {"resource": r.id, "status": "error", "message": "the key's manager, state or spec was not recorded"} if {
	some r in input.resources
	not known(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": msg} if {
	some r in input.resources
	known(r)
	msg := exempt(r)
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unrecognised key manager \"%v\"", [manager(r)])} if {
	some r in input.resources
	known(r)
	not manager(r) in {"AWS", "CUSTOMER"}
	not exempt(r)
}

results contains {"resource": r.id, "status": "error", "message": "the key's rotation status (KeyRotationStatus) was not recorded"} if {
	some r in input.resources
	in_scope(r)
	not is_boolean(rotation(r))
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%s: automatic rotation enabled", [describe(r)])} if {
	some r in input.resources
	in_scope(r)
	rotation(r) == true
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%s: automatic rotation disabled", [describe(r)])} if {
	some r in input.resources
	in_scope(r)
	rotation(r) == false
}
