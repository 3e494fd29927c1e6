//! The PDF report, laid out by typst from `reports/pdf/*.typ`.
//!
//! Rust only shapes the data: the report model goes to the template as a virtual file,
//! `data.json`, which the template reads with `json()`. Everything about layout lives in
//! the template. The typst "world" here is deliberately small: one source file, one data
//! file, the fonts bundled in `typst-assets` (never the system's, so a PDF is the same on
//! every machine), and a "today" that is the run's end, not the wall clock. With the
//! document date and PDF identifier also taken from the run, rendering the same run
//! twice gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Serialize;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::layout::PagedDocument;
use typst::syntax::{FileId, Source, VirtualPath};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_pdf::{PdfOptions, Timestamp};

use super::ReportError;
use super::customer::CustomerView;
use super::model::{AttachmentView, ExceptionView, GapView, ReportModel};
use crate::engine::Status;

const REPORT_TEMPLATE: &str = include_str!("../../reports/pdf/report.typ");
const CUSTOMER_TEMPLATE: &str = include_str!("../../reports/pdf/customer.typ");
const PERIOD_TEMPLATE: &str = include_str!("../../reports/pdf/period.typ");

/// Failing findings shown per requirement. Past this the PDF says how many more there
/// are and where they are (HTML, CSV, JSON keep every one): an auditor samples, and a
/// 3,000-page PDF helps nobody. It also keeps a 10,000-finding run rendering in seconds.
pub const FINDINGS_PER_REQUIREMENT: usize = 50;

#[derive(Serialize)]
struct RunData<'a> {
    id: &'a str,
    status: &'a str,
    started_at: &'a str,
    finished_at: Option<&'a str>,
    evaluated_at: &'a str,
    manifest: Option<&'a str>,
    prev_manifest: Option<&'a str>,
    catalogue: Option<&'a str>,
}

#[derive(Serialize)]
struct RequirementRow<'a> {
    id: &'a str,
    family: &'a str,
    title: &'a str,
    status: &'a str,
    controls: &'a [String],
    /// Distinct evidence blobs cited by the findings of its controls.
    evidence: usize,
    /// Finding counts, as text (`3 pass, 1 fail`).
    findings: String,
}

#[derive(Serialize)]
struct FindingRow<'a> {
    status: &'a str,
    /// Open past its remediation deadline (`[deadlines]` in evidra.toml).
    overdue: bool,
    severity: &'a str,
    control: &'a str,
    resource: &'a str,
    resource_type: &'a str,
    scope: String,
    message: &'a str,
}

#[derive(Serialize)]
struct Remedy<'a> {
    control: &'a str,
    title: &'a str,
    severity: &'a str,
    remediation: &'a str,
}

#[derive(Serialize)]
struct FailingGroup<'a> {
    id: &'a str,
    title: &'a str,
    status: &'a str,
    total: usize,
    shown: Vec<FindingRow<'a>>,
    omitted: usize,
    remediation: Vec<Remedy<'a>>,
}

#[derive(Serialize)]
struct ManualRow<'a> {
    id: &'a str,
    title: &'a str,
    status: &'a str,
    expected: &'a str,
    attachments: Vec<&'a AttachmentView>,
}

#[derive(Serialize)]
struct EvidenceRow<'a> {
    sha256: &'a str,
    operation: &'a str,
    collector: &'a str,
    scope: &'a str,
    collected_at: &'a str,
    media_type: &'a str,
    size: i64,
}

#[derive(Serialize)]
struct Family<'a> {
    id: &'a str,
    title: &'a str,
}

/// What `reports/pdf/report.typ` reads as `data.json`.
#[derive(Serialize)]
struct ReportData<'a> {
    organisation: Option<&'a str>,
    framework: &'a str,
    framework_name: &'a str,
    framework_version: &'a str,
    tool_version: &'a str,
    run: RunData<'a>,
    /// The run's end (or start), as typst `datetime` fields, for the document date.
    date: DateParts,
    summary: &'a super::model::Summary,
    findings: usize,
    gaps: &'a [GapView],
    families: Vec<Family<'a>>,
    requirements: Vec<RequirementRow<'a>>,
    failing: Vec<FailingGroup<'a>>,
    findings_per_requirement: usize,
    exceptions: &'a [ExceptionView],
    manual: Vec<ManualRow<'a>>,
    attachments: &'a [AttachmentView],
    evidence: Vec<EvidenceRow<'a>>,
}

