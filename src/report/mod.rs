//! Reports: read-only views over one run's findings, for one framework.
//!
//! [`model::build`] computes everything a report shows (requirement statuses, findings
//! with their requirements, gaps, evidence); each format only lays it out, so JSON,
//! HTML, CSV, OSCAL and PDF can never disagree. The customer audience is a redacted
//! view ([`customer`]) computed from the same model.

pub mod csv_report;
pub mod customer;
mod finding_line;
pub mod html;
pub mod model;
pub mod oscal;
#[cfg(feature = "pdf")]
pub mod pdf;
#[cfg(not(feature = "pdf"))]
#[path = "pdf_disabled.rs"]
pub mod pdf;
pub mod period;

pub use model::{ReportModel, build};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("period report: {0}")]
    Period(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("unknown framework `{0}` (the catalogue has: {1})")]
    UnknownFramework(String, String),
    #[error("cannot render the HTML report: {0}")]
    Html(#[from] askama::Error),
    #[error("cannot write the JSON report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the CSV report: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot lay out the PDF report ({template}): {message}")]
    Pdf { template: String, message: String },
    #[error("the customer audience has no {0} format (it is redacted; use html, pdf or json, or --audience auditor)")]
    CustomerFormat(&'static str),
}

/// Output formats of `evidra report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
    Csv,
    Oscal,
    Pdf,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Html, Format::Pdf, Format::Json, Format::Csv, Format::Oscal];

    /// The file extension; OSCAL is JSON, so `oscal.json` keeps it recognisable.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Oscal => "oscal.json",
            Format::Pdf => "pdf",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Oscal => "oscal",
            Format::Pdf => "pdf",
        }
    }
}

/// Who a report is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    /// Everything: findings, resources, evidence hashes.
    #[default]
    Auditor,
    /// A redacted attestation summary for prospects: per requirement family how the
    /// controls stand, and nothing that identifies the estate.
    Customer,
}

/// Renders `model` in `format` for the auditor.
pub fn render(model: &ReportModel, format: Format) -> Result<Vec<u8>, ReportError> {
    render_for(model, format, Audience::Auditor)
}

/// Renders `model` in `format` for `audience`.
pub fn render_for(model: &ReportModel, format: Format, audience: Audience) -> Result<Vec<u8>, ReportError> {
    Ok(match (audience, format) {
        (Audience::Auditor, Format::Json) => {
            let mut bytes = Vec::new();
            write_json(model, &mut bytes)?;
            bytes
        }
        (Audience::Auditor, Format::Html) => html::render(model)?.into_bytes(),
        (Audience::Auditor, Format::Csv) => csv_report::render(model)?,
        (Audience::Auditor, Format::Oscal) => pretty_json(&oscal::document(model))?,
        (Audience::Auditor, Format::Pdf) => pdf::render(model)?,
        (Audience::Customer, Format::Json) => pretty_json(&customer::view(model))?,
        (Audience::Customer, Format::Html) => customer::html(&customer::view(model))?.into_bytes(),
        (Audience::Customer, Format::Pdf) => pdf::render_customer(&customer::view(model))?,
        (Audience::Customer, Format::Csv | Format::Oscal) => return Err(ReportError::CustomerFormat(format.name())),
    })
}

/// Writes `model` in `format` for `audience` to `out`. The auditor's JSON report goes
/// out a few thousand findings at a time (a million findings make ~470 MB of it); the
/// other formats are laid out first, then written.
pub fn write_for(
    model: &ReportModel,
    format: Format,
    audience: Audience,
    out: &mut dyn std::io::Write,
) -> Result<(), ReportError> {
    if (audience, format) == (Audience::Auditor, Format::Json) {
        write_json(model, out)?;
    } else {
        out.write_all(&render_for(model, format, audience)?)?;
    }
    out.flush()?;
    Ok(())
}

/// Findings laid out and written at a time in the auditor's JSON report: enough that
/// each write costs nothing beside laying them out, few enough to stay small.
const FINDINGS_PER_WRITE: usize = 1024;

