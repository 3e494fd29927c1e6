//! The IAM credential report (`aws iam get-credential-report`, its `Content` decoded).
//!
//! The report has one row per user plus `<root_account>`; AWS writes `N/A`,
//! `not_supported` and `no_information` where a value does not exist, which we turn
//! into JSON `null` so rules test one thing.

use std::sync::Arc;

use serde_json::{Map, Value, json};

/// The columns AWS documents; extra columns (AWS adds some over time) are kept as text.
const REQUIRED: [&str; 8] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_2_active",
];

pub const ROOT_USER: &str = "<root_account>";

pub struct Report {
    pub rows: Vec<Row>,
}

/// One row, kept as the CSV record it was read from until its fields are asked for:
/// as JSON, the rows of a 100,000-user report were 390 MB (15 times the file), held
/// while every other export of a folder was parsed.
pub struct Row {
    pub user: String,
    pub arn: String,
    headers: Arc<[String]>,
    record: csv::StringRecord,
}

impl Row {
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER
    }

    /// The row as typed JSON: booleans for `true`/`false`, null for AWS's placeholders,
    /// the numbered access key and certificate columns grouped.
    pub fn fields(&self) -> Value {
        let mut fields = Map::new();
        for (name, raw) in self.headers.iter().zip(self.record.iter()) {
            fields.insert(name.clone(), typed(raw));
        }
        normalise(fields)
    }

    /// The account ID from the row's ARN (`arn:aws:iam::<account>:...`).
    pub fn account(&self) -> Option<&str> {
        crate::locate::account_of_arn(&self.arn)
    }
}

pub fn looks_like(text: &str) -> bool {
    text.starts_with("user,arn,")
}

pub fn parse(text: &str) -> Result<Report, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Arc<[String]> = reader
        .headers()
        .map_err(|e| format!("credential report header: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    for column in REQUIRED {
        if !headers.iter().any(|h| h == column) {
            return Err(format!("credential report has no `{column}` column"));
        }
    }
    // Of two columns with one name, the later one is the field (see `Row::fields`).
    let column = |name: &str| headers.iter().rposition(|h| h == name);
    let (user_column, arn_column) = (column("user"), column("arn"));
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // Line numbers count the header as line 1.
        let line = index + 2;
        let record = record.map_err(|e| format!("credential report line {line}: {e}"))?;
        // As the typed fields have them: a placeholder (`N/A`, ...) is no name.
        let text = |column: Option<usize>| match column.and_then(|c| record.get(c)).map(typed) {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let user = text(user_column);
        let arn = text(arn_column);
        if user.is_empty() || !arn.starts_with("arn:") {
            return Err(format!("credential report line {line}: no user name or ARN"));
        }
        rows.push(Row {
            user,
            arn,
            headers: headers.clone(),
            record,
        });
    }
    Ok(Report { rows })
}

fn typed(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "N/A" | "not_supported" | "no_information" | "" => Value::Null,
        other => Value::String(other.to_owned()),
    }
}

/// Groups the numbered access key and certificate columns, so rules can iterate over
/// `access_keys` instead of naming `access_key_1_*` and `access_key_2_*` twice.
fn normalise(mut fields: Map<String, Value>) -> Value {
    let mut keys = Vec::new();
    for n in 1..=2 {
        let mut take = |suffix: &str| {
            fields
                .remove(&format!("access_key_{n}_{suffix}"))
                .unwrap_or(Value::Null)
        };
        keys.push(json!({
            "number": n,
            "active": take("active"),
            "last_rotated": take("last_rotated"),
            "last_used_date": take("last_used_date"),
            "last_used_region": take("last_used_region"),
            "last_used_service": take("last_used_service"),
        }));
    }
    let mut certs = Vec::new();
    for n in 1..=2 {
        let active = fields.remove(&format!("cert_{n}_active")).unwrap_or(Value::Null);
        let rotated = fields.remove(&format!("cert_{n}_last_rotated")).unwrap_or(Value::Null);
        certs.push(json!({"number": n, "active": active, "last_rotated": rotated}));
    }
    fields.insert("access_keys".into(), Value::Array(keys));
    fields.insert("certificates".into(), Value::Array(certs));
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_null_and_keys_are_grouped() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active\n\
<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,true,false,N/A,false\n";
        let report = parse(csv).unwrap();
        let row = &report.rows[0];
        assert!(row.is_root());
        assert_eq!(row.account(), Some("123456789012"));
        let fields = row.fields();
        assert_eq!(fields["password_enabled"], Value::Null);
        assert_eq!(fields["mfa_active"], Value::Bool(true));
        assert_eq!(fields["access_keys"][0]["active"], Value::Bool(false));
        assert_eq!(fields["access_keys"][0]["last_rotated"], Value::Null);
    }

    #[test]
    fn a_row_with_missing_columns_names_its_line() {
        let csv = "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active\nalice,arn:aws:iam::1:user/alice\n";
        let err = parse(csv).err().unwrap();
        assert!(err.contains("line 2"), "{err}");
    }
}
