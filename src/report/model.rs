//! What a report says, computed once for every format.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::ReportError;
use crate::catalogue::{Catalogue, Control, Framework};
use crate::engine::Status;
use crate::exceptions::Exception;
use crate::store::{EvidenceMeta, FindingRow, Run, Store};

/// A control's requirement IDs by framework, sorted.
pub type RequirementMap = BTreeMap<String, Vec<String>>;

/// Fields in the order of their JSON names, so the JSON report's keys come out sorted
/// without going through a sorted map (as [`Finding`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResourceRef {
    pub account: String,
    pub id: String,
    pub provider: String,
    pub region: String,
    #[serde(rename = "type")]
    pub resource_type: String,
}

/// Fields in the order of their JSON names: the JSON report writes a million findings
/// straight from this struct with its keys sorted, where making a sorted map of each
/// first was a third of the report's time (`finding_keys_serialise_sorted` holds it).
#[derive(Debug, Serialize)]
pub struct Finding {
    pub control: String,
    pub evidence: Vec<String>,
    pub message: String,
    /// Open past its severity's remediation deadline; set only when `[deadlines]` is
    /// configured (`evidra::followup::Overdue`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    /// Shared by every finding of the control: a million findings need not hold a
    /// million copies of the same mapping.
    pub requirements: Arc<RequirementMap>,
    pub resource: ResourceRef,
    pub severity: String,
    pub status: Status,
}

impl Clone for Finding {
    fn clone(&self) -> Self {
        Finding {
            control: self.control.clone(),
            evidence: self.evidence.clone(),
            message: self.message.clone(),
            overdue: self.overdue,
            requirements: self.requirements.clone(),
            resource: self.resource.clone(),
            severity: self.severity.clone(),
            status: self.status,
        }
    }

