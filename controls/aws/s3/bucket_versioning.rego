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

results contains {"resource": r.id, "status": "error", "message": "the bucket's versioning configuration was not recorded"} if {
	some r in input.resources
	not versioning(r)
}

results contains {"resource": r.id, "status": "pass", "message": "versioning is enabled"} if {
	some r in input.resources
	state(r) == "Enabled"
}

results contains {"resource": r.id, "status": "fail", "message": "versioning is suspended: new writes overwrite and deletes remove objects"} if {
	some r in input.resources
	state(r) == "Suspended"
}

results contains {"resource": r.id, "status": "fail", "message": "versioning has never been enabled (status Off)"} if {
	some r in input.resources
	state(r) in {"Off", null}
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unrecognised versioning status \"%v\"", [state(r)])} if {
	some r in input.resources
	versioning(r)
	not state(r) in {"Enabled", "Suspended", "Off", null}
}
