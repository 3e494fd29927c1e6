package controls.aws.iam.support_role_exists

# AWSSupportAccess, in any partition (aws, aws-us-gov, aws-cn).
support_policy(arn) if {
	is_string(arn)
	regex.match(`^arn:aws[a-z-]*:iam::aws:policy/AWSSupportAccess$`, arn)
}

collected(r) if is_array(object.get(r.properties, "attached_policies", null))

support_roles := [object.get(r.properties, "name", r.id) |
	some r in input.resources
	collected(r)
	some p in r.properties.attached_policies
	support_policy(object.get(p, "arn", null))
]

uncollected := [r.id | some r in input.resources; not collected(r)]

results contains {"resource": input.scope.id, "status": "pass", "message": sprintf("AWSSupportAccess is attached to role %s", [concat(", ", support_roles)])} if {
	count(support_roles) > 0
}

results contains {"resource": input.scope.id, "status": "fail", "message": sprintf("no role has AWSSupportAccess attached (%d roles checked)", [count(input.resources)])} if {
	count(support_roles) == 0
	count(uncollected) == 0
}

results contains {"resource": input.scope.id, "status": "error", "message": sprintf("no role seen with AWSSupportAccess, but the attached policies of %d roles were not collected", [count(uncollected)])} if {
	count(support_roles) == 0
	count(uncollected) > 0
}
