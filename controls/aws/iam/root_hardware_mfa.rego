package controls.aws.iam.root_hardware_mfa

# Whether root has MFA at all: the account summary is authoritative, the credential
# report's root row is the fallback (as in aws.iam.root_mfa).
has_summary(p) if {
	_ = p.summary.AccountMFAEnabled
}

known(p) if has_summary(p)

known(p) if is_boolean(p.root.mfa_active)

enabled(p) if p.summary.AccountMFAEnabled == 1

enabled(p) if {
	not has_summary(p)
	p.root.mfa_active == true
}

listed(p) if "virtual_mfa_devices" in object.keys(p)

# A virtual MFA device belongs to root when it is assigned to the root ARN, or carries
# the serial number AWS gives the root user's virtual device.
root_virtual(p) := [object.get(d, "SerialNumber", "no serial number") |
	some d in p.virtual_mfa_devices
	is_object(d)
	root_device(d)
]

root_device(d) if {
	user := object.get(d, "User", null)
	is_object(user)
	arn := object.get(user, "Arn", null)
	is_string(arn)
	endswith(arn, ":root")
}

root_device(d) if {
	serial := object.get(d, "SerialNumber", null)
	is_string(serial)
	endswith(serial, "/root-account-mfa-device")
}

results contains {"resource": r.id, "status": "error", "message": "neither the account summary nor the credential report was collected: cannot tell whether root has MFA"} if {
	some r in input.resources
	not known(r.properties)
}

results contains {"resource": r.id, "status": "fail", "message": "the root user has no MFA device at all (hardware or virtual)"} if {
	some r in input.resources
	known(r.properties)
	not enabled(r.properties)
}

results contains {"resource": r.id, "status": "error", "message": "root MFA is enabled, but the virtual MFA device list (list-virtual-mfa-devices) was not collected: cannot tell a hardware device from a virtual one"} if {
	some r in input.resources
	enabled(r.properties)
	not listed(r.properties)
}

results contains {"resource": r.id, "status": "pass", "message": "root MFA is enabled and no virtual MFA device belongs to root: the device is a hardware one"} if {
	some r in input.resources
	enabled(r.properties)
	listed(r.properties)
	count(root_virtual(r.properties)) == 0
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("root MFA uses a virtual device (%s), not a hardware one", [concat(", ", root_virtual(r.properties))])} if {
	some r in input.resources
	enabled(r.properties)
	listed(r.properties)
	count(root_virtual(r.properties)) > 0
}
