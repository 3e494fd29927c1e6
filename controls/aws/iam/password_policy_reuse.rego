package controls.aws.iam.password_policy_reuse

minimum := 24

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
results contains {"resource": r.id, "status": "fail", "message": "no account password policy: users may reuse any previous password"} if {
	some r in input.resources
	collected(r.properties)
	r.properties.password_policy == null
}

results contains {"resource": r.id, "status": status, "message": message} if {
	some r in input.resources
	policy := r.properties.password_policy
	is_object(policy)
	remembered := object.get(policy, "PasswordReusePrevention", 0)
	status := verdict(remembered)
	message := describe(remembered)
}

verdict(n) := "pass" if {
	is_number(n)
	n >= minimum
}

verdict(n) := "fail" if {
	is_number(n)
	n < minimum
}

describe(0) := sprintf("password reuse prevention is not set (at least %d previous passwords required)", [minimum])

describe(n) := sprintf("password reuse prevention remembers %d previous passwords (at least %d required)", [n, minimum]) if n != 0
