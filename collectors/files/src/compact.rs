//! JSON kept as text until a record is made of it.

use serde_json::Value;

/// A JSON value held as its compact text. Parsed, a value takes 5 to 15 times the
/// memory of its text (every small object allocates a tree node), and an import holds
/// every file's contents until all of them are checked: at 100,000 users and 100,000
/// Config items the parsed entries were 600 MB, their texts 70 MB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compact(Box<str>);

impl Compact {
    pub fn new(value: &Value) -> Self {
        Self(value.to_string().into_boxed_str())
    }

    /// The value again, equal to the one it was made from (serde_json writes numbers
    /// that read back to the same number, and object keys in their map's order).
    pub fn value(&self) -> Value {
        // The text was written by serde_json from a Value, so it parses; Null is never
        // reached, and would make a record without properties, not a wrong one.
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_reads_back_equal() {
        let value: Value = serde_json::from_str(
            r#"{"b":[1,-2,3.5,1e300,18446744073709551615,null,true],"a":{"s":"ü \" \\ \n","o":{}}}"#,
        )
        .unwrap();
        assert_eq!(Compact::new(&value).value(), value);
    }
}
