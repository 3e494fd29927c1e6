//! Prowler's CSV output (`--output-formats csv`): semicolon-separated, one row per check
//! and resource, with a header row (`AUTH_METHOD;TIMESTAMP;ACCOUNT_UID;...`).
//!
//! The columns read: `PROVIDER`, `ACCOUNT_UID`, `REGION`, `CHECK_ID`, `CHECK_TITLE`,
//! `STATUS`, `STATUS_EXTENDED`, `SEVERITY`, `RESOURCE_UID`,
//! `REMEDIATION_RECOMMENDATION_TEXT`, `REMEDIATION_RECOMMENDATION_URL`, `COMPLIANCE`
//! (`SOC2: cc_6_1, cc_7_2 | ISO27001-2022: A.8.5 | ...`) and `PROWLER_VERSION`. Prowler 3's
//! `ACCOUNT_ID` and `RESOURCE_ARN`/`RESOURCE_ID` are accepted in their place.

use std::collections::BTreeMap;

use super::prowler_ocsf::ProwlerResult;
use super::{Scan, Severity};

const REQUIRED: [&str; 4] = ["CHECK_ID", "STATUS", "SEVERITY", "PROVIDER"];

fn header(text: &str) -> Vec<&str> {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r')
        .split(';')
        .collect()
}

/// A semicolon-separated header with Prowler's check, status and resource columns.
pub fn looks_like(text: &str) -> bool {
    let columns = header(text);
    REQUIRED.iter().all(|c| columns.contains(c))
        && ["RESOURCE_UID", "RESOURCE_ARN", "RESOURCE_ID"]
            .iter()
            .any(|c| columns.contains(c))
}

/// `SOC2: cc_6_1, cc_7_2 | ISO27001-2022: A.8.5` → [(SOC2, [cc_6_1, cc_7_2]), ...].
fn compliance(cell: &str) -> Vec<(&str, Vec<&str>)> {
    cell.split(" | ")
        .filter_map(|part| part.split_once(':'))
        .map(|(framework, ids)| {
            (
                framework.trim(),
                ids.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
            )
        })
        .collect()
}

pub fn parse(text: &str) -> Result<Scan, String> {
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(text.as_bytes());
    let columns: BTreeMap<String, usize> = reader
        .headers()
        .map_err(|e| format!("the header row does not parse: {e}"))?
        .iter()
        .enumerate()
        .map(|(i, name)| (name.to_owned(), i))
        .collect();
    let mut scan: Option<Scan> = None;
    for (i, row) in reader.records().enumerate() {
        // Row 1 is the header, so data row i is line i + 2 (for rows without line breaks).
        let row = row.map_err(|e| format!("row {}: {e}", i + 2))?;
        let cell = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| columns.get(*n))
                .filter_map(|&at| row.get(at))
                .map(str::trim)
                .find(|v| !v.is_empty())
        };
        let at = |what: String| format!("row {}: {what}", i + 2);
        let check = cell(&["CHECK_ID"]).ok_or_else(|| at("empty CHECK_ID".into()))?;
        let status = cell(&["STATUS"]).ok_or_else(|| at(format!("{check}: empty STATUS")))?;
        let severity = cell(&["SEVERITY"])
            .and_then(Severity::from_label)
            .ok_or_else(|| at(format!("{check}: no recognisable SEVERITY")))?;
        let resource = cell(&["RESOURCE_UID", "RESOURCE_ARN", "RESOURCE_ID", "RESOURCE_NAME"])
            .ok_or_else(|| at(format!("{check}: empty RESOURCE_UID")))?;
        let scan = scan.get_or_insert_with(|| {
            Scan::new(match cell(&["PROWLER_VERSION"]) {
                Some(version) => format!("Prowler {version}"),
                None => "Prowler".to_owned(),
            })
        });
        ProwlerResult {
            check,
            status,
            severity,
            provider: cell(&["PROVIDER"]),
            account: cell(&["ACCOUNT_UID", "ACCOUNT_ID"]),
            region: cell(&["REGION"]),
            resource,
            title: cell(&["CHECK_TITLE"]),
            message: cell(&["STATUS_EXTENDED"]),
            remediation: cell(&["REMEDIATION_RECOMMENDATION_TEXT"]),
            remediation_url: cell(&["REMEDIATION_RECOMMENDATION_URL"]),
            compliance: cell(&["COMPLIANCE"]).map(compliance).unwrap_or_default(),
            compliance_field: "COMPLIANCE",
        }
        .add_to(scan)
        .map_err(|e| at(format!("{check}: {e}")))?;
    }
    // A Prowler scan always writes rows (passes too); a header alone says neither what
    // was scanned nor where, so there is nothing to import and that is worth saying.
    scan.ok_or_else(|| "a Prowler CSV with no rows: it does not say which account it covers".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compliance_cells() {
        let parsed = compliance("CIS-1.4: 1.8 | SOC2: cc_6_1, cc_a_1_1 | ISO27001-2022: A.5.15");
        assert_eq!(parsed[1], ("SOC2", vec!["cc_6_1", "cc_a_1_1"]));
        assert_eq!(parsed[2], ("ISO27001-2022", vec!["A.5.15"]));
    }
}
