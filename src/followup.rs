//! `evidra findings`: the follow-up list. Across every collection run, oldest first,
//! each failing finding (control + resource, the identity `diff` uses too) with when it
//! opened, when it was last seen, whether it is still open, its age and whether it is
//! past its remediation deadline.
//!
//! Rules, so the list can be defended to an auditor:
//! - Dates are the runs' evaluation times, never the wall clock: the list of a store is
//!   the same whenever it is printed, and ages are counted up to the latest run.
//! - A finding is *open* when it fails in the latest run that covered its scope. A run
//!   covers a catalogue finding when the control has findings in that account and region;
//!   it covers a scanner finding when the same scanner reported on that scope (its
//!   `scan.report` record), so a Trivy scan never closes a Prowler finding, and a run
//!   that did not look at an account leaves that account's findings as they were.
//! - A finding missing from a covering run, or passing in it, is closed there. An `error`
//!   (evidence missing) says nothing either way and is passed over.
//! - Waived findings (an approved exception) are shown as waived: not open, not overdue,
//!   but still the same episode, so when the exception expires its age has kept counting.
//! - Age counts from the first run of the current episode: a finding fixed and later back
//!   starts again, because the earlier fix was real.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::catalogue::Catalogue;
use crate::config::Deadlines;
use crate::store::{Run, RunStatus, Store, StoreError, StoredFinding};

/// A run, as the follow-up list names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    pub run: String,
    /// The run's evaluation time (RFC 3339).
    pub at: String,
}

