//! The customer audience: a short attestation summary a sales engineer can hand to a
//! prospect. Per requirement family, how the controls stand; the run's date and
//! manifest hash, so the statement can later be proved against the evidence store.
//!
//! Redaction is by construction, not by filtering: [`CustomerView`] is built only from
//! counts, the framework's own texts and the run's date and hashes. No field can carry an
//! account or subscription ID, ARN, resource or user name, IP address or finding message
//! (messages name resources), so no template can leak one by mistake.

use std::collections::BTreeMap;

use askama::Template;
use serde::Serialize;

use super::model::ReportModel;
use crate::engine::Status;

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkRef {
    pub id: String,
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRef {
    /// The day the evidence was collected (UTC, `YYYY-MM-DD`).
    pub date: String,
    pub status: String,
    /// The run's manifest hash: what the statement can be proved against.
    pub manifest: Option<String>,
}

/// Requirement counts by status, for the whole framework or one family.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub requirements: usize,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub waived: usize,
    pub manual: usize,
    pub not_applicable: usize,
}

impl Counts {
    fn add(&mut self, status: Status) {
        self.requirements += 1;
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::Waived => self.waived += 1,
            Status::Manual => self.manual += 1,
            Status::NotApplicable => self.not_applicable += 1,
        }
    }

    /// Percentages of the requirements, for bar charts (rounded; the counts are exact).
    fn share(&self, n: usize) -> f64 {
        if self.requirements == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.requirements as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyView {
    pub id: String,
    pub title: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// How the family stands, in one sentence.
    pub statement: String,
}

/// The customer report's whole content.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub audience: &'static str,
    pub tool: Tool,
    pub organisation: Option<String>,
    pub framework: FrameworkRef,
    pub run: RunRef,
    pub summary: Counts,
    pub families: Vec<FamilyView>,
    /// How many sources could not be read in this run (a count only: a gap's scope and
    /// error name accounts).
    pub gaps: usize,
    /// What the statuses mean, for a reader who has not seen evidra.
    pub notes: Vec<&'static str>,
}

pub const NOTES: [&str; 4] = [
    "Each requirement takes the worst status of the automated checks mapped to it.",
    "Evidence that could not be collected is never counted as passing; such requirements are reported as not fully assessed.",
    "Requirements that no automated check covers rely on documentary evidence (policies, procedures, records) reviewed by the auditor.",
    "Exceptions are approved, time-limited acceptances of a known risk.",
];

pub fn view(model: &ReportModel) -> CustomerView {
    let mut families: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut summary = Counts::default();
    for r in &model.requirements {
        families.entry(r.family.as_str()).or_default().add(r.status);
        summary.add(r.status);
    }
    let finished = model.run.finished_at.as_deref().unwrap_or(&model.run.started_at);
    CustomerView {
        audience: "customer",
        tool: Tool {
            name: "evidra",
            version: crate::VERSION,
        },
        organisation: model.organisation.clone(),
        framework: FrameworkRef {
            id: model.framework.id.clone(),
            name: model.framework.name.clone(),
            version: model.framework.version.clone(),
        },
        run: RunRef {
            date: finished.get(..10).unwrap_or(finished).to_owned(),
            status: model.run.status.as_str().to_owned(),
            manifest: model.run.manifest.clone(),
        },
        summary,
        // In the framework's order, not alphabetical: CC1..CC9, A.5..A.8.
        families: model
            .framework
            .families
            .iter()
            .filter_map(|f| {
                let counts = families.remove(f.id.as_str())?;
                Some(FamilyView {
                    id: f.id.clone(),
                    title: f.title.clone(),
                    statement: statement(&counts),
                    counts,
                })
            })
            .collect(),
        gaps: model.gaps.len(),
        notes: NOTES.to_vec(),
    }
}