    /// Field by field, into the strings `self` already has: the JSON report copies each
    /// finding into a batch it reuses, and so allocates nothing per finding.
    fn clone_from(&mut self, source: &Self) {
        self.control.clone_from(&source.control);
        self.evidence.clone_from(&source.evidence);
        self.message.clone_from(&source.message);
        self.overdue = source.overdue;
        self.requirements.clone_from(&source.requirements);
        let (to, from) = (&mut self.resource, &source.resource);
        to.account.clone_from(&from.account);
        to.id.clone_from(&from.id);
        to.provider.clone_from(&from.provider);
        to.region.clone_from(&from.region);
        to.resource_type.clone_from(&from.resource_type);
        self.severity.clone_from(&source.severity);
        self.status = source.status;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GapView {
    pub collector: String,
    pub scope: String,
    pub operation: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementView {
    pub framework: String,
    pub id: String,
    pub family: String,
    pub title: String,
    pub status: Status,
    pub controls: Vec<String>,
    /// Finding counts by status, over the requirement's controls.
    pub counts: BTreeMap<String, usize>,
    /// What an auditor expects, when the status is `manual`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
    /// SHA-256 of the manual evidence attached to the requirement.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub requirements: usize,
    pub by_status: BTreeMap<String, usize>,
    pub findings_by_status: BTreeMap<String, usize>,
}

/// An exception (accepted risk) from `exceptions.toml`, as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionView {
    pub control: String,
    /// Glob over resource IDs (`*` for all).
    pub resource: String,
    pub justification: String,
    pub approved_by: String,
    pub approved_on: String,
    pub expires: String,
    /// `active`, `expiring` (within 30 days of the run) or `expired`.
    pub state: String,
    /// Findings of this run it waived.
    pub waived: usize,
}

/// A file attached as manual evidence for a requirement (`evidra evidence add`).
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub framework: String,
    pub requirement: String,
    pub file_name: String,
    pub sha256: String,
    pub size: i64,
    pub note: Option<String>,
    pub added_by: String,
    pub added_at: String,
}

/// Everything one report shows.
#[derive(Debug, Clone)]
pub struct ReportModel {
    pub organisation: Option<String>,
    pub framework: Framework,
    pub run: Run,
    pub gaps: Vec<GapView>,
    pub findings: Vec<Finding>,
    pub requirements: Vec<RequirementView>,
    pub summary: Summary,
    /// Evidence records cited by the findings of this report.
    pub evidence: Vec<EvidenceMeta>,
    /// The controls that appear in this report, by ID.
    pub controls: BTreeMap<String, Control>,
    /// The exceptions register (all exceptions known when the report was made).
    pub exceptions: Vec<ExceptionView>,
    /// Manual evidence attached to this framework's requirements.
    pub attachments: Vec<AttachmentView>,
    /// Scanner findings listed although their control maps to no requirement of the
    /// framework (`"requirements"` without it).
    pub unmapped_scan_findings: usize,
}

pub fn build(
    store: &Store,
    catalogue: &Catalogue,
    run: &Run,
    framework: &str,
    organisation: Option<String>,
) -> Result<ReportModel, ReportError> {
    let mut findings = Vec::with_capacity(store.finding_count(&run.id)?);
    let mut model = build_each(store, catalogue, run, framework, organisation, None, |f| {
        findings.push(f.clone());
        Ok::<(), ReportError>(())
    })?;
    findings.shrink_to_fit();
    model.findings = findings;
    Ok(model)
}

/// Builds the report as [`build`] does, but lends each finding to `each` as it is read
/// from the store, in the report's order (one finding, refilled from each row: a caller
/// keeping them copies them), and keeps none: the model comes back with no
/// `findings`, everything counted over them (requirement statuses, summary, cited
/// evidence, exceptions' waived counts) already counted. A million findings held at
/// once was most of a large JSON report's time (the kernel zeroing fresh memory) and
/// memory (`write_json_streamed`).
///
/// `overdue`, when deadlines are configured, flags each finding open past its deadline
/// (`followup::Overdue`).
pub fn build_each<E: From<ReportError>>(
    store: &Store,
    catalogue: &Catalogue,
    run: &Run,
    framework: &str,
    organisation: Option<String>,
    overdue: Option<&crate::followup::Overdue>,
    mut each: impl FnMut(&Finding) -> Result<(), E>,
) -> Result<ReportModel, E> {
    let Some(fw) = catalogue.framework(framework) else {
        let known: Vec<&str> = catalogue.frameworks.keys().map(String::as_str).collect();
        return Err(ReportError::UnknownFramework(framework.to_owned(), known.join(", ")).into());
    };
    let scanned = store
        .has_findings_of(&run.id, crate::scan::PREFIX)
        .map_err(ReportError::from)?;
    let mut controls: BTreeMap<String, Control> = catalogue
        .controls
        .iter()
        .filter(|c| c.requirements.iter().any(|m| m.framework == framework))
        .map(|c| (c.id.clone(), c.clone()))
        .collect();
    // Imported scanner findings, mapped to this framework or not: unmapped ones are listed
    // too (with no requirement of it), never dropped.
    controls.extend(
        crate::scan::controls_for_report(store, &run.id, scanned)
            .map_err(ReportError::from)?
            .into_iter()
            .map(|c| (c.id.clone(), c)),
    );
    let mut exceptions = exception_register(store, run)?;
    // Each control with its requirement mapping, shared by all of its findings.
    let mapped: BTreeMap<&str, (&Control, Arc<RequirementMap>)> = controls
        .values()
        .map(|c| (c.id.as_str(), (c, Arc::new(requirement_map(c)))))
        .collect();
    // Counted per control as read, then summed per requirement.
    let mut per_control: BTreeMap<&str, BTreeMap<&'static str, usize>> = BTreeMap::new();
    let mut cited: BTreeSet<String> = BTreeSet::new();
    // The first error of `each`: the store's reading goes on to its end, unused.
    let mut failed: Option<E> = None;
    // Each row read into this one finding, in the strings it already has.
    let mut current: Option<Finding> = None;
    store
        .finding_rows(&run.id, |row| {
            if failed.is_some() {
                return;
            }
            if row.status == "waived" {
                let f = row.to_stored();
                for (exception, view) in exceptions.iter_mut() {
                    if exception.matches(&f) {
                        view.waived += 1;
                    }
                }
            }
            let Some((control_id, (control, mapping))) = mapped.get_key_value(row.control) else {
                return;
            };
            let finding = match &mut current {
                Some(finding) => {
                    finding.refill(row, control, mapping);
                    finding
                }
                None => current.insert(Finding::of_row(row, control, mapping)),
            };
            if let Some(overdue) = overdue {
                finding.overdue = Some(overdue.contains(finding));
            }
            *per_control
                .entry(*control_id)
                .or_default()
                .entry(finding.status.as_str())
                .or_default() += 1;
            for sha256 in &finding.evidence {
                if !cited.contains(sha256) {
                    cited.insert(sha256.clone());
                }
            }
            if let Err(e) = each(finding) {
                failed = Some(e);
            }
        })
        .map_err(ReportError::from)?;
    if let Some(e) = failed {
        return Err(e);
    }
    let exceptions: Vec<ExceptionView> = exceptions.into_iter().map(|(_, view)| view).collect();

    let mut requirements = Vec::new();
    for requirement in &fw.requirements {
        let ids: Vec<String> = controls
            .values()
            .filter(|c| c.requirement_ids(framework).contains(&requirement.id))
            .map(|c| c.id.clone())
            .collect();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for by_status in ids.iter().filter_map(|id| per_control.get(id.as_str())) {
            for (status, n) in by_status {
                *counts.entry((*status).to_owned()).or_default() += n;
            }
        }
        let status = requirement_status(&counts);
        requirements.push(RequirementView {
            framework: framework.to_owned(),
            id: requirement.id.clone(),
            family: requirement.family.clone(),
            title: requirement.title.clone(),
            status,
            controls: ids,
            counts,
            manual: (status == Status::Manual).then(|| requirement.manual.clone()),
            attachments: Vec::new(),
        });
    }

    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requirements {
        *by_status.entry(r.status.as_str().to_owned()).or_default() += 1;
    }
    let mut findings_by_status: BTreeMap<String, usize> = BTreeMap::new();
    for by_status in per_control.values() {
        for (status, n) in by_status {
            *findings_by_status.entry((*status).to_owned()).or_default() += n;
        }
    }
    // Scanner findings whose control maps to no requirement of this framework.
    let unmapped_scan_findings = per_control
        .iter()
        .filter(|(id, _)| id.starts_with(crate::scan::PREFIX))
        .filter(|(id, _)| mapped.get(*id).is_some_and(|(_, m)| !crate::scan::maps_into(m, fw)))
        .map(|(_, by_status)| by_status.values().sum::<usize>())
        .sum();
    let evidence: Vec<EvidenceMeta> = store
        .evidence(&run.id)
        .map_err(ReportError::from)?
        .into_iter()
        .filter(|e| cited.contains(&e.sha256))
        .collect();
    let gaps = store
        .gaps(&run.id)
        .map_err(ReportError::from)?
        .into_iter()
        .map(|(g, _)| GapView {
            collector: g.collector,
            scope: g.scope.to_string(),
            operation: g.operation,
            error: g.error,
        })
        .collect();
    let attached = store.attachments(framework, Some(run)).map_err(ReportError::from)?;
    for r in &mut requirements {
        r.attachments = attached
            .iter()
            .filter(|a| a.requirement == r.id)
            .map(|a| a.sha256.clone())
            .collect();
    }
    Ok(ReportModel {
        organisation,
        framework: fw.clone(),
        run: run.clone(),
        gaps,
        findings: Vec::new(),
        summary: Summary {
            requirements: requirements.len(),
            by_status,
            findings_by_status,
        },
        requirements,
        evidence,
        controls,
        exceptions,
        attachments: attached
            .into_iter()
            .map(|a| AttachmentView {
                framework: a.framework,
                requirement: a.requirement,
                file_name: a.file_name,
                sha256: a.sha256,
                size: a.size,
                note: a.note,
                added_by: a.added_by,
                added_at: a.added_at,
            })
            .collect(),
        unmapped_scan_findings,
    })
}

/// A control's requirements by framework, sorted.
fn requirement_map(control: &Control) -> RequirementMap {
    let mut requirements = BTreeMap::new();
    for m in &control.requirements {
        requirements
            .entry(m.framework.clone())
            .or_insert_with(Vec::new)
            .push(m.id.clone());
    }
    for ids in requirements.values_mut() {
        ids.sort();
        ids.dedup();
    }
    requirements
}

impl Finding {
    /// The finding of the stored `row`, of `control`.
    fn of_row(row: &FindingRow<'_>, control: &Control, requirements: &Arc<RequirementMap>) -> Finding {
        let mut finding = Finding {
            control: String::new(),
            evidence: Vec::new(),
            message: String::new(),
            overdue: None,
            requirements: requirements.clone(),
            resource: ResourceRef::default(),
            severity: String::new(),
            status: Status::Error,
        };
        finding.refill(row, control, requirements);
        finding
    }

