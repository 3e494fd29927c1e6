//! The OSCAL report: an `assessment-results` document (OSCAL 1.1.2, JSON) for tools that
//! read NIST's Open Security Controls Assessment Language.
//!
//! - one `result` per run;
//! - one `observation` per finding (and one per gap in coverage), its `relevant-evidence`
//!   citing each evidence blob by SHA-256 and source operation;
//! - one back-matter `resource` per cited blob, whose `rlink` carries the SHA-256 as an
//!   OSCAL `hash`;
//! - one `finding` per requirement of the framework, targeting the requirement as an
//!   `objective-id`, satisfied or not, related to the observations it was decided on.
//!
//! Every UUID is a v5 UUID of what it names (run, framework, control, resource, hash), so
//! rendering the same run twice gives the same bytes, and an observation keeps its UUID
//! across re-renders as OSCAL asks ("assigned per-subject").

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{Finding, GapView, ReportModel, RequirementView};
use crate::engine::Status;
use crate::store::EvidenceMeta;

pub const OSCAL_VERSION: &str = "1.1.2";

/// The namespace of evidra's own property names (OSCAL wants a namespace on any name it
/// does not define itself). A name, not a page: it need not resolve.
pub const NS: &str = "https://evidra.dev/ns/oscal";

/// The UUID v5 namespace all of evidra's OSCAL UUIDs are derived in (itself the v5 UUID
/// of NS in the URL namespace, computed once and fixed here so it never changes).
const UUID_NAMESPACE: Uuid = Uuid::from_u128(0x8dd6_fb46_92a5_5ab1_af60_8281_982a_dcbc);

fn uuid(parts: &[&str]) -> String {
    // The unit separator cannot occur in IDs, so ("a b", "c") and ("a", "b c") differ.
    Uuid::new_v5(&UUID_NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string()
}

/// An evidra property; OSCAL rejects empty or space-padded values, so those are left out.
fn prop(name: &str, value: &str) -> Option<Value> {
    let value = value.trim();
    (!value.is_empty()).then(|| json!({"name": name, "ns": NS, "value": value}))
}

fn props(pairs: &[(&str, &str)]) -> Vec<Value> {
    pairs.iter().filter_map(|(n, v)| prop(n, v)).collect()
}

/// The assessment-results document for `model`.
pub fn document(model: &ReportModel) -> Value {
    let run = &model.run;
    let framework = model.framework.id.as_str();
    let finished = run.finished_at.as_deref().unwrap_or(&run.started_at);
    let plan_uuid = uuid(&["assessment-plan", framework, run.catalogue.as_deref().unwrap_or("")]);

    // The evidence records by hash; a blob seen in several scopes has several records,
    // and the first (the store sorts them) stands for it.
    let mut evidence: BTreeMap<&str, &EvidenceMeta> = BTreeMap::new();
    for e in &model.evidence {
        evidence.entry(e.sha256.as_str()).or_insert(e);
    }

    let mut observations = Vec::with_capacity(model.findings.len() + model.gaps.len());
    let mut by_control: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for f in &model.findings {
        let observation = observation(model, f, &evidence);
        if let Some(id) = observation["uuid"].as_str() {
            by_control.entry(f.control.as_str()).or_default().push(id.to_owned());
        }
        observations.push(observation);
    }
    observations.extend(model.gaps.iter().map(|g| gap(model, g, finished)));

    let findings: Vec<Value> = model
        .requirements
        .iter()
        .map(|r| requirement_finding(model, r, &by_control))
        .collect();

    let mut resources = vec![json!({
        "uuid": plan_uuid,
        "title": format!("Assessment plan: the evidra control catalogue for {}", model.framework.name),
        "description": format!(
            "The automated controls that evidra evaluated against {} {}, as embedded in evidra {} \
             (catalogue hash {}). Each control's rule, rationale and mapping to requirements is listed by \
             `evidra controls list`.",
            model.framework.name,
            model.framework.version,
            crate::VERSION,
            run.catalogue.as_deref().unwrap_or("unknown")
        ),
        "props": props(&[("catalogue-sha256", run.catalogue.as_deref().unwrap_or(""))]),
    })];
    resources.extend(evidence.values().map(|e| blob_resource(e)));

    let mut result_props = props(&[
        ("run-id", &run.id),
        ("run-status", run.status.as_str()),
        ("evaluated-at", &run.evaluated_at),
        ("manifest-sha256", run.manifest.as_deref().unwrap_or("")),
        ("previous-manifest-sha256", run.prev_manifest.as_deref().unwrap_or("")),
        ("catalogue-sha256", run.catalogue.as_deref().unwrap_or("")),
    ]);
    result_props.extend(props(&[("gaps", &model.gaps.len().to_string())]));

    let mut result = json!({
        "uuid": uuid(&["result", &run.id, framework]),
        "title": format!("evidra run {}", run.id),
        "description": format!(
            "Automated evaluation of {} findings from {} controls against {} {}. Absence of evidence is \
             never a pass: requirements whose evidence could not be collected are not satisfied.",
            model.findings.len(),
            model.controls.len(),
            model.framework.name,
            model.framework.version
        ),
        "start": run.started_at,
        "end": finished,
        "props": result_props,
        "reviewed-controls": {
            "control-selections": [{
                "description": format!("Every requirement of {} {}.", model.framework.name, model.framework.version),
                "include-controls": model.requirements.iter().map(|r| json!({"control-id": r.id})).collect::<Vec<_>>(),
            }],
        },
        "findings": findings,
    });
    // OSCAL forbids empty arrays: a run with no finding and no gap has no observations.
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }

    let title = match &model.organisation {
        Some(org) => format!("{} assessment results: {org}", model.framework.name),
        None => format!("{} assessment results", model.framework.name),
    };
    json!({
        "assessment-results": {
            "uuid": uuid(&["assessment-results", &run.id, framework]),
            "metadata": {
                "title": title,
                "last-modified": finished,
                "version": run.id,
                "oscal-version": OSCAL_VERSION,
                "props": props(&[("tool", "evidra"), ("tool-version", crate::VERSION), ("framework", framework)]),
            },
            "import-ap": {
                "href": format!("#{plan_uuid}"),
                "remarks": "evidra evaluates a fixed control catalogue; the plan is described in back-matter.",
            },
            "results": [result],
            "back-matter": {"resources": resources},
        }
    })
}

