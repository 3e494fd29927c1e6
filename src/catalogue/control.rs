//! One control: the TOML that documents it (ruff-style: what it checks, why it matters,
//! how to fix it) and the Rego rule that decides it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CatalogueError, Framework, line_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// `<provider>.<service>.<what>`, stable and never reused.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The resource types the rule reads (`aws.iam.user`); it sees them one scope at a time.
    pub resource_types: Vec<String>,
    /// Those of `resource_types` the rule only reads to judge the others (locks, read
    /// to judge resource groups), never judging them itself. A rule that gives no
    /// result at all where resources of the other types are is broken, and its scope
    /// `error`; where there are only these, it had nothing to judge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_types: Vec<String>,
    /// What the control checks, in a sentence or two.
    pub description: String,
    /// Why it matters.
    pub rationale: String,
    #[serde(rename = "requirement", default)]
    pub requirements: Vec<Mapping>,
    pub remediation: Remediation,
    #[serde(rename = "test", default)]
    pub tests: Vec<TestCase>,
    /// The Rego rule's text.
    #[serde(skip_deserializing)]
    pub rego: String,
    /// Where the TOML came from (for messages).
    #[serde(skip)]
    pub source: String,
    /// Where the Rego came from.
    #[serde(skip)]
    pub rego_source: String,
}

/// A control serving one requirement of one framework, and why.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub framework: String,
    pub id: String,
    pub rationale: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    pub summary: String,
    pub console: Option<String>,
    pub cli: Option<String>,
    pub terraform: Option<String>,
}

/// A test case: input records (and gaps) → expected results, run by `evidra controls test`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    /// Evaluation time; defaults to 2026-11-20T00:00:00Z so cases never age.
    pub now: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Whether the collector positively observed the control's resource types in the
    /// scope (default true). False simulates "never read": no finding at all.
    pub observed: Option<bool>,
    #[serde(rename = "resource", default)]
    pub resources: Vec<TestResource>,
    #[serde(rename = "gap", default)]
    pub gaps: Vec<TestGap>,
    #[serde(rename = "expect", default)]
    pub expect: Vec<Expect>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestResource {
    pub id: String,
    /// Defaults to the control's first resource type.
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub properties: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestGap {
    pub operation: Option<String>,
    pub error: String,
    pub resource_types: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The resource ID, or the scope (`aws/123456789012/global`) for scope-level results.
    pub resource: String,
    pub status: String,
    /// A substring the message must contain.
    pub message: Option<String>,
}

impl Control {
    /// The Rego package every rule declares: `controls.<id>`.
    pub fn package(&self) -> String {
        format!("controls.{}", self.id)
    }

    pub fn provider(&self) -> &str {
        self.id.split('.').next().unwrap_or_default()
    }

    /// The requirement IDs this control serves in `framework`, sorted.
    pub fn requirement_ids(&self, framework: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .requirements
            .iter()
            .filter(|m| m.framework == framework)
            .map(|m| m.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

fn valid_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && p.as_bytes()[0].is_ascii_lowercase()
        })
}

/// The deepest nesting of `(`, `[` and `{` a rule may have. regorus 0.14.1's parser
/// takes time exponential in it (20 nested `[` took 30 to 45 s to parse; 12, 0.1 s;
/// the fuzz target `control` found it), so a control file could hang every command that
/// loads the catalogue. The built-in rules nest at most 6 deep.
const MAX_REGO_NESTING: usize = 12;

/// The 1-based line where `rego` first nests brackets deeper than [`MAX_REGO_NESTING`]
/// (outside strings and comments), if it does.
fn too_deep(rego: &str) -> Option<usize> {
    let (mut depth, mut line, mut quote) = (0usize, 1, None);
    let mut chars = rego.chars();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`') => quote = Some(c),
            (None, '#') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            (None, '(' | '[' | '{') => {
                depth += 1;
                if depth > MAX_REGO_NESTING {
                    return Some(line);
                }
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    None
}

pub fn parse(
    file: &str,
    text: &str,
    stem: &str,
    rego_file: &str,
    rego: &str,
    frameworks: &BTreeMap<String, Framework>,
) -> Result<Control, CatalogueError> {
    let mut control: Control = toml::from_str(text).map_err(|e| CatalogueError::Parse {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let invalid = |needle: &str, what: String| CatalogueError::Invalid {
        file: file.to_owned(),
        line: line_of(text, needle),
        what,
    };
    if !valid_id(&control.id) {
        return Err(invalid(
            "id",
            format!(
                "`{}` is not a control ID: lowercase, dotted, `<provider>.<service>.<what>`",
                control.id
            ),
        ));
    }
    let expected_stem = control.id.rsplit('.').next().unwrap_or_default();
    let file_stem = stem.rsplit('/').next().unwrap_or_default();
    if file_stem != expected_stem {
        return Err(invalid(
            "id",
            format!(
                "control `{}` must live in a file named {expected_stem}.toml",
                control.id
            ),
        ));
    }
    if control.resource_types.is_empty() {
        return Err(invalid(
            "resource_types",
            "`resource_types` is empty: name the resource types the rule reads".into(),
        ));
    }
    for t in &control.context_types {
        if !control.resource_types.contains(t) {
            return Err(invalid(
                "context_types",
                format!("context type `{t}` is not one of the control's `resource_types`"),
            ));
        }
    }
    if !control.context_types.is_empty() && control.resource_types.iter().all(|t| control.context_types.contains(t)) {
        return Err(invalid(
            "context_types",
            "every resource type is a context type: the rule would judge nothing".into(),
        ));
    }
    for mapping in &control.requirements {
        let needle = format!("\"{}\"", mapping.id);
        let Some(framework) = frameworks.get(&mapping.framework) else {
            return Err(invalid(
                &format!("\"{}\"", mapping.framework),
                format!("unknown framework `{}`", mapping.framework),
            ));
        };
        if framework.requirement(&mapping.id).is_none() {
            return Err(invalid(
                &needle,
                format!("`{}` is not a requirement of {}", mapping.id, framework.name),
            ));
        }
    }
    for case in &control.tests {
        for expect in &case.expect {
            if !matches!(expect.status.as_str(), "pass" | "fail" | "error" | "not_applicable") {
                return Err(invalid(
                    &format!("\"{}\"", expect.status),
                    format!("test `{}` expects unknown status `{}`", case.name, expect.status),
                ));
            }
        }
    }
    if let Some(line) = too_deep(rego) {
        return Err(CatalogueError::Invalid {
            file: rego_file.to_owned(),
            line,
            what: format!("brackets nested more than {MAX_REGO_NESTING} deep"),
        });
    }
    control.rego = rego.to_owned();
    control.source = file.to_owned();
    control.rego_source = rego_file.to_owned();
    crate::engine::compile(&control).map_err(|e| CatalogueError::Parse {
        file: rego_file.to_owned(),
        message: e.to_string(),
    })?;
    Ok(control)
}
