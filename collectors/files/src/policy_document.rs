//! IAM policy documents arrive URL-encoded from the raw API and as JSON objects from
//! the AWS CLI (which decodes them). Rules must see one shape: a JSON object.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Decodes a policy document given either as an object or as a (URL-encoded) string.
pub fn decode(document: &Value) -> Result<Value, String> {
    match document {
        Value::Object(_) => Ok(document.clone()),
        Value::String(text) => {
            if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
                return Ok(value);
            }
            let decoded = percent_decode_str(text)
                .decode_utf8()
                .map_err(|e| format!("policy document is not valid URL-encoded UTF-8: {e}"))?;
            match serde_json::from_str::<Value>(&decoded) {
                Ok(value @ Value::Object(_)) => Ok(value),
                Ok(_) => Err("policy document is not a JSON object".into()),
                Err(e) => Err(format!("policy document is not JSON after URL-decoding: {e}")),
            }
        }
        _ => Err("policy document is neither a JSON object nor a string".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn url_encoded_and_plain_documents_decode_alike() {
        let plain =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let encoded = Value::String(
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D".into(),
        );
        assert_eq!(decode(&plain).unwrap(), plain);
        assert_eq!(decode(&encoded).unwrap(), plain);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode(&Value::String("%7Bnot json".into())).is_err());
        assert!(decode(&json!(3)).is_err());
    }
}
