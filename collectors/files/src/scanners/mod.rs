//! Scanner outputs: Prowler (OCSF JSON and CSV), AWS Security Hub findings (ASFF) and
//! SARIF 2.1.0 (Trivy, Checkov, Semgrep...).
//!
//! Each scanner result becomes one `scan.finding` record whose ID is stable across scans
//! (`<scanner>/<rule>/<resource>`), so the same problem seen in two scans is one thing
//! that stayed open, and a problem missing from a later scan of the same scope was
//! fixed. Each file also yields one `scan.report` record per scope it covers: which
//! scanner looked at which account and region, even when it found nothing. That is what
//! tells "fixed" from "not scanned this time" (a clean SARIF file has no results at all).
//!
//! The scanner's own framework mapping (Prowler's compliance fields, Security Hub's
//! related requirements) is translated onto evidra's SOC 2 and ISO/IEC 27001:2022
//! requirement IDs; anything else (NIST, CIS, ISO 27001:2013, whose Annex A is numbered
//! differently) is not ours and is left out. A finding with no requirement of ours is
//! kept and marked `unmapped`, never dropped.

pub mod asff;
pub mod prowler_csv;
pub mod prowler_ocsf;
pub mod sarif;

use std::collections::{BTreeMap, BTreeSet};

use evidra_collector_core::{Batch, Observation, ResourceRecord, Scope};
use serde_json::{Map, Value, json};

use crate::detect::Kind;

/// The resource type of one scanner result.
pub const FINDING: &str = "scan.finding";
/// The resource type saying a scanner covered a scope (one per scanner and scope).
pub const REPORT: &str = "scan.report";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
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

    /// A scanner's word for it: `CRITICAL`, `High`, `informational`, `moderate`...
    pub fn from_label(label: &str) -> Option<Self> {
        Some(match label.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" => Severity::Low,
            "informational" | "info" | "information" | "none" | "unknown" => Severity::Info,
            _ => return None,
        })
    }

    /// A CVSS-style score (0-10), as SARIF's `security-severity` property carries it.
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Info,
        }
    }
}

/// One scanner result, normalised.
#[derive(Debug, Clone)]
pub struct Finding {
    pub scope: Scope,
    /// The scanner, lowercase: `prowler`, `securityhub`, or the SARIF tool (`trivy`).
    pub scanner: String,
    /// The scanner's own rule or check ID, verbatim.
    pub rule: String,
    /// `scan.prowler.<check>`, `scan.securityhub.<control>`, `scan.sarif.<tool>.<rule>`.
    pub control: String,
    pub severity: Severity,
    /// `true`: the scanner says the check failed.
    pub failed: bool,
    pub title: String,
    pub message: String,
    /// The scanner's identifier of the resource (an ARN, a file path...).
    pub resource: String,
    pub remediation: Option<String>,
    /// Mapped requirement IDs by framework (`soc2`, `iso27001`).
    pub requirements: BTreeMap<&'static str, BTreeSet<String>>,
    /// The field of the scanner's output the mapping was read from.
    pub compliance_field: Option<&'static str>,
}

/// One scanner output file, parsed.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The scanner and version as the file names them (`Prowler 5.13.1`), for people.
    pub tool: String,
    pub findings: Vec<Finding>,
    /// Scopes the file covers beyond those of its findings (a clean SARIF file).
    pub scopes: BTreeSet<(String, Scope)>,
    /// Results not imported, by scanner, scope and reason (`manual`, `suppressed`...):
    /// counted in the `scan.report` record, never dropped silently.
    pub skipped: BTreeMap<(String, Scope, String), usize>,
}

impl Scan {
    pub fn new(tool: String) -> Self {
        Self {
            tool,
            findings: Vec::new(),
            scopes: BTreeSet::new(),
            skipped: BTreeMap::new(),
        }
    }

    /// A result not imported (a check Prowler leaves to a person, a suppressed result).
    /// Its scope was still scanned.
    pub fn skip(&mut self, scanner: &str, scope: &Scope, reason: &str) {
        *self
            .skipped
            .entry((scanner.to_owned(), scope.clone(), reason.to_owned()))
            .or_default() += 1;
    }

    /// Every (scanner, scope) the file covers.
    pub fn covered(&self) -> BTreeSet<(String, Scope)> {
        let mut out = self.scopes.clone();
        out.extend(self.findings.iter().map(|f| (f.scanner.clone(), f.scope.clone())));
        out.extend(
            self.skipped
                .keys()
                .map(|(scanner, scope, _)| (scanner.clone(), scope.clone())),
        );
        out
    }
}

