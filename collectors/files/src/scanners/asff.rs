//! AWS Security Finding Format (ASFF): `aws securityhub get-findings` output
//! (`{"Findings": [...]}`), or a bare array of findings (Prowler's `json-asff` output).
//!
//! The fields read: `GeneratorId`, `Compliance.SecurityControlId`, `Compliance.Status`,
//! `Compliance.RelatedRequirements`, `Severity.Label` (else `Severity.Normalized`),
//! `AwsAccountId`, `Region`, `Resources[0].Id`, `Title`, `Description`,
//! `Remediation.Recommendation`, `Workflow.Status`, `RecordState`.
//!
//! Findings Prowler wrote (`ProductFields.ProviderName` = `Prowler`) keep Prowler's
//! namespace (`scan.prowler.<check>`), so Prowler's ASFF, OCSF and CSV of one scan are
//! the same findings.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Finding, Scan, Severity, id_part, map_requirement, prowler_ocsf, scope, text};

pub const SCANNER: &str = "securityhub";

fn is_finding(value: &Value) -> bool {
    value.get("SchemaVersion").is_some() && value.get("ProductArn").is_some()
}

/// `{"Findings": [...]}`, or an array of ASFF findings.
pub fn looks_like(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.get("Findings").is_some_and(Value::is_array),
        Value::Array(items) => items.first().is_some_and(is_finding),
        _ => false,
    }
}

fn from_prowler(finding: &Value) -> bool {
    text(finding, "/ProductFields/ProviderName").is_some_and(|p| p.eq_ignore_ascii_case("prowler"))
}

fn severity_of(finding: &Value) -> Option<Severity> {
    for pointer in ["/Severity/Label", "/FindingProviderFields/Severity/Label"] {
        if let Some(s) = text(finding, pointer).and_then(Severity::from_label) {
            return Some(s);
        }
    }
    // `Normalized` is 0-100; Security Hub's own label thresholds.
    let normalized = finding.pointer("/Severity/Normalized").and_then(Value::as_f64)?;
    Some(match normalized {
        n if n >= 90.0 => Severity::Critical,
        n if n >= 70.0 => Severity::High,
        n if n >= 40.0 => Severity::Medium,
        n if n >= 1.0 => Severity::Low,
        _ => Severity::Info,
    })
}

/// `ISO/IEC 27001:2022 A.8.24`, `SOC 2 CC6.1`, Prowler's `ISO27001-2022 A.5.15 A.8.5`:
/// the shortest leading words that name a framework of ours, then its requirement IDs.
/// `NIST.800-53.r5 AC-2` and the like name no framework of ours and map to nothing.
pub fn map_related(requirements: &mut BTreeMap<&'static str, std::collections::BTreeSet<String>>, entry: &str) {
    let words: Vec<&str> = entry.split_whitespace().collect();
    for k in 1..words.len() {
        let label = words[..k].join(" ");
        if super::framework_of(&label).is_some() {
            for id in &words[k..] {
                map_requirement(requirements, &label, id);
            }
            return;
        }
    }
}