#[derive(Serialize, Clone, Copy)]
struct DateParts {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl DateParts {
    /// From an RFC 3339 time; the Unix epoch if it does not parse (it always does: the
    /// store writes these times itself), so a damaged time never makes a wall-clock one.
    fn of(text: &str) -> Self {
        let t = crate::time_fmt::parse(text)
            .map(|t| t.to_offset(time::UtcOffset::UTC))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        DateParts {
            year: t.year(),
            month: t.month() as u8,
            day: t.day(),
            hour: t.hour(),
            minute: t.minute(),
            second: t.second(),
        }
    }

    fn datetime(self) -> Option<Datetime> {
        Datetime::from_ymd_hms(self.year, self.month, self.day, self.hour, self.minute, self.second)
    }
}

fn report_data(model: &ReportModel) -> ReportData<'_> {
    let run = &model.run;
    let framework = model.framework.id.as_str();

    let requirements = model
        .requirements
        .iter()
        .map(|r| {
            let evidence: BTreeSet<&str> = model
                .findings
                .iter()
                .filter(|f| r.controls.contains(&f.control))
                .flat_map(|f| f.evidence.iter().map(String::as_str))
                .collect();
            RequirementRow {
                id: &r.id,
                family: &r.family,
                title: &r.title,
                status: r.status.as_str(),
                controls: &r.controls,
                evidence: evidence.len(),
                findings: r
                    .counts
                    .iter()
                    .map(|(s, n)| format!("{n} {}", s.replace('_', " ")))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();

    // Failing (and unevaluated) findings, under every requirement they bear on.
    let mut by_requirement: BTreeMap<&str, Vec<&super::model::Finding>> = BTreeMap::new();
    for f in model
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
    {
        for id in f.requirements.get(framework).into_iter().flatten() {
            by_requirement.entry(id.as_str()).or_default().push(f);
        }
    }
    let failing = model
        .requirements
        .iter()
        .filter_map(|r| {
            let mut findings = by_requirement.remove(r.id.as_str())?;
            // Worst first: the first rows shown are the ones an auditor asks about.
            findings.sort_by_key(|f| {
                let severity = model.controls.get(&f.control).map(|c| c.severity);
                (std::cmp::Reverse(f.status.rank()), severity, &f.control)
            });
            let controls: BTreeSet<&str> = findings.iter().map(|f| f.control.as_str()).collect();
            let remediation = controls
                .into_iter()
                .filter_map(|id| model.controls.get(id))
                .map(|c| Remedy {
                    control: &c.id,
                    title: &c.title,
                    severity: c.severity.as_str(),
                    remediation: &c.remediation.summary,
                })
                .collect();
            let total = findings.len();
            Some(FailingGroup {
                id: &r.id,
                title: &r.title,
                status: r.status.as_str(),
                total,
                shown: findings
                    .into_iter()
                    .take(FINDINGS_PER_REQUIREMENT)
                    .map(|f| FindingRow {
                        status: f.status.as_str(),
                        overdue: f.overdue == Some(true),
                        severity: &f.severity,
                        control: &f.control,
                        resource: &f.resource.id,
                        resource_type: &f.resource.resource_type,
                        scope: format!("{} {} {}", f.resource.provider, f.resource.account, f.resource.region),
                        message: &f.message,
                    })
                    .collect(),
                omitted: total.saturating_sub(FINDINGS_PER_REQUIREMENT),
                remediation,
            })
        })
        .collect();

    let manual = model
        .requirements
        .iter()
        .filter_map(|r| {
            let attachments: Vec<&AttachmentView> =
                model.attachments.iter().filter(|a| a.requirement == r.id).collect();
            if r.status != Status::Manual && attachments.is_empty() {
                return None;
            }
            let expected = model
                .framework
                .requirement(&r.id)
                .map(|q| q.manual.as_str())
                .unwrap_or_default();
            Some(ManualRow {
                id: &r.id,
                title: &r.title,
                status: r.status.as_str(),
                expected,
                attachments,
            })
        })
        .collect();

    ReportData {
        organisation: model.organisation.as_deref(),
        framework,
        framework_name: &model.framework.name,
        framework_version: &model.framework.version,
        tool_version: crate::VERSION,
        run: RunData {
            id: &run.id,
            status: run.status.as_str(),
            started_at: &run.started_at,
            finished_at: run.finished_at.as_deref(),
            evaluated_at: &run.evaluated_at,
            manifest: run.manifest.as_deref(),
            prev_manifest: run.prev_manifest.as_deref(),
            catalogue: run.catalogue.as_deref(),
        },
        date: DateParts::of(run.finished_at.as_deref().unwrap_or(&run.started_at)),
        summary: &model.summary,
        findings: model.findings.len(),
        gaps: &model.gaps,
        families: model
            .framework
            .families
            .iter()
            .map(|f| Family {
                id: &f.id,
                title: &f.title,
            })
            .collect(),
        requirements,
        failing,
        findings_per_requirement: FINDINGS_PER_REQUIREMENT,
        exceptions: &model.exceptions,
        manual,
        attachments: &model.attachments,
        evidence: model
            .evidence
            .iter()
            .map(|e| EvidenceRow {
                sha256: &e.sha256,
                operation: &e.operation,
                collector: &e.collector,
                scope: &e.scope,
                collected_at: &e.collected_at,
                media_type: &e.media_type,
                size: e.size,
            })
            .collect(),
    }
}

/// The auditor's PDF.
pub fn render(model: &ReportModel) -> Result<Vec<u8>, ReportError> {
    auditor_document(model)?.pdf()
}

/// The customer's PDF: the redacted view only, so it cannot show more than that.
pub fn render_customer(view: &CustomerView) -> Result<Vec<u8>, ReportError> {
    customer_document(view)?.pdf()
}

/// What the audit-period template reads as `data.json`.
#[derive(Serialize)]
struct PeriodData<'a> {
    tool_version: &'a str,
    date: DateParts,
    period: &'a super::period::PeriodModel,
}

/// The audit-period PDF (SOC 2 Type II). Its date is the last run's evaluation time (the
/// period's end when it has no run), so the same period renders to the same bytes.
pub fn render_period(model: &super::period::PeriodModel) -> Result<Vec<u8>, ReportError> {
    period_document(model)?.pdf()
}

fn period_document(model: &super::period::PeriodModel) -> Result<LaidOut, ReportError> {
    let date = DateParts::of(
        &model
            .runs
            .last()
            .map(|r| r.date.clone())
            .unwrap_or_else(|| format!("{}T23:59:59Z", model.to)),
    );
    let data = serde_json::to_vec(&PeriodData {
        tool_version: crate::VERSION,
        date,
        period: model,
    })?;
    let ident = format!("evidra/period/{}/{}/{}", model.framework, model.from, model.to);
    LaidOut::new("period.typ", PERIOD_TEMPLATE, data, date, ident)
}

/// The text of each page of the audit-period PDF, as for [`page_texts`].
pub fn period_page_texts(model: &super::period::PeriodModel) -> Result<Vec<String>, ReportError> {
    Ok(period_document(model)?
        .document
        .pages
        .iter()
        .map(|p| frame_text(&p.frame))
        .collect())
}

/// The text of each page as typst laid it out, for checks that need no PDF parser (the
/// tests look for every requirement ID and "Page x of y" here).
pub fn page_texts(model: &ReportModel, audience: super::Audience) -> Result<Vec<String>, ReportError> {
    let laid_out = match audience {
        super::Audience::Auditor => auditor_document(model)?,
        super::Audience::Customer => customer_document(&super::customer::view(model))?,
    };
    Ok(laid_out.document.pages.iter().map(|p| frame_text(&p.frame)).collect())
}

fn auditor_document(model: &ReportModel) -> Result<LaidOut, ReportError> {
    let data = serde_json::to_vec(&report_data(model))?;
    let finished = model.run.finished_at.as_deref().unwrap_or(&model.run.started_at);
    let ident = format!("evidra/{}/{}/auditor", model.run.id, model.framework.id);
    LaidOut::new("report.typ", REPORT_TEMPLATE, data, DateParts::of(finished), ident)
}

fn customer_document(view: &CustomerView) -> Result<LaidOut, ReportError> {
    let data = serde_json::to_vec(view)?;
    // The customer view carries the date only, which is what the document date becomes.
    let date = DateParts::of(&format!("{}T00:00:00Z", view.run.date));
    let ident = format!(
        "evidra/{}/{}/customer",
        view.run.manifest.as_deref().unwrap_or(&view.run.date),
        view.framework.id
    );
    LaidOut::new("customer.typ", CUSTOMER_TEMPLATE, data, date, ident)
}

/// A document typst has laid out, ready to be written as PDF.
struct LaidOut {
    world: ReportWorld,
    document: PagedDocument,
    date: DateParts,
    ident: String,
}

impl LaidOut {
    fn new(name: &str, template: &str, data: Vec<u8>, date: DateParts, ident: String) -> Result<Self, ReportError> {
        let world = ReportWorld::new(name, template, data, date.datetime());
        let document: PagedDocument = typst::compile(&world).output.map_err(|d| world.error(&d))?;
        Ok(LaidOut {
            world,
            document,
            date,
            ident,
        })
    }

    fn pdf(&self) -> Result<Vec<u8>, ReportError> {
        let options = PdfOptions {
            ident: Smart::Custom(&self.ident),
            // Only used when the template leaves `document(date:)` on auto; it sets it
            // from the run, and this is the same time, so no render time can leak in.
            timestamp: self.date.datetime().map(Timestamp::new_utc),
            ..PdfOptions::default()
        };
        typst_pdf::pdf(&self.document, &options).map_err(|d| self.world.error(&d))
    }
}

/// A frame's text, runs in layout order, each baseline on its own line.
fn frame_text(frame: &typst::layout::Frame) -> String {
    let mut out = String::new();
    let mut last_y = None;
    collect_text(frame, typst::layout::Point::zero(), &mut last_y, &mut out);
    out
}

fn collect_text(
    frame: &typst::layout::Frame,
    origin: typst::layout::Point,
    last_y: &mut Option<typst::layout::Abs>,
    out: &mut String,
) {
    use typst::layout::FrameItem;
    for (pos, item) in frame.items() {
        let at = origin + *pos;
        match item {
            FrameItem::Group(group) => collect_text(&group.frame, at, last_y, out),
            FrameItem::Text(text) => {
                // A new baseline starts a new line; runs on one baseline (table cells
                // side by side, or styled parts of a sentence) are set apart by a space.
                match *last_y {
                    Some(y) if y != at.y => out.push('\n'),
                    Some(_) => out.push(' '),
                    None => {}
                }
                *last_y = Some(at.y);
                out.push_str(&text.text);
            }
            _ => {}
        }
    }
}

/// The bundled fonts, parsed once per process.
fn fonts() -> &'static (LazyHash<FontBook>, Vec<Font>) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Vec<Font>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
    })
}

