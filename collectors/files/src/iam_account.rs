//! Account-wide IAM settings: `get-account-password-policy` and `get-account-summary`.

use serde_json::Value;

/// `Some(policy)`, or `None` when the export says no policy is set (the CLI prints
/// `{"PasswordPolicy": null}` only when hand-made; `NoSuchEntity` is handled by the
/// live collector). A missing policy is positive evidence, not a gap.
pub fn password_policy(value: Value) -> Result<Option<Value>, String> {
    match value.get("PasswordPolicy") {
        Some(Value::Object(policy)) => Ok(Some(Value::Object(policy.clone()))),
        Some(Value::Null) => Ok(None),
        _ => Err("`PasswordPolicy` is not an object".into()),
    }
}

pub fn summary(value: Value) -> Result<Value, String> {
    match value.get("SummaryMap") {
        Some(map @ Value::Object(_)) => Ok(map.clone()),
        _ => Err("`SummaryMap` is not an object".into()),
    }
}
