package controls.aws.iam.password_policy_min_length

minimum := 14

collected(p) if "password_policy" in object.keys(p)

results contains {"resource": r.id, "status": "error", "message": "the password policy was not collected"} if {
	some r in input.resources
	not collected(r.properties)
}

results contains {"resource": r.id, "status": "error", "message": "the password policy was collected but is not an object"} if {
	some r in input.resources
	policy := r.properties.password_policy
	policy != null
	not is_object(policy)
}

# `password_policy: null` is positive evidence that no policy is set (NoSuchEntity).
results contains {"resource": r.id, "status": "fail", "message": "no account password policy: AWS then accepts 8-character passwords"} if {
	some r in input.resources
	collected(r.properties)
	r.properties.password_policy == null
}

results contains {"resource": r.id, "status": status, "message": message} if {
	some r in input.resources
	is_object(r.properties.password_policy)
	length := object.get(r.properties.password_policy, "MinimumPasswordLength", 0)
	status := verdict(length)
	message := sprintf("minimum password length is %d (at least %d required)", [length, minimum])
}

verdict(length) := "pass" if {
	is_number(length)
	length >= minimum
}

verdict(length) := "fail" if {
	is_number(length)
	length < minimum
}
