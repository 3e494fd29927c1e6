package controls.aws.iam.password_policy_complexity

# Each required character class: the policy key, and how a message names it.
classes := [
	{"key": "RequireSymbols", "name": "symbols"},
	{"key": "RequireNumbers", "name": "numbers"},
	{"key": "RequireUppercaseCharacters", "name": "uppercase letters"},
	{"key": "RequireLowercaseCharacters", "name": "lowercase letters"},
]

collected(p) if "password_policy" in object.keys(p)

missing(policy) := [c.name | some c in classes; object.get(policy, c.key, false) != true]

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
results contains {"resource": r.id, "status": "fail", "message": "no account password policy: no character class is required"} if {
	some r in input.resources
	collected(r.properties)
	r.properties.password_policy == null
}

results contains {"resource": r.id, "status": "pass", "message": "the password policy requires symbols, numbers, uppercase and lowercase letters"} if {
	some r in input.resources
	policy := r.properties.password_policy
	is_object(policy)
	count(missing(policy)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("the password policy does not require %s", [concat(", ", missing(policy))])} if {
	some r in input.resources
	policy := r.properties.password_policy
	is_object(policy)
	count(missing(policy)) > 0
}