fn observation(model: &ReportModel, f: &Finding, evidence: &BTreeMap<&str, &EvidenceMeta>) -> Value {
    let r = &f.resource;
    let cited: Vec<&EvidenceMeta> = f
        .evidence
        .iter()
        .filter_map(|h| evidence.get(h.as_str()).copied())
        .collect();
    // When the finding's facts were gathered: its newest evidence, else the run's start.
    let collected = cited
        .iter()
        .map(|e| e.collected_at.as_str())
        .max()
        .unwrap_or(&model.run.started_at);
    let relevant: Vec<Value> = cited
        .iter()
        .map(|e| {
            json!({
                "href": format!("#{}", blob_uuid(&e.sha256)),
                "description": format!("{} response ({}), collected {}", e.operation, e.collector, e.collected_at),
                "props": props(&[("sha256", &e.sha256), ("source-operation", &e.operation), ("collector", &e.collector)]),
            })
        })
        .collect();
    let title = model
        .controls
        .get(&f.control)
        .map(|c| c.title.as_str())
        .unwrap_or(&f.control);
    let mut o = json!({
        "uuid": uuid(&["observation", &model.run.id, &f.control, &r.provider, &r.account, &r.region, &r.resource_type, &r.id]),
        "title": format!("{title}: {}", r.id),
        "description": if f.message.trim().is_empty() { format!("{} on {}", f.status, r.id) } else { f.message.clone() },
        "props": props(&[
            ("control-id", &f.control),
            ("status", f.status.as_str()),
            ("severity", &f.severity),
            ("provider", &r.provider),
            ("account", &r.account),
            ("region", &r.region),
            ("resource-type", &r.resource_type),
            ("resource-id", &r.id),
        ]),
        "methods": ["TEST"],
        "types": [if matches!(f.status, Status::Fail | Status::Error) { "finding" } else { "control-objective" }],
        "collected": collected,
    });
    if !relevant.is_empty() {
        o["relevant-evidence"] = Value::Array(relevant);
    }
    o
}

/// A gap in coverage is an observation too: what could not be read, and why.
fn gap(model: &ReportModel, g: &GapView, collected: &str) -> Value {
    json!({
        "uuid": uuid(&["gap", &model.run.id, &g.collector, &g.scope, &g.operation]),
        "title": format!("Gap in coverage: {} in {}", g.operation, g.scope),
        "description": format!(
            "{} could not read {} in {}: {}. Controls that depend on it are reported as error, never as passing.",
            g.collector, g.operation, g.scope, g.error
        ),
        "props": props(&[("gap-collector", &g.collector), ("gap-scope", &g.scope), ("gap-operation", &g.operation)]),
        "methods": ["TEST"],
        "types": ["finding"],
        "collected": collected,
    })
}

