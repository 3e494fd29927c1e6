//! One malformed record must not leave the rest of its scope unjudged.
//!
//! A rule that fails (a builtin handed the wrong type, `object.get` on a string) makes
//! the engine report every resource of the scope `error`: a region's hundred volumes
//! unjudged over one volume's odd tags. That is never a pass, but it is a hundred
//! findings nobody can act on, and records do arrive malformed (an exporter's bug, a
//! field AWS changed). So `evidra controls test` runs each case again with a malformed
//! copy of each of its resources beside the originals: the copy may be judged anything,
//! including `error`, but the rule may not fail.

use std::collections::HashSet;

use super::rewrite::malformed;
use super::testing::case_findings_with;
use super::{EngineError, RULE_FAILED};
use crate::catalogue::{Control, TestResource};

/// An input on which the rule failed for the whole scope.
#[derive(Debug)]
pub struct Unjudged {
    /// The test case the copy was put in.
    pub case: String,
    /// The copy and its change: `a copy of ID with properties.a set to "x"`.
    pub change: String,
    /// The rule's error, on one line.
    pub error: String,
}

/// The inputs, made of one of `control`'s cases and one malformed copy of one of its
/// resources, on which the rule failed. Each change (a resource type's property path,
/// and what it was set to) is tried in the first case that has it: cases mostly differ
/// in values, and a rule that fails on a type fails on it in every case. A case on
/// which the rule fails as written is its author's business and is not tried.
pub fn unjudged_beside_malformed(control: &Control) -> Result<Vec<Unjudged>, EngineError> {
    let rule = &mut None;
    let mut tried = HashSet::new();
    let mut out = Vec::new();
    for case in &control.tests {
        if failed(&case_findings_with(control, rule, case)?).is_some() {
            continue;
        }
        for resource in &case.resources {
            for (change, properties) in malformed(&resource.properties) {
                if !tried.insert((resource.resource_type.clone(), without_positions(&change))) {
                    continue;
                }
                let copy = TestResource {
                    id: format!("{}-malformed-copy", resource.id),
                    resource_type: resource.resource_type.clone(),
                    properties,
                };
                let mut input = case.clone();
                input.resources.push(copy);
                if let Some(error) = failed(&case_findings_with(control, rule, &input)?) {
                    out.push(Unjudged {
                        case: case.name.clone(),
                        change: format!("a copy of {} with {change}", resource.id),
                        error,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// `change` with every array position left out (`a[3].b` as `a[].b`): a rule reads the
/// elements of a list alike, so the first that has a property stands for the rest.
fn without_positions(change: &str) -> String {
    let mut out = String::with_capacity(change.len());
    let mut in_brackets = false;
    for c in change.chars() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ if in_brackets && c.is_ascii_digit() => continue,
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The rule's error, when the findings say it failed.
fn failed(findings: &[crate::store::StoredFinding]) -> Option<String> {
    findings
        .iter()
        .find(|f| f.message.starts_with(RULE_FAILED))
        .map(|f| f.message.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(rule: &str) -> Control {
        let toml = r#"id = "custom.tags"
title = "t"
severity = "low"
resource_types = ["aws.ec2.volume"]
description = "d"
rationale = "r"
[[requirement]]
framework = "soc2"
id = "CC6.1"
rationale = "r"
[remediation]
summary = "s"
[[test]]
name = "one volume"
[[test.resource]]
id = "vol-1"
properties = { tags = { Name = "root" } }
[[test.expect]]
resource = "vol-1"
status = "pass"
"#;
        let mut control: Control = toml::from_str(toml).unwrap();
        control.rego = rule.to_owned();
        control.rego_source = "custom/tags.rego".into();
        control
    }

    #[test]
    fn object_get_on_a_copys_string_tags_leaves_the_scope_unjudged() {
        let c = control(
            r#"package controls.custom.tags
results contains {"resource": r.id, "status": "pass", "message": object.get(r.properties.tags, "Name", "-")} if some r in input.resources"#,
        );
        let unjudged = unjudged_beside_malformed(&c).unwrap();
        let changes: Vec<&str> = unjudged.iter().map(|u| u.change.as_str()).collect();
        assert!(
            changes.contains(&"a copy of vol-1 with properties.tags set to \"x\""),
            "{changes:#?}"
        );
        assert!(unjudged[0].error.starts_with(RULE_FAILED), "{unjudged:?}");
    }

    #[test]
    fn a_reference_to_a_copys_string_tags_is_only_undefined() {
        let c = control(
            r#"package controls.custom.tags
name(r) := n if {
    n := r.properties.tags.Name
} else := "-"
results contains {"resource": r.id, "status": "pass", "message": name(r)} if some r in input.resources"#,
        );
        let unjudged = unjudged_beside_malformed(&c).unwrap();
        assert!(unjudged.is_empty(), "{unjudged:#?}");
    }

    #[test]
    fn positions_in_a_path_are_left_out_but_quoted_text_is_kept() {
        assert_eq!(
            without_positions("properties.rules[12].ports[0] set to \"x\""),
            "properties.rules[].ports[] set to \"x\""
        );
    }

    #[test]
    fn a_case_that_fails_as_written_is_not_tried() {
        let c = control(
            r#"package controls.custom.tags
results contains {"resource": r.id, "status": "pass", "message": object.get("x", "Name", "-")} if some r in input.resources"#,
        );
        assert!(unjudged_beside_malformed(&c).unwrap().is_empty());
    }
}
