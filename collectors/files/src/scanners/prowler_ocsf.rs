//! Prowler's OCSF output (`prowler <provider> --output-formats json-ocsf`, `*.ocsf.json`):
//! a JSON array of OCSF Detection Findings (class 2004), one per check and resource.
//!
//! The fields read: `metadata.event_code` (the check ID), `status_code` (`PASS`, `FAIL`,
//! `MANUAL`), `severity`, `cloud.provider`, `cloud.account.uid`, `cloud.region`,
//! `resources[0].uid`, `finding_info.title`, `status_detail`, `remediation` and
//! `unmapped.compliance` (framework → requirement IDs, Prowler's own mapping).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Finding, Scan, Severity, id_part, map_requirement, scope, text};

/// The scanner name in record IDs and coverage.
pub const SCANNER: &str = "prowler";

/// An OCSF Detection Finding array, as Prowler writes it. Another product's OCSF is not
/// taken for Prowler's: its rule IDs would land in Prowler's namespace.
pub fn looks_like(value: &Value) -> bool {
    value.as_array().and_then(|items| items.first()).is_some_and(|first| {
        let ocsf = first.get("class_uid").and_then(Value::as_u64) == Some(2004)
            || (first.get("finding_info").is_some() && first.pointer("/metadata/event_code").is_some());
        let product = text(first, "/metadata/product/name");
        ocsf && product.is_none_or(|p| p.eq_ignore_ascii_case("prowler"))
    })
}

/// One Prowler result, from whichever output format: OCSF, CSV or ASFF give the same
/// record, so the outputs of one scan imported together are one finding each.
pub(crate) struct ProwlerResult<'a> {
    pub check: &'a str,
    /// `PASS`, `FAIL`, `MANUAL` (any case).
    pub status: &'a str,
    pub severity: Severity,
    pub provider: Option<&'a str>,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub resource: &'a str,
    pub title: Option<&'a str>,
    pub message: Option<&'a str>,
    pub remediation: Option<&'a str>,
    pub remediation_url: Option<&'a str>,
    /// Framework label (`SOC2`, `ISO27001-2022`) → Prowler's requirement IDs.
    pub compliance: Vec<(&'a str, Vec<&'a str>)>,
    pub compliance_field: &'static str,
}

impl ProwlerResult<'_> {
    /// Adds the result to `scan`. A `MANUAL` result is Prowler saying a person must
    /// check it: neither a pass nor a failure, so it is counted in the scan's report
    /// (`skipped.manual`) and not imported as a finding.
    pub fn add_to(self, scan: &mut Scan) -> Result<(), String> {
        let scope = scope(self.provider, self.account, self.region);
        let failed = match self.status.to_ascii_uppercase().as_str() {
            "FAIL" => true,
            "PASS" => false,
            "MANUAL" => {
                scan.skip(SCANNER, &scope, "manual");
                return Ok(());
            }
            other => {
                return Err(format!(
                    "unknown status `{other}` (Prowler writes PASS, FAIL or MANUAL)"
                ));
            }
        };
        let mut requirements = BTreeMap::new();
        for (framework, ids) in &self.compliance {
            for id in ids {
                map_requirement(&mut requirements, framework, id);
            }
        }
        let remediation = match (self.remediation, self.remediation_url) {
            (Some(text), Some(url)) => Some(format!("{text} See {url}")),
            (Some(text), None) => Some(text.to_owned()),
            (None, Some(url)) => Some(format!("See {url}")),
            (None, None) => None,
        };
        scan.findings.push(Finding {
            scope,
            scanner: SCANNER.into(),
            rule: self.check.to_owned(),
            control: format!("scan.{SCANNER}.{}", id_part(self.check)),
            severity: self.severity,
            failed,
            title: self.title.unwrap_or(self.check).to_owned(),
            message: self.message.unwrap_or_default().to_owned(),
            resource: self.resource.to_owned(),
            remediation,
            requirements,
            compliance_field: Some(self.compliance_field),
        });
        Ok(())
    }
}

/// OCSF `severity_id`: 1 informational ... 5 critical, 6 fatal.
fn severity_of(item: &Value) -> Option<Severity> {
    if let Some(s) = text(item, "/severity").and_then(Severity::from_label) {
        return Some(s);
    }
    Some(match item.get("severity_id").and_then(Value::as_u64)? {
        0 | 1 => Severity::Info,
        2 => Severity::Low,
        3 => Severity::Medium,
        4 => Severity::High,
        _ => Severity::Critical,
    })
}

pub fn parse(value: &Value) -> Result<Scan, String> {
    let items = value.as_array().ok_or("not a JSON array of OCSF findings")?;
    let first = items.first();
    let tool = match first.and_then(|f| text(f, "/metadata/product/version")) {
        Some(version) => format!("Prowler {version}"),
        None => "Prowler".to_owned(),
    };
    let mut scan = Scan::new(tool);
    for (i, item) in items.iter().enumerate() {
        let at = |what: String| format!("finding {} (of {}): {what}", i + 1, items.len());
        let check = text(item, "/metadata/event_code")
            .or_else(|| text(item, "/finding_info/analytic/uid"))
            .ok_or_else(|| at("no `metadata.event_code` (the Prowler check ID)".into()))?;
        let status = text(item, "/status_code").ok_or_else(|| at(format!("{check}: no `status_code`")))?;
        let severity = severity_of(item).ok_or_else(|| at(format!("{check}: no recognisable `severity`")))?;
        let resource = text(item, "/resources/0/uid")
            .or_else(|| text(item, "/resources/0/name"))
            .ok_or_else(|| at(format!("{check}: no `resources[0].uid`")))?;
        let mut compliance = Vec::new();
        if let Some(map) = item.pointer("/unmapped/compliance").and_then(Value::as_object) {
            for (framework, ids) in map {
                let ids = ids
                    .as_array()
                    .map(|ids| ids.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                compliance.push((framework.as_str(), ids));
            }
        }
        ProwlerResult {
            check,
            status,
            severity,
            provider: text(item, "/cloud/provider").or_else(|| text(item, "/unmapped/provider")),
            account: text(item, "/cloud/account/uid"),
            region: text(item, "/cloud/region").or_else(|| text(item, "/resources/0/region")),
            resource,
            title: text(item, "/finding_info/title"),
            message: text(item, "/status_detail").or_else(|| text(item, "/message")),
            remediation: text(item, "/remediation/desc"),
            remediation_url: text(item, "/remediation/references/0"),
            compliance,
            compliance_field: "unmapped.compliance",
        }
        .add_to(&mut scan)
        .map_err(|e| at(format!("{check}: {e}")))?;
    }
    Ok(scan)
}
