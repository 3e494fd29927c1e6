//! Facts about Azure shared by the live Azure collector and the importers of `az` exports,
//! so that both give rules exactly the same records (docs/resource-types.md, Azure):
//! the resource types, how an ARM object becomes a record, and secret masking.
//!
//! Records are the Azure Resource Manager objects as ARM returns them, with provider
//! `azure`, account = the subscription ID, region `global`, and the ARM ID as resource ID.

use evidra_collector_core::{ResourceRecord, Scope};
use serde_json::Value;

pub const PROVIDER: &str = "azure";
/// Azure controls are evaluated per subscription; a resource's location is in its
/// properties, not in the scope.
pub const REGION: &str = "global";

pub const SUBSCRIPTION: &str = "azure.resources.subscription";
pub const GROUP: &str = "azure.resources.group";
pub const RESOURCE: &str = "azure.resources.resource";
pub const LOCK: &str = "azure.resources.lock";
pub const STORAGE_ACCOUNT: &str = "azure.storage.account";
pub const NSG: &str = "azure.network.nsg";
pub const KEY_VAULT: &str = "azure.keyvault.vault";
pub const SQL_SERVER: &str = "azure.sql.server";
pub const SQL_DATABASE: &str = "azure.sql.database";
pub const VM: &str = "azure.compute.vm";
pub const DISK: &str = "azure.compute.disk";
pub const DIAGNOSTIC_SETTING: &str = "azure.monitor.diagnostic_setting";
pub const POLICY_ASSIGNMENT: &str = "azure.policy.assignment";
pub const ROLE_ASSIGNMENT: &str = "azure.authorization.role_assignment";

/// ARM resource types (as ARM spells them; compared case-insensitively, since Resource
/// Graph lower-cases them) and the record type each becomes.
pub const ARM_TYPES: [(&str, &str); 13] = [
    ("Microsoft.Resources/subscriptions", SUBSCRIPTION),
    ("Microsoft.Resources/resourceGroups", GROUP),
    // Resource Graph's ResourceContainers table names resource groups this way.
    ("Microsoft.Resources/subscriptions/resourceGroups", GROUP),
    ("Microsoft.Authorization/locks", LOCK),
    ("Microsoft.Storage/storageAccounts", STORAGE_ACCOUNT),
    ("Microsoft.Network/networkSecurityGroups", NSG),
    ("Microsoft.KeyVault/vaults", KEY_VAULT),
    ("Microsoft.Sql/servers", SQL_SERVER),
    ("Microsoft.Sql/servers/databases", SQL_DATABASE),
    ("Microsoft.Compute/virtualMachines", VM),
    ("Microsoft.Compute/disks", DISK),
    ("Microsoft.Authorization/policyAssignments", POLICY_ASSIGNMENT),
    ("Microsoft.Authorization/roleAssignments", ROLE_ASSIGNMENT),
];

/// The record type of an ARM type, if a control reads it. (Diagnostic settings are not
/// here: only the subscription's activity-log settings are that record type, and ARM
/// does not tell them apart by type.)
pub fn record_type(arm_type: &str) -> Option<&'static str> {
    ARM_TYPES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(arm_type))
        .map(|(_, record)| *record)
}

