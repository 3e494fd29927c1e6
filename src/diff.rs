//! `evidra diff RUN_A RUN_B`: what changed between two runs, finding by finding.
//!
//! A finding's identity is its control and resource (provider, account, region, type,
//! ID), so the same problem seen in two runs is one thing that stayed open.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::store::{Run, Store, StoreError, StoredFinding};

type Key = (String, String, String, String, String, String);

fn key(f: &StoredFinding) -> Key {
    (
        f.control.clone(),
        f.provider.clone(),
        f.account.clone(),
        f.region.clone(),
        f.resource_type.clone(),
        f.resource_id.clone(),
    )
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub control: String,
    pub resource: String,
    pub resource_type: String,
    pub scope: String,
    /// Status in the first run (None: no such finding there).
    pub before: Option<String>,
    /// Status in the second run (None: no such finding there).
    pub after: Option<String>,
    pub message: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Diff {
    pub from: String,
    pub to: String,
    /// Failing in the second run and not failing (or absent) in the first.
    pub new_failures: Vec<Change>,
    /// Failing (or in error) in the first run, passing, not applicable or waived in the second.
    pub fixed: Vec<Change>,
    /// Any other change of status.
    pub changed: Vec<Change>,
    /// Findings on resources or scopes the first run did not have.
    pub appeared: Vec<Change>,
    /// Findings the second run no longer has.
    pub disappeared: Vec<Change>,
    pub resources_appeared: Vec<String>,
    pub resources_disappeared: Vec<String>,
}

fn bad(status: &str) -> bool {
    matches!(status, "fail" | "error")
}

fn change(f: &StoredFinding, before: Option<&str>, after: Option<&str>) -> Change {
    Change {
        control: f.control.clone(),
        resource: f.resource_id.clone(),
        resource_type: f.resource_type.clone(),
        scope: format!("{}/{}/{}", f.provider, f.account, f.region),
        before: before.map(str::to_owned),
        after: after.map(str::to_owned),
        message: f.message.clone(),
    }
}

/// Compares the findings of `from` (older) and `to` (newer).
pub fn findings(from: &[StoredFinding], to: &[StoredFinding]) -> Diff {
    let a: BTreeMap<Key, &StoredFinding> = from.iter().map(|f| (key(f), f)).collect();
    let b: BTreeMap<Key, &StoredFinding> = to.iter().map(|f| (key(f), f)).collect();
    let mut diff = Diff::default();
    for (k, new) in &b {
        match a.get(k) {
            None => {
                diff.appeared.push(change(new, None, Some(&new.status)));
                if new.status == "fail" {
                    diff.new_failures.push(change(new, None, Some(&new.status)));
                }
            }
            Some(old) if old.status != new.status => {
                let c = change(new, Some(&old.status), Some(&new.status));
                if new.status == "fail" {
                    diff.new_failures.push(c);
                } else if bad(&old.status) && !bad(&new.status) {
                    diff.fixed.push(c);
                } else {
                    diff.changed.push(c);
                }
            }
            Some(_) => {}
        }
    }
    for (k, old) in &a {
        if !b.contains_key(k) {
            diff.disappeared.push(change(old, Some(&old.status), None));
        }
    }
    diff
}

/// Compares two stored runs, findings and resources.
pub fn runs(store: &Store, from: &Run, to: &Run) -> Result<Diff, StoreError> {
    let mut diff = findings(&store.findings(&from.id)?, &store.findings(&to.id)?);
    diff.from = from.id.clone();
    diff.to = to.id.clone();
    let ids = |run: &Run| -> Result<BTreeSet<String>, StoreError> {
        Ok(store
            .run_data(&run.id)?
            .resources
            .into_iter()
            .map(|r| format!("{} {}", r.resource_type, r.resource_id))
            .collect())
    };
    let (a, b) = (ids(from)?, ids(to)?);
    diff.resources_appeared = b.difference(&a).cloned().collect();
    diff.resources_disappeared = a.difference(&b).cloned().collect();
    Ok(diff)
}

/// The collection run sealed just before `run` (attachment runs are not collections).
pub fn previous_collection(store: &Store, run: &Run) -> Result<Option<Run>, StoreError> {
    Ok(store.runs()?.into_iter().rfind(|r| {
        r.seq < run.seq && r.manifest.is_some() && r.sources.iter().any(|s| s != crate::store::MANUAL_SOURCE)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(control: &str, id: &str, status: &str) -> StoredFinding {
        StoredFinding {
            control: control.into(),
            provider: "aws".into(),
            account: "1".into(),
            region: "global".into(),
            resource_type: "aws.iam.user".into(),
            resource_id: id.into(),
            status: status.into(),
            message: String::new(),
            evidence: vec![],
        }
    }

    #[test]
    fn classifies_changes() {
        let a = [
            f("c", "fixed", "fail"),
            f("c", "worse", "pass"),
            f("c", "gone", "fail"),
            f("c", "same", "fail"),
        ];
        let b = [
            f("c", "fixed", "pass"),
            f("c", "worse", "fail"),
            f("c", "new", "fail"),
            f("c", "same", "fail"),
        ];
        let d = findings(&a, &b);
        let ids = |v: &[Change]| v.iter().map(|c| c.resource.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.fixed), ["fixed"]);
        assert_eq!(ids(&d.new_failures), ["new", "worse"]);
        assert_eq!(ids(&d.appeared), ["new"]);
        assert_eq!(ids(&d.disappeared), ["gone"]);
        assert!(d.changed.is_empty());
    }
}
