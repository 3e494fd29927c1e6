package controls.aws.s3.bucket_versioning

# Each bucket is judged once, by the first case that holds. Config records
# `BucketVersioningConfiguration` for every bucket (`status: Off` when versioning was
# never enabled), so its absence means it was not collected; looked up in one call
# (the path form of object.get gives the default where any step is missing).
results := [{"resource": r.id, "status": v.status, "message": v.message} |
	some r in input.resources
	v := verdict(object.get(r.properties, ["supplementaryConfiguration", "BucketVersioningConfiguration"], null))
]

verdict(versioning) := {"status": "error", "message": "the bucket's versioning configuration was not recorded"} if {
	not is_object(versioning)
} else := {"status": "pass", "message": "versioning is enabled"} if {
	versioning.status == "Enabled"
} else := {"status": "fail", "message": "versioning is suspended: new writes overwrite and deletes remove objects"} if {
	versioning.status == "Suspended"
} else := {"status": "fail", "message": "versioning has never been enabled (status Off)"} if {
	object.get(versioning, "status", null) in {"Off", null}
} else := {"status": "error", "message": sprintf("unrecognised versioning status \"%v\"", [versioning.status])}
