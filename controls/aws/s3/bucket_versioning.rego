package controls.aws.s3.bucket_versioning

# Config records `BucketVersioningConfiguration` for every bucket (`status: Off` when
# versioning was never enabled), so its absence means it was not collected.
versioning(r) := v if {
	s := object.get(r.properties, "supplementaryConfiguration", null)
	s != null
	v := object.get(s, "BucketVersioningConfiguration", null)
	v != null
}

state(r) := object.get(versioning(r), "status", null)

# Each bucket is judged once, by the first case that holds.
results contains {"resource": r.id, "status": v.status, "message": v.message} if {
	some r in input.resources
	v := verdict(r)
}

verdict(r) := {"status": "error", "message": "the bucket's versioning configuration was not recorded"} if {
	not versioning(r)
} else := {"status": "pass", "message": "versioning is enabled"} if {
	state(r) == "Enabled"
} else := {"status": "fail", "message": "versioning is suspended: new writes overwrite and deletes remove objects"} if {
	state(r) == "Suspended"
} else := {"status": "fail", "message": "versioning has never been enabled (status Off)"} if {
	state(r) in {"Off", null}
} else := {"status": "error", "message": sprintf("unrecognised versioning status \"%v\"", [state(r)])}
