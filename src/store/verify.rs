//! `evidra verify`: recompute every blob hash, every manifest and the chain, and say
//! exactly what does not hold.

use std::collections::BTreeSet;

use rusqlite::params;
use serde::Serialize;
use serde_json::Value;

use super::{Store, StoreError, manifest};
use crate::canonical;

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The run concerned, when there is one.
    pub run: Option<String>,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.run {
            Some(run) => write!(f, "run {run}: {}", self.what),
            None => write!(f, "{}", self.what),
        }
    }
}

/// What was checked, and what failed.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub blobs: usize,
    pub runs: usize,
    /// What tombstones say was pruned (not problems: the chain holds across them).
    pub pruned: Vec<String>,
    pub problems: Vec<Problem>,
}

pub fn verify(store: &Store) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let conn = store.conn();

    let mut stmt = conn.prepare("SELECT sha256, bytes FROM blobs ORDER BY sha256")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        report.blobs += 1;
        let sha: String = row.get(0)?;
        // Read whatever is there: tampering can change the column's type, and verify
        // must report that, not fail on it.
        let bytes: Vec<u8> = match row.get_ref(1)? {
            rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b.to_vec(),
            other => format!("{other:?}").into_bytes(),
        };
        let actual = evidra_collector_core::sha256_hex(&bytes);
        if actual != sha {
            report.problems.push(Problem {
                run: None,
                what: format!("evidence blob {sha} has changed: its content now hashes to {actual}"),
            });
        }
    }
    drop(rows);
    drop(stmt);

    let mut stmt = conn.prepare(
        "SELECT r.run_id, r.sha256 FROM evidence r LEFT JOIN blobs b ON b.sha256 = r.sha256 WHERE b.sha256 IS NULL ORDER BY r.run_id, r.sha256",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (run, sha) = row?;
        report.problems.push(Problem {
            run: Some(run),
            what: format!("evidence blob {sha} is missing from the store"),
        });
    }
    drop(stmt);

    let mut stmt = conn.prepare("SELECT id, chain_pos, CASE WHEN imported = 1 THEN chained_prev ELSE prev_manifest END, manifest, manifest_doc, status, signature, public_key FROM runs ORDER BY chain_pos IS NULL, chain_pos, seq")?;
    type Row = (
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
        String,
        Option<String>,
        Option<String>,
    );
    let runs: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    drop(stmt);

    // Runs removed by `prune` leave a tombstone naming their manifests: the first run
    // kept may name the last pruned manifest as its previous one.
    let mut pruned_last: BTreeSet<String> = BTreeSet::new();
    drop(conn);
    for (tombstone, record) in store.tombstones()? {
        let pruned = record["pruned"].as_array().cloned().unwrap_or_default();
        if let Some(last) = pruned.last().and_then(|r| r["manifest"].as_str()) {
            pruned_last.insert(last.to_owned());
        }
        report.pruned.push(format!(
            "run {tombstone} pruned {} run(s) finished before {}",
            pruned.len(),
            record["before"].as_str().unwrap_or("?")
        ));
    }
    let conn = store.conn();
    let mut previous: Option<(String, Option<String>)> = None;
    for (id, pos, prev, stored_hash, stored_doc, status, signature, public_key) in runs {
        report.runs += 1;
        let problem = |what: String| Problem {
            run: Some(id.clone()),
            what,
        };
        let Some(_pos) = pos else {
            if status != "running" {
                report
                    .problems
                    .push(problem(format!("is `{status}` but has no place in the chain")));
            }
            continue;
        };
        let (Some(stored_hash), Some(stored_doc)) = (stored_hash, stored_doc) else {
            report.problems.push(problem("is finished but has no manifest".into()));
            continue;
        };
        match (&signature, &public_key) {
            (Some(sig), Some(key)) if !crate::signing::verify(key, sig, &stored_doc) => {
                report.problems.push(problem(format!(
                    "its signature (key {}) does not hold over its manifest",
                    &key[..16.min(key.len())]
                )));
            }
            (Some(_), None) | (None, Some(_)) => report
                .problems
                .push(problem("has half a signature (signature or key missing)".into())),
            _ => {}
        }
        if evidra_collector_core::sha256_hex(&stored_doc) != stored_hash {
            report.problems.push(problem(
                "its stored manifest document does not match its manifest hash".into(),
            ));
        }
        let recomputed_bytes = manifest::document_bytes(&conn, &id, None, manifest::Written::default())?;
        if evidra_collector_core::sha256_hex(&recomputed_bytes) != stored_hash {
            let recomputed: Value = serde_json::from_slice(&recomputed_bytes).unwrap_or(Value::Null);
            let stored: Value = serde_json::from_slice(&stored_doc).unwrap_or(Value::Null);
            let differences = differences(&stored, &recomputed);
            if differences.is_empty() {
                report
                    .problems
                    .push(problem("its contents no longer match its manifest".into()));
            }
            for d in differences {
                report.problems.push(problem(d));
            }
        }
        match &previous {
            Some((prev_id, prev_manifest)) if prev.as_ref() != prev_manifest.as_ref() => {
                report.problems.push(problem(format!(
                    "chain broken: its previous manifest is not the manifest of run {prev_id}"
                )));
            }
            None if prev.is_some() && !pruned_last.contains(prev.as_deref().unwrap_or_default()) => {
                report.problems.push(problem(
                    "chain broken: it is first in the chain but names a previous manifest".into(),
                ))
            }
            _ => {}
        }
        previous = Some((id.clone(), Some(stored_hash)));
    }

    // Findings are read one at a time (a million of them held at once was most of
    // verify's memory), and each cited hash is looked up once: a run's findings cite the
    // same few blobs over and over.
    let mut exists = conn.prepare("SELECT 1 FROM blobs WHERE sha256 = ?1")?;
    let mut present: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let mut stmt = conn.prepare("SELECT run_id, control, resource_id, evidence FROM findings")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let evidence: String = row.get(3)?;
        let hashes = super::runs::json_list(&evidence);
        let mut missing = Vec::new();
        for sha in &hashes {
            let found = match present.get(sha) {
                Some(found) => *found,
                None => {
                    let found = exists.exists(params![sha])?;
                    present.insert(sha.clone(), found);
                    found
                }
            };
            if !found {
                missing.push(sha);
            }
        }
        if hashes.is_empty() || !missing.is_empty() {
            let (run, control, resource): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if hashes.is_empty() {
                report.problems.push(Problem {
                    run: Some(run.clone()),
                    what: format!("finding {control} on {resource} cites no evidence"),
                });
            }
            for sha in missing {
                report.problems.push(Problem {
                    run: Some(run.clone()),
                    what: format!("finding {control} on {resource} cites evidence {sha}, which is not in the store"),
                });
            }
        }
    }
    Ok(report)
}

/// What differs between a stored manifest document and the recomputed one, in words.
fn differences(stored: &Value, now: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if stored.get("run") != now.get("run") {
        out.push("its run record (times, status or sources) has changed".into());
    }
    if stored.get("prev_manifest") != now.get("prev_manifest") {
        out.push("its previous-manifest link has changed".into());
    }
    for (section, singular) in [
        ("evidence", "evidence record"),
        ("resources", "resource"),
        ("observations", "observation"),
        ("gaps", "gap"),
        ("findings", "finding"),
        ("attachments", "attachment"),
    ] {
        let set = |doc: &Value| -> BTreeSet<String> {
            doc.get(section)
                .and_then(Value::as_array)
                .map(|items| items.iter().map(canonical::to_string).collect())
                .unwrap_or_default()
        };
        let (before, after) = (set(stored), set(now));
        let removed = before.difference(&after).count();
        let added = after.difference(&before).count();
        if removed > 0 || added > 0 {
            out.push(format!(
                "{removed} {singular}(s) deleted or changed, {added} added or changed since the run was sealed"
            ));
        }
    }
    out
}
