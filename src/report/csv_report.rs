//! The CSV report: one row per finding, for spreadsheets (RFC 4180: comma-separated,
//! CRLF line ends, fields quoted when they need it).

use super::model::ReportModel;

/// The header row; the order of the fields in every row.
pub const HEADER: [&str; 12] = [
    "control",
    "status",
    "severity",
    "requirements",
    "provider",
    "account",
    "region",
    "resource_type",
    "resource_id",
    "message",
    "evidence",
    // `true`/`false` when `[deadlines]` are configured (an open finding past its
    // severity's deadline), empty when they are not: "no deadline" is not "on time".
    "overdue",
];

/// One row per finding, in the model's order (the store's: control, then resource), so
/// the same run gives the same bytes.
pub fn render(model: &ReportModel) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(HEADER)?;
    let framework = model.framework.id.as_str();
    for f in &model.findings {
        let requirements = f.requirements.get(framework).map(|r| r.join(" ")).unwrap_or_default();
        let evidence = f.evidence.join(" ");
        out.write_record([
            f.control.as_str(),
            f.status.as_str(),
            f.severity.as_str(),
            &requirements,
            &cell(&f.resource.provider),
            &cell(&f.resource.account),
            &cell(&f.resource.region),
            &cell(&f.resource.resource_type),
            &cell(&f.resource.id),
            &cell(&f.message),
            &evidence,
            match f.overdue {
                Some(true) => "true",
                Some(false) => "false",
                None => "",
            },
        ])?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a leading tab or
/// carriage return) gets a leading `'`. Resource names come from the estate, and an IAM
/// user may legally be called `=HYPERLINK(...)`: opening the CSV must not run it. The
/// JSON report keeps every value verbatim.
fn cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_defused_and_other_values_kept() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("@user"), "'@user");
        assert_eq!(cell("arn:aws:iam::1:user/a=b"), "arn:aws:iam::1:user/a=b");
        assert_eq!(cell(""), "");
    }
}