fn requirement_finding(model: &ReportModel, r: &RequirementView, by_control: &BTreeMap<&str, Vec<String>>) -> Value {
    // Absence of evidence is never a pass: only pass (and not-applicable, which the
    // collector positively observed) satisfy an objective.
    let (state, reason, remarks) = match r.status {
        Status::Pass => ("satisfied", "pass", "Every finding of its controls passed.".to_owned()),
        Status::NotApplicable => (
            "satisfied",
            "other",
            "Not applicable: the collectors observed that no resource of this kind exists.".to_owned(),
        ),
        Status::Fail => (
            "not-satisfied",
            "fail",
            "At least one finding of its controls failed.".to_owned(),
        ),
        Status::Error => (
            "not-satisfied",
            "other",
            "Evidence needed to decide was missing or a rule failed to evaluate.".to_owned(),
        ),
        Status::Waived => (
            "not-satisfied",
            "other",
            "Failing findings are waived by an approved, unexpired exception (an accepted risk).".to_owned(),
        ),
        Status::Manual => (
            "not-satisfied",
            "other",
            format!(
                "No automated control covers this requirement in this run; it needs manual evidence: {}",
                r.manual.as_deref().unwrap_or("see the framework")
            ),
        ),
    };
    let counts = r
        .counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ");
    let description = if r.controls.is_empty() {
        format!("{}: {remarks}", r.title)
    } else {
        format!(
            "{}. Controls: {}. Findings: {}.",
            r.title,
            r.controls.join(", "),
            if counts.is_empty() { "none".to_owned() } else { counts }
        )
    };
    let related: Vec<Value> = r
        .controls
        .iter()
        .flat_map(|c| by_control.get(c.as_str()).into_iter().flatten())
        .map(|id| json!({"observation-uuid": id}))
        .collect();
    let mut f = json!({
        "uuid": uuid(&["finding", &model.run.id, &model.framework.id, &r.id]),
        "title": format!("{} {}", r.id, r.title),
        "description": description,
        "props": props(&[("status", r.status.as_str()), ("family", &r.family)]),
        "target": {
            "type": "objective-id",
            "target-id": r.id,
            "title": r.title,
            "status": {"state": state, "reason": reason, "remarks": remarks},
        },
    });
    if !related.is_empty() {
        f["related-observations"] = Value::Array(related);
    }
    f
}

fn blob_uuid(sha256: &str) -> String {
    uuid(&["evidence", sha256])
}

fn blob_resource(e: &EvidenceMeta) -> Value {
    json!({
        "uuid": blob_uuid(&e.sha256),
        "title": format!("Evidence {}", e.sha256),
        "description": format!(
            "The {} response as received by {} ({}, {} bytes, {}), kept verbatim in the evidence store; \
             `evidra verify` recomputes its hash.",
            e.operation, e.collector, e.scope, e.size, e.media_type
        ),
        "props": props(&[
            ("sha256", &e.sha256),
            ("source-operation", &e.operation),
            ("collector", &e.collector),
            ("scope", &e.scope),
            ("collected-at", &e.collected_at),
        ]),
        // RFC 6920's human-speakable name of content by its hash: the store finds a
        // blob by exactly this.
        "rlinks": [{
            "href": format!("nih:sha-256;{}", e.sha256),
            "media-type": e.media_type,
            "hashes": [{"algorithm": "SHA-256", "value": e.sha256}],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_v5_and_distinct() {
        let a = uuid(&["result", "run", "soc2"]);
        assert_eq!(a, uuid(&["result", "run", "soc2"]));
        assert_ne!(a, uuid(&["result", "run", "iso27001"]));
        assert_ne!(uuid(&["a b", "c"]), uuid(&["a", "b c"]));
        assert_eq!(a.as_bytes()[14], b'5');
    }

    #[test]
    fn the_namespace_is_the_v5_uuid_of_ns() {
        assert_eq!(UUID_NAMESPACE, Uuid::new_v5(&Uuid::NAMESPACE_URL, NS.as_bytes()));
    }

    #[test]
    fn blank_property_values_are_left_out() {
        assert!(prop("x", " ").is_none());
        assert_eq!(prop("x", " a ").unwrap()["value"], "a");
    }
}
