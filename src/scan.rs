//! Scanner findings (Prowler, Security Hub, SARIF tools) as evidra findings and controls.
//!
//! The files collector imports each scanner result as a `scan.finding` record (see
//! `evidra_collector_files::scanners`). The scanner already judged it, so no Rego rule
//! runs: [`findings`] turns each record into a finding under the scanner's own control
//! (`scan.prowler.<check>`, `scan.securityhub.<control>`, `scan.sarif.<tool>.<rule>`),
//! and exceptions then apply to them as to any finding. Those controls are not in the
//! catalogue, so [`controls`] describes them from the records, with the requirements the
//! scanner itself mapped them to; reports show them beside the catalogue's.

use std::collections::{BTreeMap, BTreeSet};

use evidra_collector_core::ResourceRecord;
use serde_json::Value;

pub use evidra_collector_files::scanners::{FINDING, REPORT};

use crate::catalogue::{Control, Mapping, Remediation, Severity};
use crate::store::{RunData, StoredFinding};

/// Control IDs of imported scanner findings start with this.
pub const PREFIX: &str = "scan.";

fn field<'a>(record: &'a ResourceRecord, key: &str) -> Option<&'a str> {
    record.properties.get(key).and_then(Value::as_str)
}

/// One finding per `scan.finding` record of the run: the scanner's control, status and
/// message, citing the files that stated it.
pub fn findings(data: &RunData) -> Vec<StoredFinding> {
    data.resources
        .iter()
        .filter(|r| r.resource_type == FINDING)
        .map(|r| {
            // The importer always writes these; a record without them was written by
            // something else, and says so rather than vanishing from the findings.
            let (control, status, message) = match (field(r, "control"), field(r, "status")) {
                (Some(control), Some(status @ ("pass" | "fail"))) => {
                    (control, status, field(r, "message").unwrap_or_default().to_owned())
                }
                _ => (
                    "scan.invalid.record",
                    "error",
                    "a scan.finding record without a control or a pass/fail status".to_owned(),
                ),
            };
            StoredFinding {
                control: control.to_owned(),
                provider: r.provider.clone(),
                account: r.account.clone(),
                region: r.region.clone(),
                resource_type: r.resource_type.clone(),
                resource_id: r.resource_id.clone(),
                status: status.to_owned(),
                message,
                evidence: r.evidence.clone(),
            }
        })
        .collect()
}

fn severity(text: Option<&str>) -> Severity {
    match text {
        Some("critical") => Severity::Critical,
        Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        Some("low") => Severity::Low,
        _ => Severity::Info,
    }
}

/// One control per distinct scanner control of the run, described from its records:
/// the scanner's title, severity (the highest its findings state) and remediation, and
/// the SOC 2 / ISO 27001 requirements the scanner's own compliance field maps it to.
pub fn controls(data: &RunData) -> Vec<Control> {
    let mut by_id: BTreeMap<&str, Vec<&ResourceRecord>> = BTreeMap::new();
    for r in data.resources.iter().filter(|r| r.resource_type == FINDING) {
        if let Some(control) = field(r, "control") {
            by_id.entry(control).or_default().push(r);
        }
    }
    by_id
        .into_iter()
        .filter_map(|(id, records)| {
            let first = records.first()?;
            let scanner = field(first, "scanner").unwrap_or("scanner");
            let rule = field(first, "rule").unwrap_or(id);
            let title = field(first, "title").unwrap_or(rule);
            let severity = records
                .iter()
                .map(|r| severity(field(r, "severity")))
                .min()
                .unwrap_or(Severity::Info);
            let mut mapped: BTreeSet<(String, String)> = BTreeSet::new();
            let mut fields: BTreeSet<&str> = BTreeSet::new();
            for r in &records {
                if let Some(map) = r.properties.get("requirements").and_then(Value::as_object) {
                    for (framework, ids) in map {
                        for id in ids.as_array().into_iter().flatten().filter_map(Value::as_str) {
                            mapped.insert((framework.clone(), id.to_owned()));
                        }
                    }
                }
                fields.extend(field(r, "compliance_field"));
            }
            let source = fields.into_iter().collect::<Vec<_>>().join(", ");
            let requirements = mapped
                .into_iter()
                .map(|(framework, id)| Mapping {
                    framework,
                    id,
                    rationale: format!("mapped by {scanner}'s own compliance field {source}"),
                })
                .collect();
            let remediation = records
                .iter()
                .find_map(|r| field(r, "remediation"))
                .map(str::to_owned)
                .unwrap_or_else(|| format!("See {scanner}'s documentation of rule {rule}."));
            Some(Control {
                id: id.to_owned(),
                title: format!("{scanner}: {title}"),
                severity,
                resource_types: vec![FINDING.to_owned()],
                context_types: Vec::new(),
                description: format!("Imported from {scanner}, rule {rule}: {title}."),
                rationale: format!(
                    "{scanner} judged this rule; evidra keeps its output verbatim as evidence and imports each result \
                     as a finding, without re-evaluating it."
                ),
                requirements,
                remediation: Remediation {
                    summary: remediation,
                    console: None,
                    cli: None,
                    terraform: None,
                },
                tests: Vec::new(),
                rego: String::new(),
                source: format!("imported from {scanner}"),
                rego_source: String::new(),
            })
        })
        .collect()
}

/// The scanner controls a report of `run` needs: none (and no resource read) when the
/// run has no scanner finding.
pub fn controls_for_report(
    store: &crate::store::Store,
    run: &str,
    has_scanner_findings: bool,
) -> Result<Vec<Control>, crate::store::StoreError> {
    if !has_scanner_findings {
        return Ok(Vec::new());
    }
    Ok(controls(&store.run_data(run)?))
}

/// Whether a scanner control's requirement mapping names a requirement of `framework`;
/// its findings are listed in the framework's reports either way (unmapped ones with
/// `"requirements"` lacking the framework, and counted apart).
pub fn maps_into(requirements: &crate::report::model::RequirementMap, framework: &crate::catalogue::Framework) -> bool {
    requirements
        .get(framework.id.as_str())
        .is_some_and(|ids| ids.iter().any(|id| framework.requirement(id).is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(id: &str, properties: Value) -> ResourceRecord {
        ResourceRecord {
            provider: "aws".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            resource_type: FINDING.into(),
            resource_id: id.into(),
            properties,
            evidence: vec!["ab".into()],
        }
    }

    #[test]
    fn records_become_findings_and_controls() {
        let data = RunData {
            resources: vec![
                record(
                    "prowler/c/r1",
                    json!({"scanner": "prowler", "rule": "c", "control": "scan.prowler.c", "status": "fail",
                           "severity": "high", "title": "T", "message": "m", "compliance_field": "COMPLIANCE",
                           "requirements": {"soc2": ["CC6.1"]}}),
                ),
                record("x/y/z", json!({"status": "weird"})),
            ],
            ..RunData::default()
        };
        let findings = findings(&data);
        assert_eq!(findings[0].control, "scan.prowler.c");
        assert_eq!(findings[0].status, "fail");
        assert_eq!(findings[1].status, "error");
        let controls = controls(&data);
        assert_eq!(controls.len(), 1);
        assert_eq!(controls[0].severity, Severity::High);
        assert_eq!(controls[0].requirement_ids("soc2"), ["CC6.1"]);
        assert!(controls[0].requirements[0].rationale.contains("COMPLIANCE"));
    }
}