impl Seen {
    fn of(run: &Run) -> Self {
        Self {
            run: run.id.clone(),
            at: run.evaluated_at.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Resource {
    pub provider: String,
    pub account: String,
    pub region: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
}

/// One finding followed across runs.
#[derive(Debug, Clone, Serialize)]
pub struct Tracked {
    pub control: String,
    pub title: String,
    /// `critical` ... `info`, or `unknown` for a control no longer in the catalogue.
    pub severity: String,
    pub resource: Resource,
    /// In the latest run that covered it: `fail`, `waived`, `pass`, `not_applicable`, or
    /// `absent` (the covering run no longer reports it: fixed, or the resource is gone).
    pub status: String,
    pub open: bool,
    /// Opened: the first run of the current episode of failures.
    pub first_seen: Seen,
    /// The last run in which it failed (or was waived).
    pub last_seen: Seen,
    /// The run in which it stopped failing, when it did.
    pub closed: Option<Seen>,
    /// Whole days from `first_seen` to `closed`, or to the latest run while it is open.
    pub age_days: i64,
    /// The deadline of its severity (`[deadlines]` in evidra.toml), if any.
    pub deadline_days: Option<i64>,
    /// Open and older than its deadline.
    pub overdue: bool,
    /// The latest message.
    pub message: String,
}

type Key = (String, Resource);

fn key(f: &StoredFinding) -> Key {
    (
        f.control.clone(),
        Resource {
            provider: f.provider.clone(),
            account: f.account.clone(),
            region: f.region.clone(),
            resource_type: f.resource_type.clone(),
            id: f.resource_id.clone(),
        },
    )
}

/// Runs that collected something: sealed, finished, and not only an attachment or a
/// prune tombstone (sources `manual`, `prune`), which carry no findings.
pub fn collection_runs(store: &Store, until: Option<&Run>) -> Result<Vec<Run>, StoreError> {
    Ok(store
        .runs()?
        .into_iter()
        .filter(|r| until.is_none_or(|u| r.seq <= u.seq))
        .filter(|r| r.manifest.is_some() && matches!(r.status, RunStatus::Complete | RunStatus::Partial))
        .filter(|r| {
            r.sources
                .iter()
                .any(|s| s != crate::store::MANUAL_SOURCE && s != "prune")
        })
        .collect())
}

fn days_between(from: &str, to: &str) -> i64 {
    match (crate::time_fmt::parse(from), crate::time_fmt::parse(to)) {
        (Ok(a), Ok(b)) => (b - a).whole_days().max(0),
        _ => 0,
    }
}

/// What a run looked at: catalogue controls per scope, scanners per scope.
#[derive(Default)]
struct Coverage {
    controls: BTreeSet<(String, String, String, String)>,
    scanners: BTreeSet<(String, String, String, String)>,
}

struct State {
    tracked: Tracked,
    /// The scanner of a scanner finding (what must cover it), else None.
    scanner: Option<String>,
    /// In an episode of failures (fail or waived).
    failing: bool,
}

/// The follow-up list over every collection run up to `until` (default: all), oldest
/// first by the date each finding opened. `deadlines` flags overdue findings.
pub fn track(
    store: &Store,
    catalogue: &Catalogue,
    until: Option<&Run>,
    deadlines: Option<&Deadlines>,
) -> Result<Vec<Tracked>, StoreError> {
    let runs = collection_runs(store, until)?;
    let mut states: BTreeMap<Key, State> = BTreeMap::new();
    for run in &runs {
        let findings = store.findings(&run.id)?;
        // Only scanner records are read here; a run without scanner output has none, and
        // reading a large run's resources for nothing would dominate the time.
        let scanned = store
            .evidence(&run.id)?
            .iter()
            .any(|e| evidra_collector_files::scanners::is_operation(&e.operation));
        let data = if scanned {
            store.run_data(&run.id)?
        } else {
            crate::store::RunData::default()
        };
        let mut coverage = Coverage::default();
        let mut scan_records: BTreeMap<(String, String, String, String, String), &Value> = BTreeMap::new();
        for r in &data.resources {
            if r.resource_type == crate::scan::REPORT {
                coverage.scanners.insert((
                    r.resource_id.clone(),
                    r.provider.clone(),
                    r.account.clone(),
                    r.region.clone(),
                ));
            } else if r.resource_type == crate::scan::FINDING {
                scan_records.insert(
                    (
                        r.provider.clone(),
                        r.account.clone(),
                        r.region.clone(),
                        r.resource_type.clone(),
                        r.resource_id.clone(),
                    ),
                    &r.properties,
                );
            }
        }
        for f in findings.iter().filter(|f| !f.control.starts_with(crate::scan::PREFIX)) {
            coverage.controls.insert((
                f.control.clone(),
                f.provider.clone(),
                f.account.clone(),
                f.region.clone(),
            ));
        }

        let mut present: BTreeSet<Key> = BTreeSet::new();
        for f in &findings {
            let k = key(f);
            present.insert(k.clone());
            let failing = matches!(f.status.as_str(), "fail" | "waived");
            let judged = failing || matches!(f.status.as_str(), "pass" | "not_applicable");
            if !judged {
                continue;
            }
            let properties = scan_records.get(&(
                f.provider.clone(),
                f.account.clone(),
                f.region.clone(),
                f.resource_type.clone(),
                f.resource_id.clone(),
            ));
            let state = match states.get_mut(&k) {
                Some(state) => state,
                None if failing => states.entry(k.clone()).or_insert_with(|| State {
                    tracked: new_tracked(&k, run),
                    scanner: None,
                    failing: false,
                }),
                None => continue,
            };
            if let Some(p) = properties {
                let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
                state.scanner = text("scanner").or(state.scanner.take());
                if let Some(title) = text("title") {
                    state.tracked.title = title;
                }
                if let Some(severity) = text("severity") {
                    state.tracked.severity = severity;
                }
            }
            let t = &mut state.tracked;
            t.status = f.status.clone();
            t.message = f.message.clone();
            if failing {
                if !state.failing {
                    t.first_seen = Seen::of(run);
                    t.closed = None;
                }
                t.last_seen = Seen::of(run);
                state.failing = true;
            } else if state.failing {
                t.closed = Some(Seen::of(run));
                state.failing = false;
            }
        }
        for (k, state) in states.iter_mut().filter(|(k, _)| !present.contains(*k)) {
            let (control, r) = k;
            let covered = match &state.scanner {
                Some(scanner) => coverage.scanners.contains(&(
                    scanner.clone(),
                    r.provider.clone(),
                    r.account.clone(),
                    r.region.clone(),
                )),
                None => coverage.controls.contains(&(
                    control.clone(),
                    r.provider.clone(),
                    r.account.clone(),
                    r.region.clone(),
                )),
            };
            if covered {
                state.tracked.status = "absent".into();
                if state.failing {
                    state.tracked.closed = Some(Seen::of(run));
                    state.failing = false;
                }
            }
        }
    }

    let latest = runs.last().map(|r| r.evaluated_at.clone()).unwrap_or_default();
    let mut out: Vec<Tracked> = states
        .into_values()
        .map(|state| {
            let mut t = state.tracked;
            // Catalogue controls are described by today's catalogue; scanner controls
            // (never in it) by their latest record, read above.
            if let Some(c) = catalogue.control(&t.control) {
                t.title = c.title.clone();
                t.severity = c.severity.as_str().to_owned();
            }
            t.open = t.status == "fail";
            let end = t
                .closed
                .as_ref()
                .map(|c| c.at.clone())
                .unwrap_or_else(|| latest.clone());
            t.age_days = days_between(&t.first_seen.at, &end);
            t.deadline_days = deadlines.and_then(|d| d.days(&t.severity));
            t.overdue = t.open && t.deadline_days.is_some_and(|d| t.age_days > d);
            t
        })
        .collect();
    out.sort_by(|a, b| (&a.first_seen.at, &a.control, &a.resource).cmp(&(&b.first_seen.at, &b.control, &b.resource)));
    Ok(out)
}

fn new_tracked(k: &Key, run: &Run) -> Tracked {
    Tracked {
        control: k.0.clone(),
        title: String::new(),
        severity: "unknown".into(),
        resource: k.1.clone(),
        status: String::new(),
        open: false,
        first_seen: Seen::of(run),
        last_seen: Seen::of(run),
        closed: None,
        age_days: 0,
        deadline_days: None,
        overdue: false,
        message: String::new(),
    }
}

/// Severity order for `--severity`: `high` keeps high and critical.
pub fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// The filters of `evidra findings`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub open_only: bool,
    /// Opened on or after this time (RFC 3339, or a date: midnight UTC).
    pub since: Option<time::OffsetDateTime>,
    pub min_severity: Option<String>,
}

impl Filter {
    pub fn keeps(&self, t: &Tracked) -> bool {
        (!self.open_only || t.open)
            && self
                .since
                .is_none_or(|since| crate::time_fmt::parse(&t.first_seen.at).is_ok_and(|opened| opened >= since))
            && self
                .min_severity
                .as_deref()
                .is_none_or(|s| severity_rank(&t.severity) >= severity_rank(s))
    }
}

/// The follow-up list as CSV (one row per finding, a header row first).
pub fn csv(list: &[Tracked]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "first_seen",
        "first_seen_run",
        "last_seen",
        "last_seen_run",
        "closed",
        "status",
        "open",
        "age_days",
        "deadline_days",
        "overdue",
        "severity",
        "control",
        "provider",
        "account",
        "region",
        "resource_type",
        "resource",
        "title",
        "message",
    ])?;
    for t in list {
        w.write_record([
            t.first_seen.at.as_str(),
            &t.first_seen.run,
            &t.last_seen.at,
            &t.last_seen.run,
            t.closed.as_ref().map(|c| c.at.as_str()).unwrap_or_default(),
            &t.status,
            if t.open { "true" } else { "false" },
            &t.age_days.to_string(),
            &t.deadline_days.map(|d| d.to_string()).unwrap_or_default(),
            if t.overdue { "true" } else { "false" },
            &t.severity,
            &t.control,
            &t.resource.provider,
            &t.resource.account,
            &t.resource.region,
            &t.resource.resource_type,
            &t.resource.id,
            &t.title,
            &t.message,
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The findings open past their severity's deadline, as the follow-up list up to a
/// report's run says (made only when deadlines are configured).
pub struct Overdue(BTreeSet<Key>);

impl Overdue {
    pub fn of(store: &Store, catalogue: &Catalogue, deadlines: &Deadlines, run: &Run) -> Result<Self, StoreError> {
        let tracked = track(store, catalogue, Some(run), Some(deadlines))?;
        Ok(Self(
            tracked
                .into_iter()
                .filter(|t| t.overdue)
                .map(|t| (t.control, t.resource))
                .collect(),
        ))
    }

    /// Marks each finding of a report overdue or not.
    pub fn flag(&self, model: &mut crate::report::ReportModel) {
        for f in &mut model.findings {
            f.overdue = Some(self.contains(f));
        }
    }

    pub fn contains(&self, f: &crate::report::model::Finding) -> bool {
        self.0.contains(&(
            f.control.clone(),
            Resource {
                provider: f.resource.provider.clone(),
                account: f.resource.account.clone(),
                region: f.resource.region.clone(),
                resource_type: f.resource.resource_type.clone(),
                id: f.resource.id.clone(),
            },
        ))
    }
}