/// The auditor's JSON report: the fields of [`ReportModel::json`], pretty, except that
/// each finding is one line of compact JSON (see [`finding_line`]).
fn write_json(model: &ReportModel, out: &mut dyn std::io::Write) -> Result<(), ReportError> {
    out.write_all(JSON_START)?;
    let mut lines = finding_line::FindingLines::default();
    let mut laid_out = Vec::new();
    for batch in model.findings.chunks(FINDINGS_PER_WRITE) {
        laid_out.clear();
        for finding in batch {
            lines.write(finding, &mut laid_out);
        }
        out.write_all(&laid_out)?;
    }
    write_json_end(model, lines.any(), out)
}

/// How the auditor's JSON report starts: its findings come first (the key sorts first).
const JSON_START: &[u8] = b"{\n  \"findings\": [";

/// The rest of the auditor's JSON report after its findings: the list's end, then its
/// keys after "findings", `"framework": ...` on.
fn write_json_end(model: &ReportModel, any_finding: bool, out: &mut dyn std::io::Write) -> Result<(), ReportError> {
    out.write_all(if any_finding { b"\n  ]" } else { b"]" })?;
    let rest = serde_json::to_vec_pretty(&model.json_after_findings())?;
    let rest = rest
        .strip_prefix(b"{\n")
        .ok_or_else(|| std::io::Error::other("the JSON report's fields after its findings did not start an object"))?;
    out.write_all(b",\n")?;
    out.write_all(rest)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the auditor's JSON report of `run` for `framework` to `out` as its findings
/// are read from the store, a few thousand in memory at a time: byte for byte what
/// rendering the built model writes (test `the_streamed_json_report_is_the_built_one`).
/// Built whole, a million findings took 0.7 GiB and most of the report's time went to
/// the kernel zeroing that fresh memory.
pub fn write_json_streamed(
    store: &crate::store::Store,
    catalogue: &crate::catalogue::Catalogue,
    run: &crate::store::Run,
    framework: &str,
    organisation: Option<String>,
    overdue: Option<&crate::followup::Overdue>,
    out: &mut dyn std::io::Write,
) -> Result<(), ReportError> {
    use std::io::Write as _;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
    buffered.write_all(JSON_START)?;
    // SQLite's reading (and the report's counting) on a second thread, the JSON written
    // on this one, as it arrives: at a million findings the two took about as long
    // each, one after the other.
    let mut laid_out = Vec::new();
    let mut lines = finding_line::FindingLines::default();
    let model = evidra_collector_core::pipelined(
        2,
        move |hand_over| {
            // Each finding is copied into the strings of one the batch already held, as
            // batches come back written: allocating and freeing every finding's ten
            // strings was a fifth of this thread's time at a million findings.
            let mut batch: Vec<model::Finding> = Vec::with_capacity(FINDINGS_PER_WRITE);
            let mut filled = 0;
            let model = model::build_each(store, catalogue, run, framework, organisation, overdue, |finding| {
                match batch.get_mut(filled) {
                    Some(slot) => slot.clone_from(finding),
                    None => batch.push(finding.clone()),
                }
                filled += 1;
                if filled == FINDINGS_PER_WRITE {
                    let full = std::mem::take(&mut batch);
                    batch = hand_over(full)?.unwrap_or_else(|| Vec::with_capacity(FINDINGS_PER_WRITE));
                    filled = 0;
                }
                Ok::<(), ReportError>(())
            })?;
            batch.truncate(filled);
            hand_over(batch)?;
            Ok(model)
        },
        || ReportError::Io(std::io::Error::other("the JSON report's writing stopped")),
        |batch: &Vec<model::Finding>| {
            laid_out.clear();
            for finding in batch {
                lines.write(finding, &mut laid_out);
            }
            buffered.write_all(&laid_out)?;
            Ok(())
        },
    )?;
    write_json_end(&model, lines.any(), &mut buffered)?;
    buffered.flush()?;
    drop(buffered);
    out.flush()?;
    Ok(())
}

fn pretty_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}