    /// Becomes the finding of `row`, in the strings it already has.
    fn refill(&mut self, row: &FindingRow<'_>, control: &Control, requirements: &Arc<RequirementMap>) {
        let set = |to: &mut String, from: &str| {
            to.clear();
            to.push_str(from);
        };
        set(&mut self.control, row.control);
        row.evidence_into(&mut self.evidence);
        set(&mut self.message, row.message);
        self.overdue = None;
        if !Arc::ptr_eq(&self.requirements, requirements) {
            self.requirements = requirements.clone();
        }
        let resource = &mut self.resource;
        set(&mut resource.account, row.account);
        set(&mut resource.id, row.resource_id);
        set(&mut resource.provider, row.provider);
        set(&mut resource.region, row.region);
        set(&mut resource.resource_type, row.resource_type);
        set(&mut self.severity, control.severity.as_str());
        self.status = Status::parse(row.status).unwrap_or(Status::Error);
    }
}

/// A requirement is as bad as its worst finding; with no automated evidence at all
/// (no control, or no finding in this run) it needs manual evidence, never a pass.
fn requirement_status(counts: &BTreeMap<String, usize>) -> Status {
    counts
        .keys()
        .filter_map(|s| Status::parse(s))
        .max_by_key(|s| s.rank())
        .unwrap_or(Status::Manual)
}

impl ReportModel {
    /// The JSON report (DESIGN.md's contract). Deterministic: sorted, and no field
    /// depends on the time of rendering.
    ///
    /// Serialised as it is written, finding by finding: building the whole report as one
    /// `serde_json::Value` first doubled the memory of a large report. The keys come
    /// out sorted at every level, as they did from that tree.
    pub fn json(&self) -> JsonReport<'_> {
        JsonReport {
            findings: Some(&self.findings),
            framework: &self.framework.id,
            gaps: Sorted(&self.gaps),
            organisation: &self.organisation,
            requirements: SortedEach(&self.requirements),
            run: json!({
                "id": self.run.id,
                "status": self.run.status,
                "started_at": self.run.started_at,
                "finished_at": self.run.finished_at,
                "evaluated_at": self.run.evaluated_at,
                "manifest": self.run.manifest,
                "prev_manifest": self.run.prev_manifest,
                "catalogue": self.run.catalogue,
            }),
            summary: Sorted(&self.summary),
            tool: json!({"name": "evidra", "version": crate::VERSION}),
            unmapped_scan_findings: self.unmapped_scan_findings,
        }
    }