/// Which scanner output a JSON document is, if any. SARIF and ASFF are told by their
/// own top-level shape; Prowler's OCSF by its findings' class (2004, Detection Finding).
pub fn kind_of(value: &Value) -> Option<Kind> {
    if sarif::looks_like(value) {
        Some(Kind::Sarif)
    } else if prowler_ocsf::looks_like(value) {
        Some(Kind::ProwlerOcsf)
    } else if asff::looks_like(value) {
        Some(Kind::Asff)
    } else {
        None
    }
}

/// Whether an evidence record's operation is a scanner output's (`prowler:csv`...): a
/// run without one has no scanner records, which spares reading its resources.
pub fn is_operation(operation: &str) -> bool {
    [Kind::ProwlerOcsf, Kind::ProwlerCsv, Kind::Asff, Kind::Sarif]
        .iter()
        .any(|k| k.operation() == operation)
}

/// Parses a JSON scanner output of `kind` (as [`kind_of`] told it).
pub fn parse(kind: Kind, value: Value) -> Result<Scan, String> {
    match kind {
        Kind::Sarif => sarif::parse(value),
        Kind::ProwlerOcsf => prowler_ocsf::parse(&value).map_err(|e| format!("Prowler OCSF: {e}")),
        Kind::Asff => asff::parse(&value).map_err(|e| format!("ASFF: {e}")),
        other => Err(format!("{} is not a JSON scanner output", other.operation())),
    }
}

/// The scope of a finding: `aws`/`azure` when the scanner says so, else `scan`; the
/// account and region as stated, else `scan` and `global`.
pub fn scope(provider: Option<&str>, account: Option<&str>, region: Option<&str>) -> Scope {
    let provider = match provider.map(str::to_ascii_lowercase).as_deref() {
        Some("aws") => "aws",
        Some("azure") => "azure",
        _ => "scan",
    };
    let nonempty = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    Scope::new(
        provider,
        nonempty(account).unwrap_or_else(|| "scan".into()),
        nonempty(region).unwrap_or_else(|| "global".into()),
    )
}

/// One part of a control ID: lowercase ASCII letters, digits and `_` (`AVD-AWS-0086` →
/// `avd_aws_0086`). Deterministic, so the same rule always gets the same control.
pub fn id_part(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "unnamed".into()
    } else {
        trimmed.to_owned()
    }
}

/// A dotted rule ID (Semgrep's `python.lang.security.audit.eval`) keeps its dots.
pub fn dotted_id(text: &str) -> String {
    text.split('.')
        .filter(|p| !p.trim().is_empty())
        .map(id_part)
        .collect::<Vec<_>>()
        .join(".")
}

/// The evidra framework a scanner's framework label names, if it is one of ours.
///
/// ISO/IEC 27001:2013 is not: its Annex A is numbered differently (A.9.2 is not A.8.5),
/// and guessing a translation would put evidence under the wrong requirement.
pub fn framework_of(label: &str) -> Option<&'static str> {
    let norm: String = label
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    if norm.contains("SOC2") {
        Some("soc2")
    } else if (norm.contains("27001") || norm.contains("27002")) && norm.contains("2022") {
        // ISO/IEC 27002:2022 numbers its controls exactly as 27001:2022's Annex A.
        Some("iso27001")
    } else {
        None
    }
}

