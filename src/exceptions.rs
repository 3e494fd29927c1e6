//! Exceptions: accepted risks, approved by someone, until a date.
//!
//! `exceptions.toml` (its path in `evidra.toml`) lists them:
//!
//! ```toml
//! [[exception]]
//! control = "aws.iam.user_console_mfa"
//! resource = "arn:aws:iam::111122223333:user/break-glass"   # glob: * and ?
//! justification = "Break-glass user; password in the safe, use alerts the on-call."
//! approved_by = "Dana Whitfield (CISO)"
//! approved_on = 2026-10-01
//! expires = 2027-03-31
//! ```
//!
//! A matching exception that has not expired at the run's evaluation time turns `fail`
//! into `waived`; nothing else changes status (an `error` is missing evidence, which no
//! approval can stand in for). Every key is required: an exception without an approver
//! or an expiry is an error, because an auditor rejects exactly those. The file is kept
//! as evidence of the run, and waived findings cite it.

use serde::Deserialize;

use crate::store::StoredFinding;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default, rename = "exception")]
    exceptions: Vec<Raw>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    control: String,
    resource: String,
    justification: String,
    approved_by: String,
    approved_on: toml::Value,
    expires: toml::Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub control: String,
    pub resource: String,
    pub justification: String,
    pub approved_by: String,
    /// `YYYY-MM-DD`.
    pub approved_on: String,
    /// `YYYY-MM-DD`: the exception holds through this day (UTC).
    pub expires: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ExceptionsError {
    pub file: String,
    pub message: String,
}

/// Days before expiry from which an exception is reported as expiring.
pub const EXPIRING_DAYS: i64 = 30;

fn date(value: &toml::Value, key: &str, index: usize) -> Result<String, String> {
    let text = match value {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => {
            return Err(format!(
                "exception {}: `{key}` must be a date (YYYY-MM-DD), not {other}",
                index + 1
            ));
        }
    };
    let day = text.get(..10).unwrap_or_default();
    if crate::time_fmt::parse_date_or_time(day).is_none() || day.len() != 10 {
        return Err(format!(
            "exception {}: `{key}` = {text:?} is not a date (YYYY-MM-DD)",
            index + 1
        ));
    }
    Ok(day.to_owned())
}

/// Parses an exceptions file; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<Exception>, ExceptionsError> {
    let err = |message: String| ExceptionsError {
        file: file.to_owned(),
        message,
    };
    let parsed: File = toml::from_str(text).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    for (i, raw) in parsed.exceptions.into_iter().enumerate() {
        for (key, value) in [
            ("control", &raw.control),
            ("resource", &raw.resource),
            ("justification", &raw.justification),
            ("approved_by", &raw.approved_by),
        ] {
            if value.trim().is_empty() {
                return Err(err(format!("exception {} ({}): `{key}` is empty", i + 1, raw.control)));
            }
        }
        let approved_on = date(&raw.approved_on, "approved_on", i).map_err(err)?;
        let expires = date(&raw.expires, "expires", i).map_err(err)?;
        if expires < approved_on {
            return Err(err(format!(
                "exception {} ({}): expires before it was approved",
                i + 1,
                raw.control
            )));
        }
        out.push(Exception {
            control: raw.control,
            resource: raw.resource,
            justification: raw.justification,
            approved_by: raw.approved_by,
            approved_on,
            expires,
        });
    }
    Ok(out)
}

/// `*` matches any run of characters, `?` one; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl Exception {
    pub fn matches(&self, finding: &StoredFinding) -> bool {
        glob(&self.control, &finding.control) && glob(&self.resource, &finding.resource_id)
    }

    /// Whether it still holds on the day of `now` (RFC 3339).
    pub fn active_at(&self, now: &str) -> bool {
        now.get(..10)
            .is_some_and(|day| day <= self.expires.as_str() && day >= self.approved_on.as_str())
    }

    /// `active`, `expiring` or `expired` at `now`.
    pub fn state_at(&self, now: &str) -> &'static str {
        if !self.active_at(now) {
            return if now.get(..10).is_some_and(|d| d < self.approved_on.as_str()) {
                "not yet approved"
            } else {
                "expired"
            };
        }
        let days_left = match (
            crate::time_fmt::parse_date_or_time(&self.expires),
            crate::time_fmt::parse(now),
        ) {
            (Some(expires), Ok(now)) => (expires - now).whole_days(),
            _ => i64::MAX,
        };
        if days_left <= EXPIRING_DAYS {
            "expiring"
        } else {
            "active"
        }
    }
}

/// Applies `exceptions` to `findings` at `now`: each `fail` with an active matching
/// exception becomes `waived`, citing `evidence` (the exceptions file's hash) too.
pub fn apply(findings: &mut [StoredFinding], exceptions: &[Exception], now: &str, evidence: &str) {
    for finding in findings.iter_mut().filter(|f| f.status == "fail") {
        if let Some(e) = exceptions.iter().find(|e| e.active_at(now) && e.matches(finding)) {
            finding.status = "waived".into();
            finding.message = format!(
                "{} [waived until {} by {}: {}]",
                finding.message, e.expires, e.approved_by, e.justification
            );
            if !finding.evidence.iter().any(|s| s == evidence) {
                finding.evidence.push(evidence.to_owned());
                finding.evidence.sort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*", "anything"));
        assert!(glob("arn:aws:iam::*:user/break-*", "arn:aws:iam::1:user/break-glass"));
        assert!(!glob("arn:aws:iam::*:user/break-*", "arn:aws:iam::1:user/alice"));
        assert!(glob("aws.s3.?ucket*", "aws.s3.bucket_versioning"));
    }

    #[test]
    fn missing_approver_or_expiry_is_an_error_naming_the_line() {
        let text = "[[exception]]\ncontrol = \"x\"\nresource = \"*\"\njustification = \"j\"\napproved_on = 2026-01-01\nexpires = 2026-02-01\n";
        let err = parse("exceptions.toml", text).unwrap_err().to_string();
        assert!(err.contains("approved_by") && err.contains("exceptions.toml"), "{err}");
        let text = "[[exception]]\ncontrol = \"x\"\nresource = \"*\"\njustification = \"j\"\napproved_by = \"a\"\napproved_on = 2026-01-01\n";
        assert!(
            parse("exceptions.toml", text)
                .unwrap_err()
                .to_string()
                .contains("expires")
        );
    }

    #[test]
    fn expired_exceptions_do_not_waive() {
        let e = Exception {
            control: "c".into(),
            resource: "*".into(),
            justification: "j".into(),
            approved_by: "a".into(),
            approved_on: "2026-01-01".into(),
            expires: "2026-06-30".into(),
        };
        assert!(e.active_at("2026-06-30T23:00:00Z"));
        assert!(!e.active_at("2026-07-01T00:00:00Z"));
        assert_eq!(e.state_at("2026-06-15T00:00:00Z"), "expiring");
        assert_eq!(e.state_at("2026-02-01T00:00:00Z"), "active");
        assert_eq!(e.state_at("2026-08-01T00:00:00Z"), "expired");
    }
}
