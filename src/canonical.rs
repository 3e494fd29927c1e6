//! Canonical JSON: object keys sorted at every level, no insignificant white space.
//!
//! Hashes and reports must not depend on a map's insertion order (a dependency can
//! switch serde_json to order-preserving maps), so everything hashed goes through here.

use serde_json::Value;

pub fn to_string(value: &Value) -> String {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out);
    into_string(out)
}

/// Appends the canonical form of `value` to `out`.
///
/// Strings and numbers are written by serde_json itself (the same escapes and number
/// forms as `Value::to_string`), straight into the buffer: building a `String` per key
/// and scalar was most of the time spent storing and hashing a large run.
fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            // serde_json's map is sorted already unless a dependency turns on its
            // `preserve_order` feature; sorting sorted members is one linear pass.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string_to(key, out);
                out.push(b':');
                write(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        scalar => scalar_to(scalar, out),
    }
}

/// Appends `text` as a JSON string.
pub fn string_to(text: &str, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail, and a `&str` always serialises.
    let _ = serde_json::to_writer(out, text);
}

fn scalar_to(value: &Value, out: &mut Vec<u8>) {
    // As above: a Vec never fails, and a JSON scalar always serialises.
    let _ = serde_json::to_writer(out, value);
}

/// The canonical bytes as text. They are always UTF-8 (made of serde_json's output and
/// ASCII punctuation); the lossy branch is never taken.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// SHA-256 (hex) of the canonical form of `value`.
pub fn sha256(value: &Value) -> String {
    evidra_collector_core::sha256_hex(to_string(value).as_bytes())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": null}], "c": "x"}});
        assert_eq!(
            super::to_string(&v),
            r#"{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}"#
        );
    }

    #[test]
    fn strings_and_numbers_are_written_as_serde_json_writes_them() {
        let v = json!({"q\"uote\n": "tab\t \u{1} é \u{2028}", "n": [-0.5, 1e300, 18446744073709551615u64, -9223372036854775808i64]});
        let mut expected = String::from("{");
        let mut keys: Vec<_> = v.as_object().unwrap().iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (i, (k, val)) in keys.into_iter().enumerate() {
            if i > 0 {
                expected.push(',');
            }
            expected.push_str(&serde_json::Value::String(k.clone()).to_string());
            expected.push(':');
            expected.push_str(&val.to_string());
        }
        expected.push('}');
        assert_eq!(super::to_string(&v), expected);
    }
}