/// Splits a requirement ID into letter and number tokens: `cc_6_1` → [CC, 6, 1],
/// `A.8.5` → [A, 8, 5], `CC6.1` → [CC, 6, 1].
fn tokens(id: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    for c in id.chars() {
        // A token ends at punctuation and where letters turn to digits or back.
        if !current.is_empty() && (!c.is_ascii_alphanumeric() || c.is_ascii_digit() != digits) {
            out.push(std::mem::take(&mut current));
        }
        if c.is_ascii_alphanumeric() {
            digits = c.is_ascii_digit();
            current.push(c.to_ascii_uppercase());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn number(token: &str) -> Option<u32> {
    token.parse().ok()
}

/// A scanner's requirement ID in `framework`, as evidra spells it: SOC 2 `cc_6_1` →
/// `CC6.1` and Prowler's `cc_a_1_2` → `A1.2`; ISO `A.8.5`, `a_8_5` or `8.5` → `A.8.5`.
/// None when it is not shaped like one of ours.
pub fn requirement_id(framework: &str, id: &str) -> Option<String> {
    let tokens = tokens(id);
    let split = tokens.iter().position(|t| number(t).is_some())?;
    let (letters, numbers) = tokens.split_at(split);
    let numbers: Vec<u32> = numbers.iter().map(|t| number(t)).collect::<Option<_>>()?;
    match framework {
        "soc2" => {
            // Prowler files the availability, confidentiality... criteria under `cc_`.
            let series = match letters {
                [s] => s.as_str(),
                [cc, s] if cc == "CC" => s.as_str(),
                _ => return None,
            };
            match (series, numbers.as_slice()) {
                ("CC" | "A" | "C" | "PI" | "P", [a, b]) => Some(format!("{series}{a}.{b}")),
                _ => None,
            }
        }
        "iso27001" => match (letters, numbers.as_slice()) {
            ([] | [_], [a @ 5..=8, b]) if letters.iter().all(|l| l == "A") => Some(format!("A.{a}.{b}")),
            _ => None,
        },
        _ => None,
    }
}

/// Adds one mapping (`SOC2` + `cc_6_1`) to `requirements` if it is ours.
pub fn map_requirement(
    requirements: &mut BTreeMap<&'static str, BTreeSet<String>>,
    framework_label: &str,
    id: &str,
) -> bool {
    let Some(framework) = framework_of(framework_label) else {
        return false;
    };
    match requirement_id(framework, id) {
        Some(id) => {
            requirements.entry(framework).or_default().insert(id);
            true
        }
        None => false,
    }
}

/// What one batch accumulates from the scan files it imports.
#[derive(Default)]
pub struct Collected {
    /// Findings by record key (scope, resource ID): one record per finding, whichever
    /// files (Prowler's OCSF and CSV of one scan) state it.
    findings: BTreeMap<(Scope, String), Entry>,
    /// What each (scanner, scope) was covered by: tools, files, evidence, skips.
    reports: BTreeMap<(String, Scope), Coverage>,
}

/// One finding as every statement of it says: the first statement, the files citing it,
/// and the distinct messages of its failing and passing statements.
struct Entry {
    finding: Finding,
    evidence: BTreeSet<String>,
    failing: BTreeSet<String>,
    passing: BTreeSet<String>,
}

#[derive(Default)]
struct Coverage {
    tools: BTreeSet<String>,
    files: BTreeSet<String>,
    evidence: BTreeSet<String>,
    /// Per file (two files of one scan state the same skips): reason → count.
    skipped: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Collected {
    /// Adds the scan of the file at `path` (evidence `sha256`).
    pub fn add(&mut self, scan: &Scan, sha256: &str, path: &str) {
        for key in scan.covered() {
            let coverage = self.reports.entry(key).or_default();
            coverage.tools.insert(scan.tool.clone());
            coverage.files.insert(path.to_owned());
            coverage.evidence.insert(sha256.to_owned());
        }
        for ((scanner, scope, reason), n) in &scan.skipped {
            let coverage = self.reports.entry((scanner.clone(), scope.clone())).or_default();
            *coverage
                .skipped
                .entry(path.to_owned())
                .or_default()
                .entry(reason.clone())
                .or_default() += n;
        }
        for finding in &scan.findings {
            let key = (finding.scope.clone(), resource_id(finding));
            let entry = self.findings.entry(key).or_insert_with(|| Entry {
                finding: finding.clone(),
                evidence: BTreeSet::new(),
                failing: BTreeSet::new(),
                passing: BTreeSet::new(),
            });
            merge(&mut entry.finding, finding);
            entry.evidence.insert(sha256.to_owned());
            if finding.failed {
                entry.failing.insert(finding.message.clone());
            } else {
                entry.passing.insert(finding.message.clone());
            }
        }
    }

    /// The records and observations of everything added.
    pub fn into_batch(self, out: &mut Batch) {
        let mut observed: BTreeMap<Scope, BTreeSet<String>> = BTreeMap::new();
        for ((scope, id), entry) in self.findings {
            let Entry {
                mut finding,
                evidence,
                failing,
                passing,
            } = entry;
            // A failure anywhere wins; every distinct message of the verdict is kept.
            finding.failed = !failing.is_empty();
            let messages = if finding.failed { failing } else { passing };
            finding.message = messages.into_iter().collect::<Vec<_>>().join("\n");
            out.resources.push(ResourceRecord {
                provider: scope.provider.clone(),
                account: scope.account.clone(),
                region: scope.region.clone(),
                resource_type: FINDING.into(),
                resource_id: id,
                properties: properties(&finding),
                evidence: evidence.into_iter().collect(),
            });
        }
        for ((scanner, scope), coverage) in self.reports {
            observed
                .entry(scope.clone())
                .or_default()
                .extend(coverage.evidence.iter().cloned());
            out.resources.push(ResourceRecord {
                provider: scope.provider.clone(),
                account: scope.account.clone(),
                region: scope.region.clone(),
                resource_type: REPORT.into(),
                resource_id: scanner.clone(),
                properties: json!({
                    "scanner": scanner,
                    "tools": coverage.tools,
                    "files": coverage.files,
                    "skipped": coverage.skipped,
                }),
                evidence: coverage.evidence.into_iter().collect(),
            });
        }
        for (scope, evidence) in observed {
            for resource_type in [FINDING, REPORT] {
                out.observations.push(Observation {
                    scope: scope.clone(),
                    resource_type: resource_type.into(),
                    evidence: evidence.iter().cloned().collect(),
                });
            }
        }
    }
}

/// `<scanner>/<rule>/<resource>`: the same finding in two scans has the same ID.
pub fn resource_id(f: &Finding) -> String {
    format!("{}/{}/{}", f.scanner, f.rule, f.resource)
}

/// Two statements of one finding (two files of one scan, or one rule hitting one file
/// at several lines): the highest severity, every requirement, the first remediation.
/// (Status and message are settled in [`Collected::into_batch`].)
fn merge(into: &mut Finding, other: &Finding) {
    into.severity = into.severity.max(other.severity);
    for (framework, ids) in &other.requirements {
        into.requirements
            .entry(framework)
            .or_default()
            .extend(ids.iter().cloned());
    }
    if into.compliance_field.is_none() {
        into.compliance_field = other.compliance_field;
    }
    if into.remediation.is_none() {
        into.remediation.clone_from(&other.remediation);
    }
}

fn properties(f: &Finding) -> Value {
    let mut requirements = Map::new();
    for (framework, ids) in &f.requirements {
        if !ids.is_empty() {
            requirements.insert((*framework).to_owned(), json!(ids));
        }
    }
    let unmapped = requirements.is_empty();
    json!({
        "scanner": f.scanner,
        "rule": f.rule,
        "control": f.control,
        "severity": f.severity.as_str(),
        "status": if f.failed { "fail" } else { "pass" },
        "title": f.title,
        "message": f.message,
        "resource": f.resource,
        "remediation": f.remediation,
        "requirements": requirements,
        "compliance_field": f.compliance_field,
        "unmapped": unmapped,
    })
}

/// A JSON string at `pointer`, trimmed, if present and not empty.
pub(crate) fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_ids_become_ours() {
        assert_eq!(requirement_id("soc2", "cc_6_1").as_deref(), Some("CC6.1"));
        assert_eq!(requirement_id("soc2", "CC6.1").as_deref(), Some("CC6.1"));
        assert_eq!(requirement_id("soc2", "cc_a_1_2").as_deref(), Some("A1.2"));
        assert_eq!(requirement_id("soc2", "cc_c_1_1").as_deref(), Some("C1.1"));
        assert_eq!(requirement_id("soc2", "pi_1_3").as_deref(), Some("PI1.3"));
        assert_eq!(requirement_id("soc2", "cc_6"), None);
        assert_eq!(requirement_id("iso27001", "A.8.5").as_deref(), Some("A.8.5"));
        assert_eq!(requirement_id("iso27001", "a_8_5").as_deref(), Some("A.8.5"));
        assert_eq!(requirement_id("iso27001", "8.24").as_deref(), Some("A.8.24"));
        assert_eq!(requirement_id("iso27001", "A.9.2"), None, "not a 2022 Annex A control");
        assert_eq!(framework_of("SOC2"), Some("soc2"));
        assert_eq!(framework_of("ISO27001-2022"), Some("iso27001"));
        assert_eq!(framework_of("ISO/IEC 27001:2022"), Some("iso27001"));
        assert_eq!(framework_of("ISO27001-2013"), None);
        assert_eq!(framework_of("NIST.800-53.r5"), None);
    }

    #[test]
    fn control_parts_are_stable() {
        assert_eq!(id_part("AVD-AWS-0086"), "avd_aws_0086");
        assert_eq!(id_part("CKV_AWS_18"), "ckv_aws_18");
        assert_eq!(id_part("security-control/IAM.6"), "security_control_iam_6");
        assert_eq!(
            dotted_id("python.lang.security.audit.eval"),
            "python.lang.security.audit.eval"
        );
        assert_eq!(Severity::from_score(7.5), Severity::High);
    }
}