/// One plain sentence: what passes, then what does not and why.
pub fn statement(c: &Counts) -> String {
    let n = c.requirements;
    let met = c.pass + c.not_applicable;
    if met == n {
        let mut s = if n == 1 {
            "Its requirement is met: every automated check passes".to_owned()
        } else {
            format!("All {n} requirements are met: every automated check passes")
        };
        if c.not_applicable > 0 {
            s.push_str(&format!(" ({} not applicable)", c.not_applicable));
        }
        s.push('.');
        return s;
    }
    // (count, verb for one, verb for many, what).
    let parts = [
        (c.fail, "has", "have", "open findings"),
        (
            c.error,
            "is",
            "are",
            "not fully assessed (evidence could not be collected)",
        ),
        (c.waived, "has", "have", "an approved, time-limited exception"),
        (
            c.manual,
            "relies",
            "rely",
            "on documentary evidence (no automated check)",
        ),
    ];
    // A family all in one state reads better as "All 3 rely on ...".
    if c.pass == 0
        && let Some((k, one, many, what)) = parts.iter().find(|(k, ..)| *k == n)
    {
        return if *k == 1 {
            format!("Its requirement {one} {what}.")
        } else {
            format!("All {k} requirements {many} {what}.")
        };
    }
    let rest: Vec<String> = parts
        .iter()
        .filter(|(k, ..)| *k > 0)
        .map(|(k, one, many, what)| format!("{k} {} {what}", if *k == 1 { one } else { many }))
        .collect();
    let head = if c.pass == 0 {
        format!("Of {n} requirements, ")
    } else {
        format!(
            "{} of {n} {} automated checks; ",
            c.pass,
            if c.pass == 1 { "passes" } else { "pass" }
        )
    };
    format!("{head}{}.", join_words(&rest))
}

fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

struct Bar {
    class: &'static str,
    label: &'static str,
    n: usize,
    width: String,
}

fn bars(c: &Counts) -> Vec<Bar> {
    [
        ("pass", "passing", c.pass),
        ("fail", "open findings", c.fail),
        ("error", "not fully assessed", c.error),
        ("waived", "exception", c.waived),
        ("manual", "documents only", c.manual),
        ("not_applicable", "not applicable", c.not_applicable),
    ]
    .into_iter()
    .filter(|(_, _, n)| *n > 0)
    .map(|(class, label, n)| Bar {
        class,
        label,
        n,
        width: format!("{:.2}", c.share(n)),
    })
    .collect()
}

#[derive(Template)]
#[template(path = "html/customer.html")]
struct Page<'a> {
    view: &'a CustomerView,
    organisation: String,
    summary_bars: Vec<Bar>,
    families: Vec<(&'a FamilyView, Vec<Bar>)>,
}

/// The customer report as one self-contained HTML page (1–3 printed pages).
pub fn html(view: &CustomerView) -> Result<String, askama::Error> {
    Page {
        view,
        organisation: view.organisation.clone().unwrap_or_default(),
        summary_bars: bars(&view.summary),
        families: view.families.iter().map(|f| (f, bars(&f.counts))).collect(),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pass: usize, fail: usize, error: usize, manual: usize) -> Counts {
        Counts {
            requirements: pass + fail + error + manual,
            pass,
            fail,
            error,
            manual,
            ..Counts::default()
        }
    }

    #[test]
    fn statements_are_plain() {
        assert_eq!(
            statement(&counts(3, 0, 0, 0)),
            "All 3 requirements are met: every automated check passes."
        );
        assert_eq!(
            statement(&counts(2, 1, 0, 2)),
            "2 of 5 pass automated checks; 1 has open findings and 2 rely on documentary evidence (no automated check)."
        );
        assert_eq!(
            statement(&counts(0, 0, 1, 1)),
            "Of 2 requirements, 1 is not fully assessed (evidence could not be collected) and 1 relies on documentary \
             evidence (no automated check)."
        );
        assert_eq!(
            statement(&counts(0, 0, 0, 4)),
            "All 4 requirements rely on documentary evidence (no automated check)."
        );
        assert_eq!(statement(&counts(0, 1, 0, 0)), "Its requirement has open findings.");
    }
}