enum Outcome {
    Failed(bool),
    Skip(&'static str),
}

/// Security Hub's verdict: the control's `Compliance.Status` when there is one, else the
/// workflow. An archived finding is one Security Hub no longer considers current (the
/// resource is gone, or the control was disabled): not imported, and counted.
fn outcome(finding: &Value) -> Result<Outcome, String> {
    if text(finding, "/RecordState").is_some_and(|s| s.eq_ignore_ascii_case("ARCHIVED")) {
        return Ok(Outcome::Skip("archived"));
    }
    if let Some(status) = text(finding, "/Compliance/Status") {
        return match status.to_ascii_uppercase().as_str() {
            "PASSED" => Ok(Outcome::Failed(false)),
            "FAILED" | "WARNING" => Ok(Outcome::Failed(true)),
            "NOT_AVAILABLE" => Ok(Outcome::Skip("not_available")),
            other => Err(format!(
                "unknown Compliance.Status `{other}` (ASFF has PASSED, WARNING, FAILED, NOT_AVAILABLE)"
            )),
        };
    }
    let workflow = text(finding, "/Workflow/Status").or_else(|| text(finding, "/WorkflowState"));
    Ok(Outcome::Failed(
        !workflow.is_some_and(|w| w.eq_ignore_ascii_case("RESOLVED")),
    ))
}

pub fn parse(value: &Value) -> Result<Scan, String> {
    let findings = match value {
        Value::Object(map) => map.get("Findings").and_then(Value::as_array),
        Value::Array(items) => Some(items),
        _ => None,
    }
    .ok_or("no `Findings` list")?;
    if findings.is_empty() {
        // An empty list names no account or region: there is no telling what it covers.
        return Err("an empty `Findings` list: it does not say which account and region it covers".into());
    }
    let prowler = findings.iter().all(from_prowler);
    let tool = match (
        prowler,
        findings.first().and_then(|f| text(f, "/ProductFields/ProviderVersion")),
    ) {
        (true, Some(version)) => format!("Prowler {version} (ASFF)"),
        (true, None) => "Prowler (ASFF)".to_owned(),
        (false, _) => "AWS Security Hub (ASFF)".to_owned(),
    };
    let mut scan = Scan::new(tool);
    for (i, finding) in findings.iter().enumerate() {
        let at = |what: String| format!("finding {} (of {}): {what}", i + 1, findings.len());
        if !is_finding(finding) {
            return Err(at("not an ASFF finding (no SchemaVersion or ProductArn)".into()));
        }
        let generator = text(finding, "/GeneratorId").ok_or_else(|| at("no GeneratorId".into()))?;
        let account = text(finding, "/AwsAccountId").ok_or_else(|| at(format!("{generator}: no AwsAccountId")))?;
        let resource =
            text(finding, "/Resources/0/Id").ok_or_else(|| at(format!("{generator}: no Resources[0].Id")))?;
        let severity = severity_of(finding).ok_or_else(|| at(format!("{generator}: no recognisable Severity")))?;
        let region = text(finding, "/Region").or_else(|| text(finding, "/Resources/0/Region"));
        let mut related = BTreeMap::new();
        let entries: Vec<&str> = finding
            .pointer("/Compliance/RelatedRequirements")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for entry in &entries {
            map_related(&mut related, entry);
        }
        let scope = scope(Some("aws"), Some(account), region);
        let (scanner, rule) = match generator.strip_prefix("prowler-") {
            Some(check) if from_prowler(finding) => (prowler_ocsf::SCANNER, check),
            _ => (
                SCANNER,
                text(finding, "/Compliance/SecurityControlId").unwrap_or(generator),
            ),
        };
        let failed = match outcome(finding).map_err(|e| at(format!("{generator}: {e}")))? {
            Outcome::Failed(failed) => failed,
            Outcome::Skip(reason) => {
                scan.skip(scanner, &scope, reason);
                continue;
            }
        };
        let remediation = match (
            text(finding, "/Remediation/Recommendation/Text"),
            text(finding, "/Remediation/Recommendation/Url"),
        ) {
            (Some(text), Some(url)) => Some(format!("{text} See {url}")),
            (Some(text), None) => Some(text.to_owned()),
            (None, Some(url)) => Some(format!("See {url}")),
            (None, None) => None,
        };
        scan.findings.push(Finding {
            scope,
            scanner: scanner.to_owned(),
            rule: rule.to_owned(),
            control: format!("scan.{scanner}.{}", id_part(rule)),
            severity,
            failed,
            title: text(finding, "/Title").unwrap_or(rule).to_owned(),
            message: text(finding, "/Description").unwrap_or_default().to_owned(),
            resource: resource.to_owned(),
            remediation,
            requirements: related,
            compliance_field: Some("Compliance.RelatedRequirements"),
        });
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_requirements() {
        let mut r = BTreeMap::new();
        map_related(&mut r, "NIST.800-53.r5 AC-2(1)");
        map_related(&mut r, "PCI DSS v3.2.1/8.3.1");
        map_related(&mut r, "ISO27001-2013 A.9.2.J A.9.3.H");
        assert!(r.is_empty(), "{r:?}");
        map_related(&mut r, "ISO/IEC 27001:2022 A.8.24");
        map_related(&mut r, "ISO27001-2022 A.5.15 A.8.5");
        map_related(&mut r, "SOC 2 CC6.1");
        assert_eq!(
            r.get("iso27001").map(|s| s.iter().cloned().collect::<Vec<_>>()),
            Some(vec!["A.5.15".to_owned(), "A.8.24".into(), "A.8.5".into()])
        );
        assert_eq!(r.get("soc2").map(|s| s.len()), Some(1));
    }
}
