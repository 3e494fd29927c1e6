package controls.aws.config.recorder_all_resources

# Global resource types (IAM) are recorded in one region only, as AWS has advised since
# 2023; whether some region of the account records them cannot be judged from one
# region, so `includeGlobalResourceTypes` is reported in the message, never judged.

listed(p) if is_array(p.recorders)

status_of(rec) := s if {
	s := object.get(rec, "status", {})
	s != null
} else := {}

group_of(rec) := g if {
	g := object.get(rec, "recordingGroup", {})
	g != null
} else := {}

is_recording(rec) if status_of(rec).recording == true

status_known(rec) if is_boolean(object.get(status_of(rec), "recording", null))

all_supported(rec) if group_of(rec).allSupported == true

globals(rec) := "including global resource types" if {
	group_of(rec).includeGlobalResourceTypes == true
} else := "global resource types not recorded here (record them in one region of the account)"

recording(p) := [rec | some rec in p.recorders; is_recording(rec)]

complete(p) := [sprintf("%s records all supported resource types, %s", [object.get(rec, "name", "(unnamed)"), globals(rec)]) |
	some rec in recording(p)
	all_supported(rec)
]

strategy(rec) := object.get(object.get(group_of(rec), "recordingStrategy", {}), "useOnly", "not set")

scope_of(rec) := sprintf("excludes %d type(s)", [count(object.get(object.get(group_of(rec), "exclusionByResourceTypes", {}), "resourceTypes", []))]) if {
	strategy(rec) == "EXCLUSION_BY_RESOURCE_TYPES"
} else := sprintf("%d type(s) listed", [count(object.get(group_of(rec), "resourceTypes", []))])

partial(p) := [sprintf("%s records only selected resource types (allSupported %v, strategy %s, %s)", [
	object.get(rec, "name", "(unnamed)"),
	object.get(group_of(rec), "allSupported", "not set"),
	strategy(rec),
	scope_of(rec),
]) |
	some rec in recording(p)
	not all_supported(rec)
]

stopped(p) := [sprintf("%s (last status %s)", [object.get(rec, "name", "(unnamed)"), object.get(status_of(rec), "lastStatus", "unknown")]) |
	some rec in p.recorders
	status_known(rec)
	not is_recording(rec)
]

unknown(p) := [object.get(rec, "name", "(unnamed)") | some rec in p.recorders; not status_known(rec)]

results contains {"resource": r.id, "status": "error", "message": "the configuration recorders were not collected (describe-configuration-recorders)"} if {
	some r in input.resources
	not listed(r.properties)
}

results contains {"resource": r.id, "status": "fail", "message": "no configuration recorder in this region"} if {
	some r in input.resources
	listed(r.properties)
	count(r.properties.recorders) == 0
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("recorder %s", [concat("; ", complete(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(complete(r.properties)) > 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("recorder %s", [concat("; ", partial(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(complete(r.properties)) == 0
	count(partial(r.properties)) > 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("no recorder is recording (stopped: %s)", [concat(", ", stopped(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(r.properties.recorders) > 0
	count(recording(r.properties)) == 0
	count(unknown(r.properties)) == 0
}

results contains {"resource": r.id, "status": "error", "message": sprintf("the status of recorder %s was not collected (describe-configuration-recorder-status)", [concat(", ", unknown(r.properties))])} if {
	some r in input.resources
	listed(r.properties)
	count(recording(r.properties)) == 0
	count(unknown(r.properties)) > 0
}
