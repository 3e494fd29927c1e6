//! Azure exports: the JSON of `az resource list`, `az graph query` (Azure Resource
//! Graph) and `az role assignment list`, recognised by content and turned into the same
//! records the live Azure collector gives (docs/resource-types.md, Azure).
//!
//! - `az resource list` (and any JSON array of ARM objects with `id` and `type`): every
//!   row is an `azure.resources.resource` (resource groups, subscriptions, locks and
//!   assignments excepted), and rows of a type a control reads are also records of that
//!   type. `az resource list` carries no `properties`, so the controls that need them
//!   say `error` (not collected) for those records rather than guessing.
//! - `az graph query` (`{"count", "data": [...], "skip_token", "total_records"}`, or the
//!   plain array of older versions): rows carry ARM's `properties`, so typed records are
//!   complete. A query's filter cannot be known, so a graph export never proves that no
//!   other resources exist (no observation).
//! - `az role assignment list`: the CLI flattens ARM's `properties` and adds
//!   `roleDefinitionName` and `principalName`; the record is rebuilt in ARM's shape with
//!   those as the `role_name` and `principal_name` enrichments.
//!
//! Secret values (connection strings, keys, SAS tokens) are masked in the stored bytes
//! as well as in the records ([`crate::azure::mask_json`]); the evidence's media type
//! then says which keys were masked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use evidra_collector_core::{Batch, CollectError, Observation};
use serde_json::{Map, Value, json};

use crate::SourceFile;
use crate::azure::{self, Masked};
use crate::detect::bad;

/// Which `az` command a file is the output of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    ResourceList,
    GraphQuery,
    RoleAssignments,
}

impl ExportKind {
    pub fn operation(self) -> &'static str {
        match self {
            ExportKind::ResourceList => "az resource list",
            ExportKind::GraphQuery => "az graph query",
            ExportKind::RoleAssignments => "az role assignment list",
        }
    }
}

/// A recognised Azure export: its rows, read from the masked bytes.
pub struct Export {
    pub kind: ExportKind,
    pub rows: Vec<Value>,
    /// The file's bytes with secrets masked (`keys` empty: nothing was masked).
    pub masked: Masked,
}

impl Export {
    /// The bytes to keep as evidence, and their media type: the file as it is, unless
    /// secrets had to be masked out of it.
    pub fn evidence(&self, file: &SourceFile) -> (Vec<u8>, String) {
        if self.masked.keys.is_empty() {
            let media = if file.bytes.starts_with(&[0x1f, 0x8b]) {
                "application/gzip"
            } else {
                "application/json"
            };
            (file.bytes.clone(), media.to_owned())
        } else {
            (self.masked.bytes.clone(), self.masked.media_type("application/json"))
        }
    }
}

fn str_field<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Role assignment rows, in ARM's shape (`properties.roleDefinitionId`) or the CLI's
/// flattened one (`roleDefinitionId` beside `id`).
fn is_role_assignment(row: &Value) -> bool {
    let typed = str_field(row, "type").is_some_and(|t| azure::record_type(t) == Some(azure::ROLE_ASSIGNMENT));
    let definition = str_field(row, "roleDefinitionId").is_some()
        || row
            .get("properties")
            .is_some_and(|p| str_field(p, "roleDefinitionId").is_some());
    typed || (definition && str_field(row, "principalId").is_some())
}

/// Recognises an Azure export by content. `text` is the file's decoded text, `value` its
/// parsed JSON. None: not an Azure export (another importer may know it).
pub fn detect(file: &SourceFile, text: &str, value: &Value) -> Result<Option<Export>, CollectError> {
    let (kind, rows) = match value {
        Value::Object(o)
            if o.get("data").is_some_and(Value::is_array)
                && ["count", "total_records", "skip_token", "totalRecords", "skipToken"]
                    .iter()
                    .any(|k| o.contains_key(*k)) =>
        {
            (ExportKind::GraphQuery, "data")
        }
        Value::Array(rows)
            if !rows.is_empty()
                && rows
                    .iter()
                    .all(|r| str_field(r, "id").is_some_and(|id| id.starts_with('/'))) =>
        {
            if rows.iter().all(is_role_assignment) {
                (ExportKind::RoleAssignments, "")
            } else if rows.iter().all(|r| str_field(r, "type").is_some()) {
                // Resource Graph rows carry subscriptionId and lower-cased types;
                // `az resource list` rows keep ARM's casing.
                let graph = rows.iter().all(|r| {
                    str_field(r, "subscriptionId").is_some()
                        && str_field(r, "type").is_some_and(|t| t == t.to_ascii_lowercase())
                });
                let kind = if graph {
                    ExportKind::GraphQuery
                } else {
                    ExportKind::ResourceList
                };
                (kind, "")
            } else {
                return Ok(None);
            }
        }
        _ => return Ok(None),
    };
    let masked = azure::mask_json(text.as_bytes());
    let parsed: Value = serde_json::from_slice(&masked.bytes)
        .map_err(|e| bad(file, format!("not valid JSON after masking secrets: {e}")))?;
    let rows = if rows.is_empty() {
        parsed
    } else {
        parsed.get(rows).cloned().unwrap_or(Value::Null)
    };
    let Value::Array(rows) = rows else {
        return Err(bad(file, "an Azure export whose rows are not a JSON array"));
    };
    for (n, row) in rows.iter().enumerate() {
        if str_field(row, "id").is_none() || (kind != ExportKind::RoleAssignments && str_field(row, "type").is_none()) {
            return Err(bad(
                file,
                format!(
                    "{} row {n} has no `id` or `type`: export whole rows (for a graph query, project at least id, type, subscriptionId, properties and tags)",
                    kind.operation()
                ),
            ));
        }
    }
    Ok(Some(Export { kind, rows, masked }))
}

