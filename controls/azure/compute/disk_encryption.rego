package controls.azure.compute.disk_encryption

# The record's properties (the ARM object and its enrichments); {} for a record without
# any, so that one malformed record cannot make the rule fail for every other one.
arm(r) := p if {
	p := r.properties
	is_object(p)
} else := {}

settings(r) := s if {
	s := object.get(arm(r), "properties", null)
	is_object(s)
}

obj(x, key) := v if {
	v := object.get(x, key, null)
	is_object(v)
} else := {}

enc_type(r) := t if {
	t := object.get(obj(settings(r), "encryption"), "type", null)
	is_string(t)
}

key_set(r) := object.get(obj(settings(r), "encryption"), "diskEncryptionSetId", "")

ade(r) if obj(settings(r), "encryptionSettingsCollection").enabled == true

confidential_cmk(r) if obj(settings(r), "securityProfile").securityType == "ConfidentialVM_DiskEncryptedWithCustomerKey"

state(r) := s if {
	s := object.get(settings(r), "diskState", null)
	is_string(s)
} else := "state unknown"

customer_key_types := {
	"EncryptionAtRestWithCustomerKey": "a customer-managed key",
	"EncryptionAtRestWithPlatformAndCustomerKeys": "double encryption (platform and customer-managed keys)",
}

# How the disk's data is protected by a key the organisation controls, if it is.
customer_control(r) := sprintf("encrypted at rest with %s (disk encryption set %v)", [customer_key_types[enc_type(r)], key_set(r)])

customer_control(r) := "Azure Disk Encryption (BitLocker / dm-crypt, keys in Key Vault) is enabled; note ADE retires on 15 September 2028, move to encryption at host with a customer-managed key" if {
	not customer_key_types[enc_type(r)]
	ade(r)
}

customer_control(r) := "confidential VM disk encrypted with a customer-managed key" if {
	not customer_key_types[enc_type(r)]
	not ade(r)
	confidential_cmk(r)
}

results contains {"resource": r.id, "status": "error", "message": "the disk's ARM properties were not collected"} if {
	some r in input.resources
	not settings(r)
}

results contains {"resource": r.id, "status": "pass", "message": sprintf("%s; disk %s", [customer_control(r), state(r)])} if {
	some r in input.resources
	customer_control(r)
}

results contains {"resource": r.id, "status": "fail", "message": sprintf("encrypted only with a platform-managed key (EncryptionAtRestWithPlatformKey) and no Azure Disk Encryption; disk %s", [state(r)])} if {
	some r in input.resources
	not customer_control(r)
	enc_type(r) == "EncryptionAtRestWithPlatformKey"
}

results contains {"resource": r.id, "status": "error", "message": "encryption.type was not collected for this disk"} if {
	some r in input.resources
	settings(r)
	not customer_control(r)
	not enc_type(r)
}

results contains {"resource": r.id, "status": "error", "message": sprintf("unrecognised encryption.type %s", [enc_type(r)])} if {
	some r in input.resources
	not customer_control(r)
	t := enc_type(r)
	t != "EncryptionAtRestWithPlatformKey"
	not customer_key_types[t]
}
