//! `aws iam get-account-authorization-details`: users, groups, roles and managed
//! policies with their documents, in one export.

use serde_json::{Map, Value, json};

use crate::compact::Compact;
use crate::policy_document;

/// One IAM entity, normalised: `properties` use snake_case keys and decoded documents,
/// kept as text until its record is made.
pub struct Entity {
    pub arn: String,
    pub properties: Compact,
}

pub struct Details {
    pub users: Vec<Entity>,
    pub groups: Vec<Entity>,
    pub roles: Vec<Entity>,
    pub policies: Vec<Entity>,
}

impl Details {
    /// The 12-digit accounts named by the entities' ARNs (AWS-managed policies name `aws`).
    pub fn accounts(&self) -> Vec<String> {
        let mut accounts: Vec<String> = [&self.users, &self.groups, &self.roles, &self.policies]
            .into_iter()
            .flatten()
            .filter_map(|e| crate::locate::account_of_arn(&e.arn))
            .filter(|a| crate::locate::is_account_id(a))
            .map(str::to_owned)
            .collect();
        accounts.sort();
        accounts.dedup();
        accounts
    }
}

/// The lists are taken out of `value` and each entry is dropped once normalised, so
/// the export is not held twice (copying the lists held it three times: 1 GB at
/// 100,000 users).
pub fn parse(mut value: Value) -> Result<Details, String> {
    let mut list = |key: &str| -> Result<Vec<Value>, String> {
        match value.get_mut(key).map(Value::take) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(format!("`{key}` is not an array")),
        }
    };
    Ok(Details {
        users: entities(list("UserDetailList")?, "UserDetailList", user)?,
        groups: entities(list("GroupDetailList")?, "GroupDetailList", group)?,
        roles: entities(list("RoleDetailList")?, "RoleDetailList", role)?,
        policies: entities(list("Policies")?, "Policies", policy)?,
    })
}

type Normaliser = fn(&Map<String, Value>) -> Result<Value, String>;

fn entities(items: Vec<Value>, list: &str, normalise: Normaliser) -> Result<Vec<Entity>, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let where_ = format!("`{list}[{i}]`");
            let object = item.as_object().ok_or_else(|| format!("{where_} is not an object"))?;
            let arn = text(object, "Arn").ok_or_else(|| format!("{where_} has no `Arn`"))?;
            let properties = normalise(object).map_err(|e| format!("{where_} ({arn}): {e}"))?;
            Ok(Entity {
                arn,
                properties: Compact::new(&properties),
            })
        })
        .collect()
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn array<'a>(object: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn common(object: &Map<String, Value>, name_key: &str, id_key: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("arn".into(), json!(text(object, "Arn")));
    out.insert("name".into(), json!(text(object, name_key)));
    out.insert("id".into(), json!(text(object, id_key)));
    out.insert("path".into(), json!(text(object, "Path")));
    out.insert("created".into(), json!(text(object, "CreateDate")));
    out
}

fn attached(object: &Map<String, Value>) -> Value {
    Value::Array(
        array(object, "AttachedManagedPolicies")
            .iter()
            .map(|p| json!({"name": p.get("PolicyName"), "arn": p.get("PolicyArn")}))
            .collect(),
    )
}

fn inline(object: &Map<String, Value>, key: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    for policy in array(object, key) {
        let name = policy.get("PolicyName").and_then(Value::as_str).unwrap_or_default();
        let document = policy
            .get("PolicyDocument")
            .ok_or_else(|| format!("inline policy `{name}` has no document"))?;
        let document = policy_document::decode(document).map_err(|e| format!("inline policy `{name}`: {e}"))?;
        out.push(json!({"name": name, "document": document}));
    }
    Ok(Value::Array(out))
}

fn tags(object: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for tag in array(object, "Tags") {
        if let (Some(k), Some(v)) = (tag.get("Key").and_then(Value::as_str), tag.get("Value")) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

fn user(object: &Map<String, Value>) -> Result<Value, String> {
    let mut out = common(object, "UserName", "UserId");
    out.insert("groups".into(), json!(array(object, "GroupList")));
    out.insert("attached_policies".into(), attached(object));
    out.insert("inline_policies".into(), inline(object, "UserPolicyList")?);
    out.insert("tags".into(), tags(object));
    out.insert(
        "permissions_boundary".into(),
        object.get("PermissionsBoundary").cloned().unwrap_or(Value::Null),
    );
    Ok(Value::Object(out))
}

fn group(object: &Map<String, Value>) -> Result<Value, String> {
    let mut out = common(object, "GroupName", "GroupId");
    out.insert("attached_policies".into(), attached(object));
    out.insert("inline_policies".into(), inline(object, "GroupPolicyList")?);
    Ok(Value::Object(out))
}

fn role(object: &Map<String, Value>) -> Result<Value, String> {
    let mut out = common(object, "RoleName", "RoleId");
    let trust = match object.get("AssumeRolePolicyDocument") {
        Some(document) => policy_document::decode(document).map_err(|e| format!("trust policy: {e}"))?,
        None => Value::Null,
    };
    out.insert("assume_role_policy".into(), trust);
    out.insert("attached_policies".into(), attached(object));
    out.insert("inline_policies".into(), inline(object, "RolePolicyList")?);
    out.insert("tags".into(), tags(object));
    let last_used = object
        .get("RoleLastUsed")
        .map(|u| json!({"date": u.get("LastUsedDate"), "region": u.get("Region")}));
    out.insert("last_used".into(), last_used.unwrap_or(Value::Null));
    let profiles: Vec<Value> = array(object, "InstanceProfileList")
        .iter()
        .filter_map(|p| p.get("InstanceProfileName").cloned())
        .collect();
    out.insert("instance_profiles".into(), Value::Array(profiles));
    Ok(Value::Object(out))
}

fn policy(object: &Map<String, Value>) -> Result<Value, String> {
    let mut out = common(object, "PolicyName", "PolicyId");
    let arn = text(object, "Arn").unwrap_or_default();
    out.insert("aws_managed".into(), json!(arn.starts_with("arn:aws:iam::aws:policy/")));
    out.insert(
        "attachment_count".into(),
        object.get("AttachmentCount").cloned().unwrap_or(Value::Null),
    );
    out.insert(
        "is_attachable".into(),
        object.get("IsAttachable").cloned().unwrap_or(Value::Null),
    );
    out.insert("updated".into(), json!(text(object, "UpdateDate")));
    let default_id = text(object, "DefaultVersionId");
    out.insert("default_version".into(), json!(default_id));
    let mut document = Value::Null;
    for version in array(object, "PolicyVersionList") {
        let is_default = version
            .get("IsDefaultVersion")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || version.get("VersionId").and_then(Value::as_str) == default_id.as_deref();
        if is_default && let Some(doc) = version.get("Document") {
            document = policy_document::decode(doc).map_err(|e| format!("default version: {e}"))?;
        }
    }
    out.insert("document".into(), document);
    Ok(Value::Object(out))
}
