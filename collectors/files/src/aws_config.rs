//! AWS Config: configuration snapshots as Config delivers them to S3, and the
//! recorder listings of `aws configservice describe-configuration-recorders` /
//! `describe-configuration-recorder-status`.

use serde_json::{Map, Value};

use crate::compact::Compact;

pub struct Snapshot {
    pub id: Option<String>,
    /// Kept as text until their records are made: a snapshot is the largest export.
    pub items: Vec<Item<Compact>>,
}

/// One configuration item, normalised: `configuration` and the values of
/// `supplementaryConfiguration` are JSON, never JSON-in-a-string (the API returns
/// strings, delivered snapshots mostly objects; rules see one shape).
pub struct Item<P = Value> {
    pub account: String,
    pub region: String,
    /// Config's type, e.g. `AWS::S3::Bucket`.
    pub config_type: String,
    pub resource_id: String,
    pub arn: Option<String>,
    pub status: String,
    pub properties: P,
}

impl Item {
    /// The item with its properties as text.
    pub fn compact(self) -> Item<Compact> {
        Item {
            properties: Compact::new(&self.properties),
            account: self.account,
            region: self.region,
            config_type: self.config_type,
            resource_id: self.resource_id,
            arn: self.arn,
            status: self.status,
        }
    }
}

impl<P> Item<P> {
    /// Items Config keeps for resources that no longer exist are history, not inventory.
    pub fn is_current(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "ResourceDeleted" | "ResourceDeletedNotRecorded" | "ResourceNotRecorded"
        )
    }
}

/// The items are moved out of `value`, not copied: a snapshot of 100,000 items is
/// hundreds of megabytes as a JSON tree.
pub fn snapshot(mut value: Value) -> Result<Snapshot, String> {
    let id = value.get("configSnapshotId").and_then(Value::as_str).map(str::to_owned);
    let items = match value.get_mut("configurationItems").map(Value::take) {
        Some(Value::Array(items)) => items,
        Some(_) => return Err("`configurationItems` is not an array".into()),
        None => return Err("configuration snapshot has no `configurationItems`".into()),
    };
    let items = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            self::item(item)
                .map(Item::compact)
                .map_err(|e| format!("`configurationItems[{i}]`: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Snapshot { id, items })
}

pub fn item(value: Value) -> Result<Item, String> {
    let Value::Object(mut properties) = value else {
        return Err("not an object".into());
    };
    let object = &properties;
    let field = |key: &str| -> Result<String, String> {
        object
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("no `{key}`"))
    };
    let account = field("awsAccountId").or_else(|_| field("accountId"))?;
    let region = field("awsRegion")?;
    let config_type = field("resourceType")?;
    let resource_id = field("resourceId")?;
    let arn = field("ARN").or_else(|_| field("arn")).ok();
    let status = field("configurationItemStatus").unwrap_or_else(|_| "OK".into());
    properties.remove("relatedEvents");
    if let Some(configuration) = properties.get_mut("configuration") {
        unstring(configuration);
    }
    if let Some(Value::Object(supplementary)) = properties.get_mut("supplementaryConfiguration") {
        supplementary.values_mut().for_each(unstring);
    }
    if !matches!(properties.get("tags"), Some(Value::Object(_))) {
        let derived = properties
            .get("configuration")
            .map(tags_of_configuration)
            .unwrap_or_default();
        properties.insert("tags".into(), Value::Object(derived));
    }
    Ok(Item {
        account,
        region,
        config_type,
        resource_id,
        arn,
        status,
        properties: Value::Object(properties),
    })
}

/// Tags from a configuration's own tag list (`tags`, `tagList`, `tagSet`; `{key, value}`
/// or `{Key, Value}`): the API's items carry no `tags` map, the delivered ones do.
fn tags_of_configuration(configuration: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for key in ["tags", "tagList", "tagSet", "Tags"] {
        if let Some(Value::Array(list)) = configuration.get(key) {
            for tag in list {
                let k = tag.get("key").or_else(|| tag.get("Key")).and_then(Value::as_str);
                let v = tag.get("value").or_else(|| tag.get("Value"));
                if let (Some(k), Some(v)) = (k, v) {
                    out.insert(k.to_owned(), v.clone());
                }
            }
        }
    }
    out
}

/// Replaces a string holding a JSON object or array by the parsed value.
fn unstring(value: &mut Value) {
    if let Value::String(text) = value
        && (text.starts_with('{') || text.starts_with('['))
        && let Ok(parsed) = serde_json::from_str::<Value>(text)
    {
        *value = parsed;
    }
}

/// `AWS::RDS::DBInstance` → `aws.rds.db_instance`.
pub fn resource_type(config_type: &str) -> String {
    let mut parts = config_type.split("::");
    let (Some(provider), Some(service), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return config_type.to_lowercase();
    };
    format!(
        "{}.{}.{}",
        provider.to_lowercase(),
        service.to_lowercase(),
        snake_case(kind)
    )
}

fn snake_case(camel: &str) -> String {
    let chars: Vec<char> = camel.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev_lower = chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || (next_lower && chars[i - 1].is_uppercase()) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The list under `key` of a recorder listing.
pub fn list(value: Value, key: &str) -> Result<Vec<Value>, String> {
    match value.get(key) {
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(items.clone()),
        _ => Err(format!("`{key}` is not an array of objects")),
    }
}

/// A recorder or status entry's name.
pub fn name(entry: &Value) -> String {
    entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_owned()
}

/// Normalises a recorder with its status (matched by name) into one object.
pub fn recorder(recorder: Option<&Value>, status: Option<&Value>) -> Value {
    let mut out = Map::new();
    if let Some(Value::Object(r)) = recorder {
        out.extend(r.clone());
    }
    out.insert("status".into(), status.cloned().unwrap_or(Value::Null));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_types_become_dotted_snake_case() {
        assert_eq!(resource_type("AWS::RDS::DBInstance"), "aws.rds.db_instance");
        assert_eq!(resource_type("AWS::EC2::SecurityGroup"), "aws.ec2.security_group");
        assert_eq!(resource_type("AWS::S3::Bucket"), "aws.s3.bucket");
        assert_eq!(resource_type("AWS::CloudTrail::Trail"), "aws.cloudtrail.trail");
        assert_eq!(resource_type("AWS::EC2::VPC"), "aws.ec2.vpc");
        assert_eq!(resource_type("AWS::IAM::OIDCProvider"), "aws.iam.oidc_provider");
    }

    #[test]
    fn stringified_configuration_is_parsed() {
        let item = item(serde_json::json!({
            "awsAccountId": "123456789012", "awsRegion": "us-east-1", "resourceType": "AWS::S3::Bucket",
            "resourceId": "b", "configuration": "{\"name\":\"b\"}",
            "supplementaryConfiguration": {"BucketVersioningConfiguration": "{\"status\":\"Enabled\"}"}
        }))
        .unwrap();
        assert_eq!(item.properties["configuration"]["name"], "b");
        assert_eq!(
            item.properties["supplementaryConfiguration"]["BucketVersioningConfiguration"]["status"],
            "Enabled"
        );
    }
}