/// The subscription an ARM ID lives in: `/subscriptions/<id>/...` → `<id>` (lower-cased,
/// as subscription IDs are GUIDs that ARM compares case-insensitively).
pub fn subscription_of(id: &str) -> Option<String> {
    let mut parts = id.split('/').filter(|p| !p.is_empty());
    match (parts.next(), parts.next()) {
        (Some(first), Some(sub)) if first.eq_ignore_ascii_case("subscriptions") && is_guid(sub) => {
            Some(sub.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits in either case.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn scope(subscription: &str) -> Scope {
    Scope::new(PROVIDER, subscription, REGION)
}

/// A record of `resource_type` for the ARM object `object` (its `id` is the record's ID).
/// None when the object has no string `id`: such an object cannot be cited.
pub fn record(subscription: &str, resource_type: &str, object: Value, evidence: Vec<String>) -> Option<ResourceRecord> {
    let id = object.get("id").and_then(Value::as_str)?.to_owned();
    let mut evidence = evidence;
    evidence.sort();
    evidence.dedup();
    Some(ResourceRecord {
        provider: PROVIDER.into(),
        account: subscription.to_owned(),
        region: REGION.into(),
        resource_type: resource_type.to_owned(),
        resource_id: id,
        properties: object,
        evidence,
    })
}

/// What a masked value is replaced with, in evidence and records alike.
pub const MASK: &str = "*** masked by evidra ***";

/// A JSON document with its secret values masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// The document, byte for byte, except that each secret string is replaced by [`MASK`].
    pub bytes: Vec<u8>,
    /// The keys whose values were masked (`(value)` for a value recognised by its
    /// content), sorted and unique. Empty: nothing was masked, `bytes` is the input.
    pub keys: Vec<String>,
}

impl Masked {
    /// The evidence media type: `base`, plus `evidra-masked="<keys>"` when something was
    /// masked, so that a reader of the evidence knows these bytes are not the response as
    /// received, and which values were taken out.
    pub fn media_type(&self, base: &str) -> String {
        if self.keys.is_empty() {
            base.to_owned()
        } else {
            format!("{base}; evidra-masked=\"{}\"", self.keys.join(","))
        }
    }
}

/// Masks the secret values of a JSON document, in place: keys, structure, white space
/// and every other value stay exactly as they were, so the evidence is still the
/// response as received, less the secrets. A value is secret when its key names a
/// secret (connection strings, passwords, account and shared access keys, SAS tokens,
/// client secrets; see [`secret_key`]) or when the string itself is a connection string
/// with a key or a SAS URL. Under a secret key every string inside an object or array is
/// masked. Not JSON: returned unchanged (it is not ours to judge here).
pub fn mask_json(bytes: &[u8]) -> Masked {
    let unchanged = || Masked {
        bytes: bytes.to_vec(),
        keys: Vec::new(),
    };
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        return unchanged();
    }
    struct Frame {
        object: bool,
        key: Option<String>,
        /// Everything below is secret: the container is the value of a secret key.
        secret: Option<String>,
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut keys = std::collections::BTreeSet::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                let end = string_end(bytes, i);
                let token = &bytes[i..end];
                i = end;
                let text: String = serde_json::from_slice(token).unwrap_or_default();
                let top = stack.last_mut();
                match top {
                    Some(frame) if frame.object && expect_key => {
                        frame.key = Some(text);
                        expect_key = false;
                        out.extend_from_slice(token);
                    }
                    _ => {
                        let why = match stack.last() {
                            Some(Frame { secret: Some(k), .. }) => Some(k.clone()),
                            Some(Frame {
                                object: true,
                                key: Some(k),
                                ..
                            }) if secret_key(k) => Some(k.clone()),
                            _ if secret_value(&text) => Some("(value)".to_owned()),
                            _ => None,
                        };
                        match why {
                            Some(key) if !text.is_empty() => {
                                keys.insert(key);
                                out.push(b'"');
                                out.extend_from_slice(MASK.as_bytes());
                                out.push(b'"');
                            }
                            _ => out.extend_from_slice(token),
                        }
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                let secret = match stack.last() {
                    Some(Frame { secret: Some(k), .. }) => Some(k.clone()),
                    Some(Frame {
                        object: true,
                        key: Some(k),
                        ..
                    }) if secret_key(k) => Some(k.clone()),
                    _ => None,
                };
                stack.push(Frame {
                    object: b == b'{',
                    key: None,
                    secret,
                });
                expect_key = b == b'{';
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = stack.last().is_some_and(|f| f.object),
            _ => {}
        }
        out.push(b);
        i += 1;
    }
    if keys.is_empty() {
        return unchanged();
    }
    Masked {
        bytes: out,
        keys: keys.into_iter().collect(),
    }
}

/// The index just past the JSON string token that starts at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Keys whose values are secrets wherever they appear in an ARM object. Compared
/// lower-cased with `_` and `-` removed. Booleans and numbers under such keys are kept
/// (`allowSharedKeyAccess` is a setting, not a key); only strings are masked.
pub fn secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    const SUFFIXES: [&str; 16] = [
        "connectionstring",
        "connectionstrings",
        "password",
        "secret",
        "clientsecret",
        "sastoken",
        "accesskey",
        "accountkey",
        "sharedaccesskey",
        "masterkey",
        "privatekey",
        "instrumentationkey",
        "protectedsettings",
        "accesstoken",
        "refreshtoken",
        "passphrase",
    ];
    // Not `key` or `keys`: a key vault access policy's `permissions.keys` is a list of
    // operations, evidence a control may need.
    const EXACT: [&str; 10] = [
        "primarykey",
        "secondarykey",
        "key1",
        "key2",
        "sas",
        "sasuri",
        "sasurl",
        "token",
        "customdata",
        "userdata",
    ];
    SUFFIXES.iter().any(|s| k.ends_with(s)) || EXACT.contains(&k.as_str())
}

/// Strings that are secrets whatever their key: connection strings carrying a key or a
/// password, and SAS URLs or tokens (a signature `sig=` with a version or an expiry).
pub fn secret_value(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    const MARKERS: [&str; 6] = [
        "accountkey=",
        "sharedaccesskey=",
        "sharedaccesssignature=",
        "password=",
        "pwd=",
        "instrumentationkey=",
    ];
    if MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    let params: Vec<&str> = lower
        .split(['?', '&'])
        .filter_map(|p| p.split_once('=').map(|(k, _)| k))
        .collect();
    params.contains(&"sig") && (params.contains(&"sv") || params.contains(&"se"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_place_and_everything_else_is_kept() {
        let input = br#"{"value": [ {"id":"/subscriptions/x/a","properties":{"connectionString":"Server=tcp:x;Password=hunter2","allowSharedKeyAccess":true,
  "storageAccountAccessKey" : "c2VjcmV0a2V5", "note":"see https://x.blob.core.windows.net/c?sv=2022-11-02&se=2030&sig=abc%2B",
  "connectionStrings": [{"name":"orders","value":"k1"}], "permissions": {"keys": ["get"]}, "adminPassword": null, "name":"plain \"quoted\" text"}}]}"#;
        let masked = mask_json(input);
        let text = String::from_utf8(masked.bytes.clone()).unwrap();
        for secret in ["hunter2", "c2VjcmV0a2V5", "sig=abc", "\"k1\"", "\"orders\""] {
            assert!(!text.contains(secret), "{secret} left in {text}");
        }
        assert!(text.contains(r#""allowSharedKeyAccess":true"#), "{text}");
        assert!(text.contains(r#""permissions": {"keys": ["get"]}"#), "{text}");
        assert!(text.contains(r#""adminPassword": null"#), "{text}");
        assert!(text.contains(r#""name":"plain \"quoted\" text""#), "{text}");
        assert!(
            text.contains("\n  \"storageAccountAccessKey\" : \""),
            "white space kept: {text}"
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["value"][0]["properties"]["connectionString"], MASK);
        assert_eq!(
            masked.keys,
            [
                "(value)",
                "connectionString",
                "connectionStrings",
                "storageAccountAccessKey"
            ]
        );
        assert_eq!(
            masked.media_type("application/json"),
            "application/json; evidra-masked=\"(value),connectionString,connectionStrings,storageAccountAccessKey\""
        );
    }

    #[test]
    fn a_document_without_secrets_is_returned_byte_for_byte() {
        let input = br#"{"value":[{"id":"/subscriptions/x","properties":{"supportsHttpsTrafficOnly":true,"keySource":"Microsoft.Storage","secrets":["get"]}}],"nextLink":null}"#;
        let masked = mask_json(input);
        assert_eq!(masked.bytes, input.to_vec());
        assert!(masked.keys.is_empty());
        assert_eq!(masked.media_type("application/json"), "application/json");
    }

    #[test]
    fn ids_and_types() {
        assert_eq!(
            subscription_of("/subscriptions/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/resourceGroups/rg"),
            Some("0b1f6471-1bf0-4dda-aec3-cb9272f09590".into())
        );
        assert_eq!(
            subscription_of("/providers/Microsoft.Management/managementGroups/root"),
            None
        );
        assert_eq!(record_type("microsoft.storage/storageaccounts"), Some(STORAGE_ACCOUNT));
        assert_eq!(record_type("Microsoft.Web/sites"), None);
    }
}
