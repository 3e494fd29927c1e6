//! The audit-period report (SOC 2 Type II): how each control and requirement held over
//! every run in a window, day by day.
//!
//! The auditor's question is "was this operating on every day of the period?", so:
//! days without a run are shown as such (never as passes); a control's share passing
//! is over the runs that evaluated it; a failing finding lists the dates it failed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::{Date, Duration};

use super::ReportError;
use crate::catalogue::{Catalogue, Framework};
use crate::engine::Status;
use crate::store::{Run, Store, StoredFinding};

#[derive(Debug, Clone, Serialize)]
pub struct RunRef {
    pub id: String,
    pub date: String,
    pub status: String,
    pub manifest: Option<String>,
}

/// One day of a timeline: the status that day (from that day's last run), or
/// `no_run`.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub date: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingPeriod {
    pub resource: String,
    pub scope: String,
    /// The days on which a run saw it failing.
    pub failing_on: Vec<String>,
    pub open_at_end: bool,
}

/// How something (a control or a requirement) held over the period.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Held {
    /// Runs that evaluated it.
    pub runs: usize,
    /// Of those, runs where nothing failed or was in error.
    pub runs_passing: usize,
    /// `runs_passing / runs`, 0 to 1 (null when no run evaluated it).
    pub share_passing: Option<f64>,
    pub first_failure: Option<String>,
    pub last_failure: Option<String>,
    /// The longest stretch of consecutive runs failing, in days from its first to its
    /// last failing run (inclusive).
    pub longest_failing_days: i64,
    /// Failing at the end of the period (in its last run).
    pub open_at_end: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlPeriod {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub requirements: Vec<String>,
    #[serde(flatten)]
    pub held: Held,
    pub failing_findings: Vec<FindingPeriod>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementPeriod {
    pub id: String,
    pub family: String,
    pub title: String,
    pub controls: Vec<String>,
    #[serde(flatten)]
    pub held: Held,
    pub timeline: Vec<Day>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyPeriod {
    pub id: String,
    pub title: String,
    pub timeline: Vec<Day>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodModel {
    pub framework: String,
    pub framework_name: String,
    pub organisation: Option<String>,
    pub from: String,
    pub to: String,
    pub runs: Vec<RunRef>,
    pub days: usize,
    pub days_without_run: Vec<String>,
    pub controls: Vec<ControlPeriod>,
    pub requirements: Vec<RequirementPeriod>,
    pub families: Vec<FamilyPeriod>,
}

fn parse_day(text: &str) -> Result<Date, ReportError> {
    crate::time_fmt::parse_date_or_time(text)
        .map(|t| t.date())
        .ok_or_else(|| ReportError::Period(format!("`{text}` is not a date (YYYY-MM-DD)")))
}

fn day(t: &str) -> String {
    t.get(..10).unwrap_or(t).to_owned()
}

fn worst(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
    statuses.into_iter().max_by_key(|s| s.rank())
}

fn failing(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Error)
}

/// Sums up a series of (date, status) observations, oldest first.
fn held(series: &[(String, Status)]) -> Held {
    let mut h = Held {
        runs: series.len(),
        ..Held::default()
    };
    let mut stretch_start: Option<&str> = None;
    for (date, status) in series {
        if failing(*status) {
            h.first_failure.get_or_insert_with(|| date.clone());
            h.last_failure = Some(date.clone());
            let start = *stretch_start.get_or_insert(date.as_str());
            if let (Ok(a), Ok(b)) = (parse_day(start), parse_day(date)) {
                h.longest_failing_days = h.longest_failing_days.max((b - a).whole_days() + 1);
            }
        } else {
            h.runs_passing += 1;
            stretch_start = None;
        }
    }
    h.share_passing = (h.runs > 0).then(|| h.runs_passing as f64 / h.runs as f64);
    h.open_at_end = series.last().is_some_and(|(_, s)| failing(*s));
    h
}

/// Builds the period report of `framework` over collection runs evaluated from `from`
/// to `to` (dates, inclusive).
pub fn build(
    store: &Store,
    catalogue: &Catalogue,
    framework: &str,
    from: &str,
    to: &str,
    organisation: Option<String>,
) -> Result<PeriodModel, ReportError> {
    let fw: &Framework = catalogue.framework(framework).ok_or_else(|| {
        ReportError::UnknownFramework(
            framework.to_owned(),
            catalogue.frameworks.keys().cloned().collect::<Vec<_>>().join(", "),
        )
    })?;
    let (start, end) = (parse_day(from)?, parse_day(to)?);
    if end < start {
        return Err(ReportError::Period(format!("--to {to} is before --from {from}")));
    }
    let runs: Vec<Run> = store
        .runs()?
        .into_iter()
        .filter(|r| r.manifest.is_some() && r.sources.iter().any(|s| s != crate::store::MANUAL_SOURCE))
        .filter(|r| parse_day(&r.evaluated_at).is_ok_and(|d| d >= start && d <= end))
        .collect();
    let mut findings: Vec<(String, Vec<StoredFinding>)> = Vec::new();
    for r in &runs {
        findings.push((day(&r.evaluated_at), store.findings(&r.id)?));
    }
    let mut dates = Vec::new();
    let mut d = start;
    while d <= end {
        dates.push(d.to_string());
        d += Duration::days(1);
    }
    let run_days: BTreeSet<String> = runs.iter().map(|r| day(&r.evaluated_at)).collect();
    let days_without_run: Vec<String> = dates.iter().filter(|d| !run_days.contains(*d)).cloned().collect();

    // Imported scanner findings count like the catalogue's controls: their controls are
    // described by the runs that imported them (the latest description wins).
    let mut scanner_controls: BTreeMap<String, crate::catalogue::Control> = BTreeMap::new();
    for (r, (_, list)) in runs.iter().zip(&findings) {
        let scanned = list.iter().any(|f| f.control.starts_with(crate::scan::PREFIX));
        for c in crate::scan::controls_for_report(store, &r.id, scanned)? {
            scanner_controls.insert(c.id.clone(), c);
        }
    }
    let mapped: Vec<&crate::catalogue::Control> = catalogue
        .controls
        .iter()
        .chain(scanner_controls.values())
        .filter(|c| !c.requirement_ids(framework).is_empty())
        .collect();
    // Control status per run (worst of its findings), and the failing findings' dates.
    let mut controls = Vec::new();
    let mut control_series: BTreeMap<&str, Vec<(String, Status)>> = BTreeMap::new();
    for control in &mapped {
        let mut series = Vec::new();
        let mut failing_dates: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut last_failing: BTreeSet<(String, String)> = BTreeSet::new();
        for (i, (date, list)) in findings.iter().enumerate() {
            let own: Vec<&StoredFinding> = list.iter().filter(|f| f.control == control.id).collect();
            let Some(status) = worst(own.iter().filter_map(|f| Status::parse(&f.status))) else {
                continue;
            };
            series.push((date.clone(), status));
            for f in own.iter().filter(|f| Status::parse(&f.status).is_some_and(failing)) {
                let key = (
                    f.resource_id.clone(),
                    format!("{}/{}/{}", f.provider, f.account, f.region),
                );
                let dates = failing_dates.entry(key.clone()).or_default();
                if dates.last() != Some(date) {
                    dates.push(date.clone());
                }
                if i + 1 == findings.len() {
                    last_failing.insert(key);
                }
            }
        }
        let failing_findings = failing_dates
            .into_iter()
            .map(|((resource, scope), failing_on)| {
                let open_at_end = last_failing.contains(&(resource.clone(), scope.clone()));
                FindingPeriod {
                    resource,
                    scope,
                    failing_on,
                    open_at_end,
                }
            })
            .collect();
        controls.push(ControlPeriod {
            id: control.id.clone(),
            title: control.title.clone(),
            severity: control.severity.as_str().to_owned(),
            requirements: control.requirement_ids(framework),
            held: held(&series),
            failing_findings,
        });
        control_series.insert(control.id.as_str(), series);
    }

    let mut requirements = Vec::new();
    let mut requirement_days: BTreeMap<String, BTreeMap<String, Status>> = BTreeMap::new();
    for requirement in &fw.requirements {
        let ids: Vec<String> = mapped
            .iter()
            .filter(|c| c.requirement_ids(framework).contains(&requirement.id))
            .map(|c| c.id.clone())
            .collect();
        // Per run: the worst status over its controls; a run that evaluated none of them
        // says nothing (the requirement needs manual evidence that day).
        let mut series = Vec::new();
        for (date, list) in &findings {
            let status = worst(
                list.iter()
                    .filter(|f| ids.contains(&f.control))
                    .filter_map(|f| Status::parse(&f.status)),
            );
            if let Some(status) = status {
                series.push((date.clone(), status));
            }
        }
        let by_day: BTreeMap<String, Status> = series.iter().cloned().collect();
        let timeline = dates
            .iter()
            .map(|d| Day {
                date: d.clone(),
                status: match (run_days.contains(d), by_day.get(d)) {
                    (false, _) => "no_run".into(),
                    (true, Some(s)) => s.as_str().into(),
                    (true, None) => Status::Manual.as_str().into(),
                },
            })
            .collect();
        requirement_days.insert(requirement.id.clone(), by_day);
        requirements.push(RequirementPeriod {
            id: requirement.id.clone(),
            family: requirement.family.clone(),
            title: requirement.title.clone(),
            controls: ids,
            held: held(&series),
            timeline,
        });
    }
    let families = fw
        .families
        .iter()
        .map(|family| {
            let members: Vec<&String> = fw
                .requirements
                .iter()
                .filter(|r| r.family == family.id)
                .map(|r| &r.id)
                .collect();
            let timeline = dates
                .iter()
                .map(|d| {
                    let status = if !run_days.contains(d) {
                        "no_run".to_owned()
                    } else {
                        worst(
                            members
                                .iter()
                                .filter_map(|id| requirement_days.get(*id).and_then(|m| m.get(d)).copied()),
                        )
                        .unwrap_or(Status::Manual)
                        .as_str()
                        .to_owned()
                    };
                    Day {
                        date: d.clone(),
                        status,
                    }
                })
                .collect();
            FamilyPeriod {
                id: family.id.clone(),
                title: family.title.clone(),
                timeline,
            }
        })
        .collect();
    Ok(PeriodModel {
        framework: framework.to_owned(),
        framework_name: fw.name.clone(),
        organisation,
        from: start.to_string(),
        to: end.to_string(),
        runs: runs
            .iter()
            .map(|r| RunRef {
                id: r.id.clone(),
                date: r.evaluated_at.clone(),
                status: r.status.as_str().into(),
                manifest: r.manifest.clone(),
            })
            .collect(),
        days: dates.len(),
        days_without_run,
        controls,
        requirements,
        families,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_stretch_and_share() {
        let s = |d: &str, st: Status| (d.to_owned(), st);
        let h = held(&[
            s("2026-01-01", Status::Pass),
            s("2026-01-02", Status::Fail),
            s("2026-01-05", Status::Fail),
            s("2026-01-06", Status::Pass),
            s("2026-01-07", Status::Error),
        ]);
        assert_eq!(h.runs, 5);
        assert_eq!(h.runs_passing, 2);
        assert_eq!(h.first_failure.as_deref(), Some("2026-01-02"));
        assert_eq!(h.last_failure.as_deref(), Some("2026-01-07"));
        assert_eq!(h.longest_failing_days, 4);
        assert!(h.open_at_end);
    }
}

fn colour(status: &str) -> &'static str {
    match status {
        "pass" => "#1a7f37",
        "fail" => "#cf222e",
        "error" => "#bc4c00",
        "waived" => "#8250df",
        "manual" => "#d0d7de",
        "not_applicable" => "#eaeef2",
        _ => "url(#norun)",
    }
}

/// One row of cells per family, one cell per day; days without a run are hatched.
fn timeline_svg(model: &PeriodModel) -> String {
    let (cell, label, row) = (12.0_f64, 190.0_f64, 16.0_f64);
    let width = label + cell * model.days as f64 + 10.0;
    let height = row * model.families.len() as f64 + 24.0;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" style="max-width:100%;height:auto" role="img" aria-label="Requirement families by day">
<defs><pattern id="norun" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#fff"/><line x1="0" y1="0" x2="0" y2="4" stroke="#8c959f" stroke-width="1.5"/></pattern></defs>"##
    );
    for (i, family) in model.families.iter().enumerate() {
        let y = i as f64 * row;
        svg.push_str(&format!(
            r#"<text x="0" y="{:.1}" font-size="10" font-family="sans-serif">{} {}</text>"#,
            y + 10.0,
            html_escape(&family.id),
            html_escape(&family.title.chars().take(30).collect::<String>())
        ));
        for (j, day) in family.timeline.iter().enumerate() {
            let x = label + j as f64 * cell;
            svg.push_str(&format!(
                r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}" stroke="#fff"><title>{} {}: {}</title></rect>"##,
                cell - 1.0,
                row - 3.0,
                colour(&day.status),
                html_escape(&family.id),
                day.date,
                day.status.replace('_', " ")
            ));
        }
    }
    let y = row * model.families.len() as f64 + 14.0;
    if let (Some(first), Some(last)) = (
        model.families.first().and_then(|f| f.timeline.first()),
        model.families.first().and_then(|f| f.timeline.last()),
    ) {
        svg.push_str(&format!(
            r#"<text x="{label}" y="{y:.1}" font-size="10" font-family="sans-serif">{}</text>"#,
            first.date
        ));
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{y:.1}" font-size="10" font-family="sans-serif" text-anchor="end">{}</text>"#,
            width - 10.0,
            last.date
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(askama::Template)]
#[template(path = "html/period.html")]
struct PeriodPage<'a> {
    model: &'a PeriodModel,
    chart: String,
    version: &'static str,
    problems: Vec<&'a ControlPeriod>,
}

impl PeriodPage<'_> {
    fn percent(&self, held: &Held) -> String {
        held.share_passing
            .map(|s| format!("{:.0}%", s * 100.0))
            .unwrap_or_else(|| "-".into())
    }
}

/// The period report as one self-contained HTML file.
pub fn render_html(model: &PeriodModel) -> Result<String, askama::Error> {
    use askama::Template;
    let problems = model
        .controls
        .iter()
        .filter(|c| c.held.first_failure.is_some())
        .collect();
    PeriodPage {
        model,
        chart: timeline_svg(model),
        version: crate::VERSION,
        problems,
    }
    .render()
}

/// The period report as JSON (deterministic).
pub fn render_json(model: &PeriodModel) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = serde_json::to_vec_pretty(&serde_json::json!({
        "tool": {"name": "evidra", "version": crate::VERSION},
        "period": model,
    }))?;
    bytes.push(b'\n');
    Ok(bytes)
}