struct ReportWorld {
    library: LazyHash<Library>,
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Option<Datetime>,
}

impl ReportWorld {
    fn new(name: &str, template: &str, data: Vec<u8>, today: Option<Datetime>) -> Self {
        let main = Source::new(FileId::new(None, VirtualPath::new(name)), template.to_owned());
        ReportWorld {
            library: LazyHash::new(Library::default()),
            main,
            data_id: FileId::new(None, VirtualPath::new("data.json")),
            data: Bytes::new(data),
            today,
        }
    }

    /// Typst's errors as `line N: message (hint: ...)`, naming the template's line.
    fn error(&self, diagnostics: &[SourceDiagnostic]) -> ReportError {
        let message = diagnostics
            .iter()
            .map(|d| {
                let line = d
                    .span
                    .id()
                    .filter(|id| *id == self.main.id())
                    .and_then(|_| self.main.range(d.span))
                    .and_then(|r| self.main.lines().byte_to_line(r.start))
                    .map(|l| format!("line {}: ", l + 1))
                    .unwrap_or_default();
                let hints: String = d.hints.iter().map(|h| format!(" (hint: {h})")).collect();
                format!("{line}{}{hints}", d.message)
            })
            .collect::<Vec<_>>()
            .join("; ");
        ReportError::Pdf {
            template: format!("reports/pdf/{}", self.main.id().vpath().as_rootless_path().display()),
            message,
        }
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(id.vpath().as_rootless_path().into()))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::NotFound(id.vpath().as_rootless_path().into()))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().1.get(index).cloned()
    }

    /// The run's date, whatever the offset asked: a report says when the evidence was
    /// collected, never when it was rendered.
    fn today(&self, _offset: Option<i64>) -> Option<Datetime> {
        self.today
    }
}
