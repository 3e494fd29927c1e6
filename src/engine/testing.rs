//! `evidra controls test`: each control's own cases (input records and gaps →
//! expected results), in the spirit of ruff's fixtures and regorus' YAML cases.
//! Matching is strict: every finding must be expected, and every expectation met.

use evidra_collector_core::{Gap, Observation, ResourceRecord, Scope, sha256_hex};

use super::malformed::unjudged_beside_malformed;
use super::{EngineError, Index, Rule, evaluate_control_with, now_ns};
use crate::catalogue::{Control, TestCase};
use crate::store::{RunData, StoredFinding};

/// Evaluation time of cases that set none, fixed so that cases never age.
pub const DEFAULT_NOW: &str = "2026-11-20T00:00:00Z";

#[derive(Debug)]
pub struct CaseResult {
    pub control: String,
    pub case: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

/// The scope a case runs in.
pub fn case_scope(control: &Control, case: &TestCase) -> Scope {
    let first = control.resource_types.first().map(String::as_str).unwrap_or_default();
    let provider = first.split('.').next().unwrap_or("aws");
    let account = case.account.clone().unwrap_or_else(|| {
        if provider == "azure" {
            "00000000-0000-0000-0000-000000000000".into()
        } else {
            "123456789012".into()
        }
    });
    let default_region = if provider == "aws" && !first.starts_with("aws.iam.") {
        "us-east-1"
    } else {
        "global"
    };
    Scope::new(
        provider,
        account,
        case.region.clone().unwrap_or_else(|| default_region.into()),
    )
}

pub fn run_case(control: &Control, case: &TestCase) -> CaseResult {
    let mut failures = Vec::new();
    let findings = case_findings(control, case).unwrap_or_else(|e| {
        failures.push(e.to_string());
        Vec::new()
    });
    let mut unmatched: Vec<&StoredFinding> = findings.iter().collect();
    for expect in &case.expect {
        let position = unmatched.iter().position(|f| {
            f.resource_id == expect.resource
                && f.status == expect.status
                && expect.message.as_ref().is_none_or(|m| f.message.contains(m.as_str()))
        });
        match position {
            Some(i) => {
                unmatched.remove(i);
            }
            None => {
                let got: Vec<String> = findings
                    .iter()
                    .filter(|f| f.resource_id == expect.resource)
                    .map(|f| format!("{} \"{}\"", f.status, f.message))
                    .collect();
                failures.push(format!(
                    "expected {} on {}{}; got {}",
                    expect.status,
                    expect.resource,
                    expect
                        .message
                        .as_ref()
                        .map(|m| format!(" with message containing \"{m}\""))
                        .unwrap_or_default(),
                    if got.is_empty() {
                        "no finding for it".into()
                    } else {
                        got.join(", ")
                    }
                ));
            }
        }
    }
    for f in unmatched {
        failures.push(format!(
            "unexpected finding: {} on {} \"{}\"",
            f.status, f.resource_id, f.message
        ));
    }
    CaseResult {
        control: control.id.clone(),
        case: case.name.clone(),
        failures,
    }
}

/// The findings `control` makes of `case`'s records and gaps, in the case's scope.
pub fn case_findings(control: &Control, case: &TestCase) -> Result<Vec<StoredFinding>, EngineError> {
    case_findings_with(control, &mut None, case)
}

/// [`case_findings`], with `rule` holding the control's compiled rule once compiled.
pub(super) fn case_findings_with(
    control: &Control,
    rule: &mut Option<Rule>,
    case: &TestCase,
) -> Result<Vec<StoredFinding>, EngineError> {
    let scope = case_scope(control, case);
    let mut data = RunData::default();
    for r in &case.resources {
        let resource_type = r
            .resource_type
            .clone()
            .or_else(|| control.resource_types.first().cloned())
            .unwrap_or_default();
        let sha = sha256_hex(crate::canonical::to_string(&r.properties).as_bytes());
        data.resources.push(ResourceRecord {
            provider: scope.provider.clone(),
            account: scope.account.clone(),
            region: scope.region.clone(),
            resource_type,
            resource_id: r.id.clone(),
            properties: r.properties.clone(),
            evidence: vec![sha],
        });
    }
    if case.observed.unwrap_or(true) {
        for t in &control.resource_types {
            data.observations.push(Observation {
                scope: scope.clone(),
                resource_type: t.clone(),
                evidence: vec![sha256_hex(b"observed")],
            });
        }
    }
    for g in &case.gaps {
        let gap = Gap {
            collector: "test".into(),
            scope: scope.clone(),
            operation: g.operation.clone().unwrap_or_else(|| "Read".into()),
            error: g.error.clone(),
            resource_types: g
                .resource_types
                .clone()
                .unwrap_or_else(|| control.resource_types.clone()),
        };
        data.gaps.push((gap, sha256_hex(g.error.as_bytes())));
    }
    let now = case.now.clone().unwrap_or_else(|| DEFAULT_NOW.into());
    evaluate_control_with(control, rule, &Index::new(&data), &now, now_ns(&now)?)
}

/// Runs every case of every control given.
pub fn run_all<'a>(controls: impl IntoIterator<Item = &'a Control>) -> Vec<CaseResult> {
    controls
        .into_iter()
        .flat_map(|c| c.tests.iter().map(move |case| run_case(c, case)))
        .collect()
}

/// Checks, for each control given, that its rule does not fail on a malformed record
/// beside the others ([`unjudged_beside_malformed`]): one result per control, named
/// [`MALFORMED_CHECK`]. `evidra controls test` reports these as warnings, not failures,
/// while rules of the built-in catalogue still fail it (tests/catalogue.rs lists them).
pub fn malformed_checks<'a>(controls: impl IntoIterator<Item = &'a Control>) -> Vec<CaseResult> {
    controls.into_iter().map(malformed_check).collect()
}

/// The name of each result of [`malformed_checks`].
pub const MALFORMED_CHECK: &str = "a malformed record beside the others";

fn malformed_check(control: &Control) -> CaseResult {
    let failures = match unjudged_beside_malformed(control) {
        Ok(unjudged) => unjudged
            .first()
            .map(|first| {
                format!(
                    "the rule fails, leaving every resource of the scope unjudged, on {} \
                     input(s) (read such a value by reference, or test its type first), \
                     e.g. case \"{}\" with {}: {}",
                    unjudged.len(),
                    first.case,
                    first.change,
                    first.error
                )
            })
            .into_iter()
            .collect(),
        Err(e) => vec![e.to_string()],
    };
    CaseResult {
        control: control.id.clone(),
        case: MALFORMED_CHECK.into(),
        failures,
    }
}
