//! `evidra controls compare ID FILE`: a control's rule against a rewrite of it.
//!
//! Rules get rewritten to run faster or to read better, never to judge differently,
//! but a control's test cases hold only the inputs their author thought of. This runs
//! both rules on every case as written and on every case with one property of one
//! resource changed (removed, or set to null, a string, true, false, `{}`, `[]` or 0),
//! for every property path, nested ones included. The findings must be the same, to
//! the message (a failed rule's only as failed): a malformed record is where two
//! readings of "the same" rule part.

use serde_json::Value;

use super::testing::case_findings_with;
use super::{EngineError, compile};
use crate::catalogue::{Control, TestCase};
use crate::store::StoredFinding;

/// What both rules were run on, and where their findings differ.
#[derive(Debug)]
pub struct Comparison {
    /// The control's test cases.
    pub cases: usize,
    /// Inputs both rules ran on: each case as written and each of its changes.
    pub inputs: usize,
    /// The inputs on which the findings differ.
    pub differences: Vec<Difference>,
}

#[derive(Debug)]
pub struct Difference {
    pub case: String,
    /// What was changed: `as written`, or a resource's property and how.
    pub change: String,
    pub old: Vec<StoredFinding>,
    pub new: Vec<StoredFinding>,
}

/// Runs `control`'s rule and `rewrite` (Rego of the same package, read from the file
/// `file`) over the control's cases and their changes.
pub fn compare(control: &Control, file: &str, rewrite: &str) -> Result<Comparison, EngineError> {
    let mut rewritten = control.clone();
    rewritten.rego = rewrite.to_owned();
    rewritten.rego_source = file.to_owned();
    // A rewrite that does not compile is that error, not a difference on every input.
    compile(&rewritten)?;
    let mut comparison = Comparison {
        cases: control.tests.len(),
        inputs: 0,
        differences: Vec::new(),
    };
    let (rule, rewrite) = (&mut None, &mut None);
    for case in &control.tests {
        for (change, input) in changes(case) {
            comparison.inputs += 1;
            let mut old = case_findings_with(control, rule, &input)?;
            let mut new = case_findings_with(&rewritten, rewrite, &input)?;
            old.sort();
            new.sort();
            if judged(&old) != judged(&new) {
                comparison.differences.push(Difference {
                    case: case.name.clone(),
                    change,
                    old,
                    new,
                });
            }
        }
    }
    Ok(comparison)
}

/// The findings as compared: a failed rule's finding says only that it failed, since
/// regorus's report names the file and line, which differ between two texts that fail
/// alike.
fn judged(findings: &[StoredFinding]) -> Vec<(&str, &str, &str, &str)> {
    findings
        .iter()
        .map(|f| {
            let message = if f.message.starts_with(super::RULE_FAILED) {
                super::RULE_FAILED
            } else {
                f.message.as_str()
            };
            (
                f.resource_id.as_str(),
                f.resource_type.as_str(),
                f.status.as_str(),
                message,
            )
        })
        .collect()
}

/// One step of a property path: a key of an object or a position in an array.
#[derive(Clone)]
enum Step {
    Key(String),
    At(usize),
}

/// The case as written, then the case with each property of each resource changed in
/// each way, each with a description of the change.
fn changes(case: &TestCase) -> Vec<(String, TestCase)> {
    let mut out = vec![("as written".to_owned(), case.clone())];
    for (i, resource) in case.resources.iter().enumerate() {
        for (change, properties) in malformed(&resource.properties) {
            let mut changed = case.clone();
            changed.resources[i].properties = properties;
            out.push((format!("{}: {change}", resource.id), changed));
        }
    }
    out
}

/// `properties` with one property changed, for each property (nested ones too) and
/// each change: removed, or set to null, a string, true, false, `{}`, `[]` or 0. Each
/// comes with what was changed, as `properties.a.b set to "x"`.
pub(super) fn malformed(properties: &Value) -> Vec<(String, Value)> {
    let replacements = [
        ("null", Value::Null),
        ("\"x\"", Value::from("x")),
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("{}", Value::Object(serde_json::Map::new())),
        ("[]", Value::Array(Vec::new())),
        ("0", Value::from(0)),
    ];
    let mut paths = Vec::new();
    property_paths(properties, &mut Vec::new(), &mut paths);
    let mut out = Vec::new();
    for path in paths {
        let name = format!("properties{}", path_text(&path));
        let mut removed = properties.clone();
        if remove(&mut removed, &path) {
            out.push((format!("{name} removed"), removed));
        }
        for (text, value) in &replacements {
            let mut changed = properties.clone();
            if let Some(slot) = at(&mut changed, &path) {
                *slot = value.clone();
                out.push((format!("{name} set to {text}"), changed));
            }
        }
    }
    out
}

/// Every path below `value` (not `value` itself), parents before children.
fn property_paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(fields) => fields.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (Step::At(i), v)).collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        prefix.push(step);
        out.push(prefix.clone());
        property_paths(child, prefix, out);
        prefix.pop();
    }
}

fn path_text(path: &[Step]) -> String {
    path.iter()
        .map(|step| match step {
            Step::Key(k) => format!(".{k}"),
            Step::At(i) => format!("[{i}]"),
        })
        .collect()
}

fn at<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, step| match (step, v) {
        (Step::Key(k), Value::Object(fields)) => fields.get_mut(k),
        (Step::At(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    })
}

fn remove(value: &mut Value, path: &[Step]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    match (last, at(value, parent)) {
        (Step::Key(k), Some(Value::Object(fields))) => fields.remove(k).is_some(),
        (Step::At(i), Some(Value::Array(items))) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}
