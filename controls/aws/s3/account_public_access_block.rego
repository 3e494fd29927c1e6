package controls.aws.s3.account_public_access_block

flags := ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"]

config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

off(r) := [f | some f in flags; object.get(config(r), f, false) != true]

results contains {"resource": r.id, "status": "error", "message": "the account-level public access block's configuration was not recorded"} if {
	some r in input.resources
	not config(r)
}

results contains {"resource": r.id, "status": "pass", "message": "all four account-level Block Public Access settings are on"} if {
	some r in input.resources
	config(r)
	count(off(r)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("account-level Block Public Access: %s off", [concat(", ", off(r))])} if {
	some r in input.resources
	config(r)
	count(off(r)) > 0
}

# Config records no AccountPublicAccessBlock item while the account has none (S3
# answers NoSuchPublicAccessBlockConfiguration): a listing that positively found none
# means the account-level block is not set. The engine turns an unread listing into an
# error before this rule runs.
results contains {"resource": input.scope.id, "status": "fail", "message": "no account-level Block Public Access: AWS Config recorded no account public access block in this scope"} if {
	count(input.resources) == 0
}
