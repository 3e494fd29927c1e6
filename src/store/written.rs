//! Row digests of the runs this store is writing, taken as their rows are stored, so
//! that sealing a run need not read them all back: reading back and hashing a million
//! findings and 200,000 resources was 1.4-1.5 s of the seal (benches/scale.sh 100000).
//!
//! A section's digests stand for its stored rows only when they are known to be the
//! same rows. Only runs this store began are followed, so every row of them went
//! through it. Findings are added by plain INSERTs (a row is added, or the statement
//! fails and its transaction with it), and digests are kept only once their transaction
//! has committed. Resources are INSERT OR REPLACE, so a later record of one key replaces
//! an earlier one: their digests are used only when the store holds as many rows as were
//! hashed, and read back otherwise. `evidra verify` recomputes everything from the rows.

use std::collections::HashMap;

use super::manifest::{Digest, Written};

/// The digests of the committed rows of each run this store began and has not sealed.
#[derive(Default)]
pub(super) struct WrittenRows {
    runs: HashMap<String, RunDigests>,
}

/// Lists as they were written, joined only at the seal: growing one list of a million
/// digests copied it over and over, at the run's busiest time for memory.
#[derive(Default)]
struct RunDigests {
    findings: Vec<Vec<Digest>>,
    resources: Vec<Vec<Digest>>,
}

/// A section whose rows are hashed as they are written.
#[derive(Clone, Copy)]
pub(super) enum Section {
    Findings,
    Resources,
}

impl Section {
    /// Its name in the manifest, which is also its table's (see `manifest::SECTIONS`).
    pub(super) fn name(self) -> &'static str {
        match self {
            Section::Findings => "findings",
            Section::Resources => "resources",
        }
    }
}

impl WrittenRows {
    /// Follows `run_id`, which this store has just begun.
    pub(super) fn begin(&mut self, run_id: &str) {
        self.runs.insert(run_id.to_owned(), RunDigests::default());
    }

    /// Whether `run_id` is a run this store began and has not sealed.
    pub(super) fn follows(&self, run_id: &str) -> bool {
        self.runs.contains_key(run_id)
    }

    /// Whether no run this store began is still unsealed.
    pub(super) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Adds the digests of rows of `run_id` that have just been committed.
    pub(super) fn add(&mut self, run_id: &str, section: Section, digests: Vec<Vec<Digest>>) {
        if let Some(run) = self.runs.get_mut(run_id) {
            match section {
                Section::Findings => run.findings.extend(digests),
                Section::Resources => run.resources.extend(digests),
            }
        }
    }

    /// Forgets the digests of `run_id`'s rows of `section`, whose rows have all just been
    /// deleted (the findings of a run whose evaluation never finished).
    pub(super) fn clear(&mut self, run_id: &str, section: Section) {
        if let Some(run) = self.runs.get_mut(run_id) {
            match section {
                Section::Findings => run.findings.clear(),
                Section::Resources => run.resources.clear(),
            }
        }
    }

    /// Takes what is known of `run_id`, sorted, and stops following it. `stored` gives
    /// how many rows of a section the store holds, to check replaceable sections by.
    pub(super) fn take(
        &mut self,
        run_id: &str,
        stored: impl Fn(Section) -> Result<usize, rusqlite::Error>,
    ) -> Result<Written, rusqlite::Error> {
        let Some(RunDigests { findings, resources }) = self.runs.remove(run_id) else {
            return Ok(Written::default());
        };
        let (mut findings, mut resources) = (joined(findings), joined(resources));
        findings.sort_unstable();
        let resources = if stored(Section::Resources)? == resources.len() {
            resources.sort_unstable();
            Some(resources)
        } else {
            None
        };
        Ok(Written {
            findings: Some(findings),
            resources,
        })
    }
}

fn joined(lists: Vec<Vec<Digest>>) -> Vec<Digest> {
    let mut all = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    for list in lists {
        all.extend(list);
    }
    all
}

#[cfg(test)]
mod tests {
    use evidra_collector_core::{Batch, ResourceRecord};
    use rusqlite::params;
    use serde_json::{Value, json};

    use super::*;
    use crate::store::manifest::document_bytes;
    use crate::store::runs::tests::running;
    use crate::store::{RunStatus, Store, StoredFinding};

    /// Text that JSON must escape, in every column it can reach.
    const AWKWARD: &str = "quote \" back \\ tab\t line\n \u{1} é ✓ \u{2028}";

    fn resource(id: &str, note: &str) -> ResourceRecord {
        ResourceRecord {
            provider: "aws".into(),
            account: "123456789012".into(),
            region: "global".into(),
            resource_type: "aws.iam.user".into(),
            resource_id: format!("{id} {AWKWARD}"),
            properties: json!({"note": note, "list": [1, "two", null], "nested": {"b": true, "a": AWKWARD}}),
            evidence: vec!["ab".repeat(32)],
        }
    }

    fn batch(resources: Vec<ResourceRecord>) -> Batch {
        Batch {
            resources,
            ..Batch::default()
        }
    }