/// The records and observations of every Azure export of an import, merged: the same
/// resource in two exports is one record citing both files (the one with `properties`
/// gives the object).
#[derive(Default)]
pub struct AzureImport {
    records: BTreeMap<(String, &'static str, String), evidra_collector_core::ResourceRecord>,
    observed: BTreeMap<(String, &'static str), BTreeSet<String>>,
}

impl AzureImport {
    pub fn add(&mut self, file: &SourceFile, export: &Export, sha256: &str) -> Result<(), CollectError> {
        let fallback = file_subscription(file, &export.rows);
        let mut subscriptions = BTreeSet::new();
        let mut types = BTreeSet::new();
        for row in &export.rows {
            let id = str_field(row, "id").unwrap_or_default();
            let subscription = azure::subscription_of(id)
                .or_else(|| str_field(row, "subscriptionId").map(str::to_ascii_lowercase))
                .or_else(|| fallback.clone())
                .ok_or_else(|| {
                    bad(
                        file,
                        format!(
                            "cannot tell which subscription {id} belongs to: put the file in a folder named after the subscription ID"
                        ),
                    )
                })?;
            subscriptions.insert(subscription.clone());
            if export.kind == ExportKind::RoleAssignments {
                self.insert(&subscription, azure::ROLE_ASSIGNMENT, role_assignment(row), sha256);
                types.insert(azure::ROLE_ASSIGNMENT);
                continue;
            }
            let arm_type = str_field(row, "type").unwrap_or_default();
            let typed = azure::record_type(arm_type);
            if let Some(t) = typed {
                self.insert(&subscription, t, row.clone(), sha256);
            }
            types.insert(typed.unwrap_or(azure::RESOURCE));
            if typed.is_none_or(|t| !NOT_RESOURCES.contains(&t)) {
                self.insert(&subscription, azure::RESOURCE, generic(row), sha256);
            }
        }
        // A list command's output is the complete listing of what it lists, for each
        // subscription it covers; a graph query's filter is unknown, so it proves nothing.
        let observed: Vec<&'static str> = match export.kind {
            ExportKind::GraphQuery => Vec::new(),
            ExportKind::RoleAssignments => vec![azure::ROLE_ASSIGNMENT],
            // One type throughout: that type's listing (`az group list`, `az resource
            // list --resource-type T`); mixed: the subscription's resource listing.
            ExportKind::ResourceList if types.len() == 1 => types.into_iter().collect(),
            ExportKind::ResourceList => vec![azure::RESOURCE],
        };
        for subscription in subscriptions {
            for t in &observed {
                self.observed
                    .entry((subscription.clone(), t))
                    .or_default()
                    .insert(sha256.to_owned());
            }
        }
        Ok(())
    }

    fn insert(&mut self, subscription: &str, resource_type: &'static str, object: Value, sha256: &str) {
        let Some(record) = azure::record(subscription, resource_type, object, vec![sha256.to_owned()]) else {
            return;
        };
        let key = (
            subscription.to_owned(),
            resource_type,
            record.resource_id.to_ascii_lowercase(),
        );
        match self.records.get_mut(&key) {
            None => {
                self.records.insert(key, record);
            }
            Some(existing) => {
                let richer = !existing.properties.get("properties").is_some_and(Value::is_object)
                    && record.properties.get("properties").is_some_and(Value::is_object);
                let mut evidence: BTreeSet<String> = existing.evidence.drain(..).collect();
                evidence.extend(record.evidence.iter().cloned());
                if richer {
                    existing.properties = record.properties;
                }
                existing.evidence = evidence.into_iter().collect();
            }
        }
    }

    pub fn finish(self, out: &mut Batch) {
        out.resources.extend(self.records.into_values());
        for ((subscription, resource_type), evidence) in self.observed {
            out.observations.push(Observation {
                scope: azure::scope(&subscription),
                resource_type: resource_type.into(),
                evidence: evidence.into_iter().collect(),
            });
        }
    }
}

/// Record types that are not in ARM's generic resource listing.
const NOT_RESOURCES: [&str; 5] = [
    azure::SUBSCRIPTION,
    azure::GROUP,
    azure::LOCK,
    azure::POLICY_ASSIGNMENT,
    azure::ROLE_ASSIGNMENT,
];

/// The generic resource record: what ARM's `GET /subscriptions/{id}/resources` returns
/// for a resource (no `properties`).
fn generic(row: &Value) -> Value {
    let mut object = Map::new();
    for key in [
        "id",
        "name",
        "type",
        "location",
        "tags",
        "sku",
        "kind",
        "managedBy",
        "identity",
        "plan",
        "extendedLocation",
        "createdTime",
        "changedTime",
        "provisioningState",
    ] {
        if let Some(v) = row.get(key).filter(|v| !v.is_null()) {
            object.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(object)
}

/// An `az role assignment list` row in ARM's shape, with the CLI's resolved names as the
/// `role_name` and `principal_name` enrichments.
fn role_assignment(row: &Value) -> Value {
    let properties = match row.get("properties") {
        Some(Value::Object(p)) => Value::Object(p.clone()),
        _ => {
            let mut p = Map::new();
            for key in [
                "roleDefinitionId",
                "principalId",
                "principalType",
                "scope",
                "condition",
                "conditionVersion",
                "description",
                "createdOn",
                "updatedOn",
                "createdBy",
                "updatedBy",
                "delegatedManagedIdentityResourceId",
            ] {
                if let Some(v) = row.get(key) {
                    p.insert(key.to_owned(), v.clone());
                }
            }
            Value::Object(p)
        }
    };
    let mut object = Map::new();
    object.insert("id".into(), row.get("id").cloned().unwrap_or(Value::Null));
    object.insert("name".into(), row.get("name").cloned().unwrap_or(Value::Null));
    object.insert("type".into(), json!("Microsoft.Authorization/roleAssignments"));
    object.insert("properties".into(), properties);
    if let Some(name) = str_field(row, "roleDefinitionName").or_else(|| str_field(row, "role_name")) {
        object.insert("role_name".into(), json!(name));
    }
    if let Some(name) = str_field(row, "principalName").or_else(|| str_field(row, "principal_name")) {
        object.insert("principal_name".into(), json!(name));
    }
    Value::Object(object)
}

/// The subscription of rows that name none (role assignments inherited from a
/// management group): the one subscription the file's other rows name, else a
/// subscription ID in a folder name.
fn file_subscription(file: &SourceFile, rows: &[Value]) -> Option<String> {
    let named: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| {
            str_field(r, "id")
                .and_then(azure::subscription_of)
                .or_else(|| str_field(r, "subscriptionId").map(str::to_ascii_lowercase))
                .or_else(|| {
                    r.get("properties")
                        .and_then(|p| str_field(p, "scope"))
                        .or_else(|| str_field(r, "scope"))
                        .and_then(azure::subscription_of)
                })
        })
        .collect();
    if named.len() == 1 {
        return named.into_iter().next();
    }
    subscription_in_path(&file.path)
}

fn subscription_in_path(path: &Path) -> Option<String> {
    path.parent()?.components().rev().find_map(|c| {
        let name = c.as_os_str().to_string_lossy();
        // A GUID at the end of the folder name (`azure-<subscription id>`).
        let start = name.len().checked_sub(36)?;
        let tail = name.get(start..)?;
        azure::is_guid(tail).then(|| tail.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file;

    #[test]
    fn role_assignments_from_the_cli_are_rebuilt_in_arm_shape() {
        let text = r#"[{"id": "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/roleAssignments/a1",
            "name": "a1", "principalId": "p1", "principalName": "eve_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "principalType": "User", "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            "roleDefinitionName": "Owner", "scope": "/providers/Microsoft.Management/managementGroups/root",
            "type": "Microsoft.Authorization/roleAssignments"}]"#;
        let f = file("azure-0b1f6471-1bf0-4dda-aec3-cb9272f09590/roles.json", text);
        let value: Value = serde_json::from_str(text).unwrap();
        let export = detect(&f, text, &value).unwrap().unwrap();
        assert_eq!(export.kind, ExportKind::RoleAssignments);
        let mut import = AzureImport::default();
        import.add(&f, &export, "sha").unwrap();
        let mut batch = Batch::default();
        import.finish(&mut batch);
        let r = &batch.resources[0];
        assert_eq!(r.account, "0b1f6471-1bf0-4dda-aec3-cb9272f09590");
        assert_eq!(r.properties["properties"]["principalType"], "User");
        assert_eq!(r.properties["role_name"], "Owner");
        assert_eq!(batch.observations[0].resource_type, azure::ROLE_ASSIGNMENT);
    }

    #[test]
    fn other_json_is_not_an_azure_export() {
        let value = json!({"UserDetailList": []});
        assert!(detect(&file("a.json", "{}"), "{}", &value).unwrap().is_none());
        let value = json!([{"ConfigRuleName": "x"}]);
        assert!(detect(&file("a.json", "[]"), "[]", &value).unwrap().is_none());
    }
}
