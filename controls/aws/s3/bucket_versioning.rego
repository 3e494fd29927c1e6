package controls.aws.s3.bucket_versioning

# Each bucket is judged once, by the first case that holds. Config records
# `BucketVersioningConfiguration` for every bucket (`status: Off` when versioning was
# never enabled), so its absence means it was not collected; looked up in one call
# (the path form of object.get gives the default where any step is missing).
# The verdict is the result itself, not an object to build it from.
results := [verdict(r.id, object.get(r.properties, ["supplementaryConfiguration", "BucketVersioningConfiguration"], null)) | some r in input.resources]

verdict(id, versioning) := {"resource": id, "status": "error", "message": "the bucket's versioning configuration was not recorded"} if {
	not is_object(versioning)
} else := {"resource": id, "status": "pass", "message": "versioning is enabled"} if {
	versioning.status == "Enabled"
} else := {"resource": id, "status": "fail", "message": "versioning is suspended: new writes overwrite and deletes remove objects"} if {
	versioning.status == "Suspended"
} else := {"resource": id, "status": "fail", "message": "versioning has never been enabled (status Off)"} if {
	object.get(versioning, "status", null) in {"Off", null}
} else := {"resource": id, "status": "error", "message": sprintf("unrecognised versioning status \"%v\"", [versioning.status])}