    /// More than one INSERT statement's worth (128 rows), so both insert paths are used.
    fn findings(run: &str, count: usize) -> Vec<StoredFinding> {
        (0..count)
            .map(|i| StoredFinding {
                control: format!("aws.iam.control_{}", i % 3),
                provider: "aws".into(),
                account: "123456789012".into(),
                region: "global".into(),
                resource_type: "aws.iam.user".into(),
                resource_id: format!("{run} user {i} {AWKWARD}"),
                status: "fail".into(),
                message: format!("message {AWKWARD}"),
                evidence: vec!["cd".repeat(32), "ef".repeat(32)],
            })
            .collect()
    }

    fn stored_doc(store: &Store, run: &str) -> Vec<u8> {
        store.manifest_doc(run).unwrap().unwrap()
    }

    fn read_back(store: &Store, run: &str) -> Vec<u8> {
        document_bytes(&store.conn(), run, None, Written::default()).unwrap()
    }

    #[test]
    fn a_run_sealed_from_its_written_digests_matches_its_rows_read_back() {
        let (_dir, store, run) = running();
        store
            .write_batch(&run.id, &batch(vec![resource("a", "x"), resource("b", "y")]), "t")
            .unwrap();
        store
            .write_batch(&run.id, &batch(vec![resource("c", "z")]), "t")
            .unwrap();
        store.write_findings(&run.id, &findings("first", 300)).unwrap();
        store.write_findings(&run.id, &findings("second", 5)).unwrap();
        // The seal will take the digests written, not read the rows back.
        {
            let _conn = store.conn();
            let written = store.written();
            let taken = written.runs.get(&run.id).unwrap();
            let count = |lists: &Vec<Vec<Digest>>| lists.iter().map(Vec::len).sum::<usize>();
            assert_eq!((count(&taken.findings), count(&taken.resources)), (305, 3));
        }
        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:01:00Z")
            .unwrap();
        assert_eq!(
            String::from_utf8(stored_doc(&store, &run.id)).unwrap(),
            String::from_utf8(read_back(&store, &run.id)).unwrap()
        );
        assert!(store.written().runs.is_empty(), "a sealed run is no longer followed");
    }

    #[test]
    fn a_resource_replaced_by_a_later_batch_is_sealed_from_the_rows_read_back() {
        let (_dir, store, run) = running();
        store
            .write_batch(&run.id, &batch(vec![resource("a", "first"), resource("b", "b")]), "t")
            .unwrap();
        store
            .write_batch(&run.id, &batch(vec![resource("a", "second")]), "t")
            .unwrap();
        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:01:00Z")
            .unwrap();
        let doc: Value = serde_json::from_slice(&stored_doc(&store, &run.id)).unwrap();
        assert_eq!(doc["resources"].as_array().unwrap().len(), 2);
        assert_eq!(stored_doc(&store, &run.id), read_back(&store, &run.id));
    }

    /// A write that fails part way (here its last finding repeats the key of its first)
    /// stores none of its findings, and the seal lists none of them either.
    #[test]
    fn findings_of_a_write_that_failed_are_not_sealed() {
        let (_dir, store, run) = running();
        store.write_findings(&run.id, &findings("kept", 2)).unwrap();
        let mut lost = findings("lost", 200);
        lost.push(lost[0].clone());
        let failed = store.write_findings(&run.id, &lost);
        assert!(failed.is_err());
        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:01:00Z")
            .unwrap();
        let doc: Value = serde_json::from_slice(&stored_doc(&store, &run.id)).unwrap();
        assert_eq!(doc["findings"].as_array().unwrap().len(), 2);
        assert_eq!(stored_doc(&store, &run.id), read_back(&store, &run.id));
    }

    /// The document is written out by hand; it must be the canonical JSON of its parts,
    /// each section the sorted hashes of its rows as objects (what a bundle's reader
    /// checks).
    #[test]
    fn the_document_is_the_canonical_json_of_its_parts() {
        let (_dir, store, run) = running();
        store
            .write_batch(&run.id, &batch(vec![resource("a", "x"), resource("b", "y")]), "t")
            .unwrap();
        store.write_findings(&run.id, &findings("f", 140)).unwrap();
        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:01:00Z")
            .unwrap();
        let bytes = stored_doc(&store, &run.id);
        let mut expected: Value = serde_json::from_slice(&bytes).unwrap();
        for (section, rows) in store.run_rows(&run.id).unwrap() {
            if section == "attachments" && rows.is_empty() {
                continue;
            }
            expected[&section] = Value::from(crate::store::row_hashes(&rows));
        }
        assert_eq!(expected["findings"].as_array().unwrap().len(), 140);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            crate::canonical::to_string(&expected)
        );
        let sealed: (String,) = store
            .conn()
            .query_row("SELECT manifest FROM runs WHERE id = ?1", params![run.id], |r| {
                Ok((r.get(0)?,))
            })
            .unwrap();
        assert_eq!(sealed.0, crate::canonical::sha256(&expected));
    }
}
