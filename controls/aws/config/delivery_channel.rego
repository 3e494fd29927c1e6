package controls.aws.config.delivery_channel

listed(p) if is_array(p.delivery_channels)

bucket(ch) := b if {
	b := object.get(ch, "s3BucketName", "")
	is_string(b)
	b != ""
}

to_s3(p) := [sprintf("%s (s3://%s)", [object.get(ch, "name", "(unnamed)"), bucket(ch)]) |
	some ch in p.delivery_channels
	bucket(ch)
]

# The recorder's status names a delivery failure when the channel's bucket is gone.
missing_bucket(p) := [sprintf("recorder %s reports %s", [object.get(rec, "name", "(unnamed)"), object.get(rec.status, "lastErrorCode", "")]) |
	some rec in object.get(p, "recorders", [])
	is_object_like(rec.status)
	object.get(rec.status, "lastErrorCode", "") in {"NoSuchBucketException", "NoSuchBucket"}
]

is_object_like(x) if {
	x != null
	_ = object.keys(x)
}

results contains {"resource": r.id, "status": "error", "message": "the delivery channels were not collected (describe-delivery-channels)"} if {
	some r in input.resources
	not listed(r.properties)
}

results contains {"resource": r.id, "status": "fail", "message": "no delivery channel in this region: configuration history and snapshots are not delivered to S3"} if {
	some r in input.resources
	listed(r.properties)
	count(r.properties.delivery_channels) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("%d delivery channel(s), none names an S3 bucket", [count(r.properties.delivery_channels)])} if {
	some r in input.resources
	listed(r.properties)
	count(r.properties.delivery_channels) > 0
	count(to_s3(r.properties)) == 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("delivery channel %s", [concat(", ", to_s3(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(to_s3(r.properties)) > 0
	count(missing_bucket(r.properties)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("delivery channel %s, but the bucket does not exist: %s", [concat(", ", to_s3(r.properties)), concat("; ", missing_bucket(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(to_s3(r.properties)) > 0
	count(missing_bucket(r.properties)) > 0
}
