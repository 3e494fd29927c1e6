package controls.aws.iam.password_policy_expiry

max_age_days := 90

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
results contains {"resource": r.id, "status": "fail", "message": "no account password policy: passwords never expire"} if {
	some r in input.resources
	collected(r.properties)
	r.properties.password_policy == null
}

results contains {"resource": r.id, "status": "fail", "message": "the password policy does not expire passwords"} if {
	some r in input.resources
	policy := r.properties.password_policy
	is_object(policy)
	object.get(policy, "ExpirePasswords", false) != true
}

results contains {"resource": r.id, "status": status, "message": message} if {
	some r in input.resources
	policy := r.properties.password_policy
	is_object(policy)
	policy.ExpirePasswords == true
	age := object.get(policy, "MaxPasswordAge", 0)
	status := verdict(age)
	message := sprintf("passwords expire after %d days (at most %d required)", [age, max_age_days])
}

verdict(age) := "pass" if {
	is_number(age)
	age > 0
	age <= max_age_days
}

verdict(age) := "fail" if {
	is_number(age)
	age > max_age_days
}

verdict(age) := "fail" if {
	is_number(age)
	age <= 0
}
