package controls.aws.s3.bucket_encryption

supplementary(r) := s if {
	s := object.get(r.properties, "supplementaryConfiguration", null)
	s != null
}

# Config leaves `ServerSideEncryptionConfiguration` out of the item when the bucket has
# no default encryption configuration.
has_config(r) if "ServerSideEncryptionConfiguration" in object.keys(supplementary(r))

algorithms(r) := [sprintf("%s%s", [d.sseAlgorithm, key(d)]) |
	some rule in object.get(object.get(supplementary(r), "ServerSideEncryptionConfiguration", {}), "rules", [])
	d := object.get(rule, "applyServerSideEncryptionByDefault", {})
	d != null
	is_string(object.get(d, "sseAlgorithm", null))
	d.sseAlgorithm != ""
]

key(d) := sprintf(" with %s", [d.kmsMasterKeyID]) if {
	is_string(object.get(d, "kmsMasterKeyID", null))
	d.kmsMasterKeyID != ""
} else := ""

captured(r) := sprintf(" (Config item of %s)", [t]) if {
	t := object.get(r.properties, "configurationItemCaptureTime", "")
	is_string(t)
	t != ""
} else := ""

# Each bucket is judged once, by the first case that holds.
results contains {"resource": r.id, "status": v.status, "message": v.message} if {
	some r in input.resources
	v := verdict(r)
}

verdict(r) := {"status": "error", "message": "the bucket's supplementary configuration (default encryption) was not recorded"} if {
	not supplementary(r)
} else := encryption(r, algorithms(r))

encryption(r, found) := {"status": "pass", "message": sprintf("default encryption: %s", [concat(", ", found)])} if {
	count(found) > 0
} else := {"status": "fail", "message": sprintf("no default encryption configuration recorded for the bucket%s: objects written before S3's January 2023 SSE-S3 default may be unencrypted, and nothing shows the setting", [captured(r)])} if {
	not has_config(r)
} else := {"status": "fail", "message": "the default encryption configuration names no algorithm"}
