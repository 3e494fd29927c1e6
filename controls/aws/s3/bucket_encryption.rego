package controls.aws.s3.bucket_encryption

# Config leaves `ServerSideEncryptionConfiguration` out of the item when the bucket has
# no default encryption configuration.
has_config(supplementary) if "ServerSideEncryptionConfiguration" in object.keys(supplementary)

# A missing key makes a reference undefined, which ends a body as false would: cheaper
# than object.get with a default, each builtin call being a good part of the cost.
algorithms(supplementary) := [algorithm(d) |
	rule := supplementary.ServerSideEncryptionConfiguration.rules[_]
	d := rule.applyServerSideEncryptionByDefault
	is_string(d.sseAlgorithm)
	d.sseAlgorithm != ""
]

# Formatted only when there is a key to name (most buckets have none).
algorithm(d) := sprintf("%s with %s", [d.sseAlgorithm, d.kmsMasterKeyID]) if {
	is_string(d.kmsMasterKeyID)
	d.kmsMasterKeyID != ""
} else := d.sseAlgorithm

captured(r) := sprintf(" (Config item of %s)", [t]) if {
	t := object.get(r.properties, "configurationItemCaptureTime", "")
	is_string(t)
	t != ""
} else := ""

# Each bucket is judged once, by the first case that holds, its supplementary
# configuration looked up once and handed on (looked up in every helper, it was most
# of this rule's time).
# The verdict is the result itself, not an object to build it from.
results := [verdict(r, object.get(r.properties, "supplementaryConfiguration", null)) | some r in input.resources]

verdict(r, supplementary) := {"resource": r.id, "status": "error", "message": "the bucket's supplementary configuration (default encryption) was not recorded"} if {
	not is_object(supplementary)
} else := encryption(r, supplementary, algorithms(supplementary))

encryption(r, supplementary, found) := {"resource": r.id, "status": "pass", "message": sprintf("default encryption: %s", [concat(", ", found)])} if {
	count(found) > 0
} else := {"resource": r.id, "status": "fail", "message": sprintf("no default encryption configuration recorded for the bucket%s: objects written before S3's January 2023 SSE-S3 default may be unencrypted, and nothing shows the setting", [captured(r)])} if {
	not has_config(supplementary)
} else := {"resource": r.id, "status": "fail", "message": "the default encryption configuration names no algorithm"}
