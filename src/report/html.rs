//! The HTML report: one self-contained file (inline CSS, SVG and a few lines of script;
//! nothing fetched), readable on screen and printed.

use std::collections::BTreeMap;

use askama::Template;

use super::model::{AttachmentView, ExceptionView, Finding, GapView, ReportModel};
use crate::engine::Status;
use crate::store::EvidenceMeta;

struct Card {
    label: &'static str,
    class: &'static str,
    count: usize,
}

struct RequirementRow {
    id: String,
    title: String,
    status: Status,
    controls: Vec<String>,
    counts: String,
    manual: Option<String>,
}

struct FamilyRows {
    id: String,
    title: String,
    rows: Vec<RequirementRow>,
}

struct FindingRow<'a> {
    finding: &'a Finding,
    requirements: String,
    scope: String,
}

struct ControlGroup<'a> {
    id: String,
    title: String,
    severity: String,
    requirements: String,
    /// The remediation text in parts: `(true, part)` was between backticks (a command
    /// or setting), shown as code.
    remediation: Vec<(bool, String)>,
    cli: Option<String>,
    rows: Vec<FindingRow<'a>>,
}

#[derive(Template)]
#[template(path = "html/report.html")]
struct Page<'a> {
    organisation: String,
    framework_name: String,
    framework_version: String,
    version: &'static str,
    run: &'a crate::store::Run,
    cards: Vec<Card>,
    chart: String,
    gaps: &'a [GapView],
    families: Vec<FamilyRows>,
    problems: Vec<ControlGroup<'a>>,
    all: Vec<FindingRow<'a>>,
    requirement_ids: Vec<String>,
    /// Whether any finding is open past its deadline: only then is "overdue" offered
    /// as a filter.
    any_overdue: bool,
    evidence: &'a [EvidenceMeta],
    exceptions: &'a [ExceptionView],
    attachments: &'a [AttachmentView],
}

const STATUS_ORDER: [(Status, &str, &str); 6] = [
    (Status::Pass, "Passing", "pass"),
    (Status::Fail, "Failing", "fail"),
    (Status::Error, "Error", "error"),
    (Status::Waived, "Waived", "waived"),
    (Status::Manual, "Manual evidence", "manual"),
    (Status::NotApplicable, "Not applicable", "not_applicable"),
];

fn colour(status: Status) -> &'static str {
    match status {
        Status::Pass => "#1a7f37",
        Status::Fail => "#cf222e",
        Status::Error => "#bc4c00",
        Status::Waived => "#8250df",
        Status::Manual => "#6e7781",
        Status::NotApplicable => "#afb8c1",
    }
}

/// A horizontal stacked bar of requirement statuses, as inline SVG.
fn chart(model: &ReportModel) -> String {
    let total = model.summary.requirements.max(1) as f64;
    let (width, height) = (640.0, 28.0);
    let mut x = 0.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="Requirements by status">"#
    );
    for (status, label, _) in STATUS_ORDER {
        let n = model.summary.by_status.get(status.as_str()).copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        let w = width * n as f64 / total;
        svg.push_str(&format!(
            r#"<rect x="{x:.2}" y="0" width="{w:.2}" height="{height}" fill="{}"><title>{label}: {n}</title></rect>"#,
            colour(status)
        ));
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

fn scope(f: &Finding) -> String {
    format!("{}/{}/{}", f.resource.provider, f.resource.account, f.resource.region)
}

pub fn render(model: &ReportModel) -> Result<String, askama::Error> {
    let framework = model.framework.id.as_str();
    let cards = STATUS_ORDER
        .iter()
        .map(|(status, label, class)| Card {
            label,
            class,
            count: model.summary.by_status.get(status.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let mut families: Vec<FamilyRows> = model
        .framework
        .families
        .iter()
        .map(|f| FamilyRows {
            id: f.id.clone(),
            title: f.title.clone(),
            rows: Vec::new(),
        })
        .collect();
    for r in &model.requirements {
        let counts = r
            .counts
            .iter()
            .map(|(s, n)| format!("{n} {}", s.replace('_', " ")))
            .collect::<Vec<_>>()
            .join(", ");
        let row = RequirementRow {
            id: r.id.clone(),
            title: r.title.clone(),
            status: r.status,
            controls: r.controls.clone(),
            counts,
            manual: r.manual.clone(),
        };
        if let Some(family) = families.iter_mut().find(|f| f.id == r.family) {
            family.rows.push(row);
        }
    }
    let row = |f| finding_row(f, framework);
    let mut groups: BTreeMap<(crate::catalogue::Severity, String), ControlGroup> = BTreeMap::new();
    for f in model
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
    {
        let Some(control) = model.controls.get(&f.control) else {
            continue;
        };
        let key = (control.severity, control.id.clone());
        groups
            .entry(key)
            .or_insert_with(|| ControlGroup {
                id: control.id.clone(),
                title: control.title.clone(),
                severity: control.severity.as_str().to_owned(),
                requirements: control.requirement_ids(framework).join(", "),
                remediation: ticks(&control.remediation.summary),
                cli: control.remediation.cli.clone(),
                rows: Vec::new(),
            })
            .rows
            .push(row(f));
    }
    let mut requirement_ids: Vec<String> = model
        .requirements
        .iter()
        .filter(|r| !r.controls.is_empty())
        .map(|r| r.id.clone())
        .collect();
    requirement_ids.dedup();
    let page = Page {
        organisation: model.organisation.clone().unwrap_or_default(),
        framework_name: model.framework.name.clone(),
        framework_version: model.framework.version.clone(),
        version: crate::VERSION,
        run: &model.run,
        cards,
        chart: chart(model),
        gaps: &model.gaps,
        families,
        problems: groups.into_values().collect(),
        all: model.findings.iter().map(row).collect(),
        requirement_ids,
        any_overdue: model.findings.iter().any(|f| f.overdue == Some(true)),
        evidence: &model.evidence,
        exceptions: &model.exceptions,
        attachments: &model.attachments,
    };
    page.render()
}

/// Splits text on backticks: odd parts were quoted as code.
fn ticks(text: &str) -> Vec<(bool, String)> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| (i % 2 == 1, part.to_owned()))
        .collect()
}

fn finding_row<'a>(f: &'a Finding, framework: &str) -> FindingRow<'a> {
    FindingRow {
        finding: f,
        requirements: f.requirements.get(framework).map(|r| r.join(" ")).unwrap_or_default(),
        scope: scope(f),
    }
}

impl Page<'_> {
    /// The first 12 hex digits of a hash, for tables (the full hash is in the title).
    fn short<'s>(&self, sha: &'s str) -> &'s str {
        sha.get(..12).unwrap_or(sha)
    }

    /// A status as a badge says it: `n/a` fits a narrow column where `not_applicable`
    /// does not (the filter and the data attributes keep the full name).
    fn label(&self, status: &Status) -> &'static str {
        match status {
            Status::NotApplicable => "n/a",
            other => other.as_str(),
        }
    }
}
