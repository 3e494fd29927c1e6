package controls.azure.authorization.no_guest_owners

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

# Roles that control the scope and who may access it, by built-in definition name (GUID).
privileged := {
	"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
	"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
	"f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
} else := {}

str(obj, key) := v if {
	v := object.get(obj, key, null)
	is_string(v)
	v != ""
}

guid_role(r) := privileged[guid] if {
	d := lower(str(settings(r), "roleDefinitionId"))
	some guid, _ in privileged
	endswith(d, concat("/", ["", guid]))
}

# The role's name: the resolved role_name, else the built-in role its definition ID names,
# else (a definition ID that is none of the privileged built-ins) "another role".
role(r) := str(arm(r), "role_name")

role(r) := guid_role(r) if not str(arm(r), "role_name")

role(r) := "another role" if {
	not str(arm(r), "role_name")
	str(settings(r), "roleDefinitionId")
	not guid_role(r)
}

is_privileged(r) if role(r) in {name | some name in privileged}

principal_type(r) := str(settings(r), "principalType")

where(r) := str(settings(r), "scope")

where(r) := "unknown scope" if not str(settings(r), "scope")

results contains {"resource": r.id, "status": "error", "message": "neither the role name nor the role definition of this assignment was collected"} if {
	some r in input.resources
	not role(r)
}

results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("%s is not an owner-level role", [role(r)])} if {
	some r in input.resources
	role(r)
	not is_privileged(r)
}

results contains {"resource": r.id, "status": "error", "message": sprintf("%s assignment without a principal type: cannot tell a user from a group or an application", [role(r)])} if {
	some r in input.resources
	is_privileged(r)
	not principal_type(r)
}

# Guest membership of groups is not visible in role assignments: a separate check.
results contains {"resource": r.id, "status": "not_applicable", "message": sprintf("%s is held by a %s, not a user", [role(r), principal_type(r)])} if {
	some r in input.resources
	is_privileged(r)
	principal_type(r) != "User"
}

results contains {"resource": r.id, "status": "error", "message": sprintf("%s is held by a user whose name was not collected: cannot tell a guest from a member", [role(r)])} if {
	some r in input.resources
	is_privileged(r)
	principal_type(r) == "User"
	not str(arm(r), "principal_name")
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("guest user %s holds %s at %s", [arm(r).principal_name, role(r), where(r)])} if {
	some r in input.resources
	is_privileged(r)
	principal_type(r) == "User"
	contains(lower(str(arm(r), "principal_name")), "#ext#")
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%s at %s is held by member user %s", [role(r), where(r), arm(r).principal_name])} if {
	some r in input.resources
	is_privileged(r)
	principal_type(r) == "User"
	not contains(lower(str(arm(r), "principal_name")), "#ext#")
}