    /// The JSON report without its `"findings"` key, for `write_json_streamed`, which
    /// writes them as they are read and this after them (the key sorts first).
    pub(super) fn json_after_findings(&self) -> impl Serialize + '_ {
        let mut report = self.json();
        report.findings = None;
        report
    }

    pub fn findings_with(&self, status: Status) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.status == status)
    }
}

/// The run's exceptions (from the exceptions file it kept as evidence), with their state
/// at the run's evaluation time; `waived` is counted by the caller over the findings.
fn exception_register(store: &Store, run: &Run) -> Result<Vec<(Exception, ExceptionView)>, ReportError> {
    let Some(record) = store
        .evidence(&run.id)?
        .into_iter()
        .find(|e| e.operation == crate::collect::EXCEPTIONS_OPERATION)
    else {
        return Ok(Vec::new());
    };
    let bytes = store.blob(&record.sha256)?.unwrap_or_default();
    // The file parsed when the run was made; if it no longer does, the store is damaged
    // and `verify` says so: the register is then shown empty rather than guessed.
    let exceptions = crate::exceptions::parse(&record.scope, &String::from_utf8_lossy(&bytes)).unwrap_or_default();
    Ok(exceptions
        .into_iter()
        .map(|e| {
            let view = ExceptionView {
                control: e.control.clone(),
                resource: e.resource.clone(),
                justification: e.justification.clone(),
                approved_by: e.approved_by.clone(),
                approved_on: e.approved_on.clone(),
                expires: e.expires.clone(),
                state: e.state_at(&run.evaluated_at).to_owned(),
                waived: 0,
            };
            (e, view)
        })
        .collect())
}

/// The JSON report's top level; fields in key order (see [`ReportModel::json`]).
#[derive(Serialize)]
pub struct JsonReport<'a> {
    /// None only for [`ReportModel::json_after_findings`].
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<&'a [Finding]>,
    framework: &'a str,
    gaps: Sorted<'a, Vec<GapView>>,
    organisation: &'a Option<String>,
    requirements: SortedEach<'a, RequirementView>,
    run: Value,
    summary: Sorted<'a, Summary>,
    tool: Value,
    unmapped_scan_findings: usize,
}

/// Serialises through a `serde_json::Value`, whose objects keep their keys sorted.
struct Sorted<'a, T>(&'a T);

impl<T: Serialize> Serialize for Sorted<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::to_value(self.0)
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

/// A list serialised element by element, each [`Sorted`].
struct SortedEach<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for SortedEach<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&Sorted(item))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON report writes findings as they serialise; their keys must be sorted at
    /// every level, as a sorted map would write them.
    #[test]
    fn finding_keys_serialise_sorted() {
        let mut requirements = BTreeMap::new();
        requirements.insert("soc2".to_owned(), vec!["CC6.1".to_owned()]);
        let mut finding = Finding {
            control: "aws.iam.root_mfa".into(),
            evidence: vec!["ab".into()],
            message: "m".into(),
            overdue: None,
            requirements: Arc::new(requirements),
            resource: ResourceRef {
                account: "1".into(),
                id: "arn".into(),
                provider: "aws".into(),
                region: "global".into(),
                resource_type: "aws.iam.account".into(),
            },
            severity: "high".into(),
            status: Status::Fail,
        };
        for overdue in [None, Some(true)] {
            finding.overdue = overdue;
            let direct = serde_json::to_string(&finding).unwrap();
            let sorted = serde_json::to_value(&finding).unwrap().to_string();
            assert_eq!(direct, sorted);
        }
    }
}
