//! Retention: `evidra prune --before DATE` removes the oldest runs only by sealing a
//! tombstone into the chain first. The tombstone is a run of its own (source `prune`)
//! whose evidence is the list of pruned runs with their manifest hashes, so `verify`
//! still holds across the cut and says what was removed, when and by whose key.

use evidra_collector_core::{Batch, Evidence, EvidenceSource};
use rusqlite::params;
use serde_json::{Value, json};

use super::{Run, RunStatus, Store, StoreError};

pub const PRUNE_SOURCE: &str = "prune";
pub const PRUNE_OPERATION: &str = "evidra:prune";

/// What a prune did.
#[derive(Debug)]
pub struct Pruned {
    pub tombstone: Run,
    pub runs: Vec<String>,
    pub blobs: usize,
}

impl Store {
    /// Prunes the longest prefix of the chain whose runs all finished before `before`
    /// (YYYY-MM-DD). Returns None when there is nothing to prune.
    pub fn prune(&self, before: &str, now: &str) -> Result<Option<Pruned>, StoreError> {
        self.recover_interrupted(now)?;
        let chain: Vec<Run> = {
            let mut runs: Vec<Run> = self.runs()?.into_iter().filter(|r| r.manifest.is_some()).collect();
            let conn = self.conn();
            let mut positions = Vec::new();
            for r in &runs {
                positions.push(
                    conn.query_row("SELECT chain_pos FROM runs WHERE id = ?1", params![r.id], |row| {
                        row.get::<_, i64>(0)
                    })?,
                );
            }
            let mut order: Vec<(i64, Run)> = positions.into_iter().zip(runs.drain(..)).collect();
            order.sort_by_key(|(p, _)| *p);
            order.into_iter().map(|(_, r)| r).collect()
        };
        let mut victims: Vec<&Run> = chain
            .iter()
            .take_while(|r| {
                r.finished_at
                    .as_deref()
                    .is_some_and(|f| f.get(..10).is_some_and(|d| d < before))
            })
            .collect();
        // The newest run that holds evidence is never pruned, so the store keeps its
        // newest evidence and the chain something to continue from. Not simply the last
        // run: after one prune that is a tombstone, and a second prune with the same date
        // would otherwise remove the newest collection.
        let newest_evidence = chain
            .iter()
            .rposition(|r| r.sources.iter().any(|s| s != PRUNE_SOURCE))
            .unwrap_or(chain.len().saturating_sub(1));
        victims.truncate(newest_evidence);
        if victims.is_empty() {
            return Ok(None);
        }
        let list: Vec<Value> = victims
            .iter()
            .map(|r| json!({"id": r.id, "manifest": r.manifest, "prev_manifest": r.prev_manifest, "started_at": r.started_at, "finished_at": r.finished_at, "status": r.status}))
            .collect();
        let record = json!({"before": before, "pruned": list});
        let tombstone = self.begin_run(now, now, &[PRUNE_SOURCE.to_owned()])?;
        let evidence = Evidence::new(
            EvidenceSource {
                collector: PRUNE_SOURCE.into(),
                operation: PRUNE_OPERATION.into(),
                scope: format!("before {before}"),
            },
            now,
            "application/json",
            crate::canonical::to_string(&record).into_bytes(),
        );
        self.write_batch(
            &tombstone.id,
            &Batch {
                evidence: vec![evidence],
                ..Batch::default()
            },
            now,
        )?;
        let tombstone = self.finish_run(&tombstone.id, RunStatus::Complete, now)?;

        let ids: Vec<String> = victims.iter().map(|r| r.id.clone()).collect();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // The append-only triggers are lifted for this one transaction (as storing
        // findings lifts the one that checks each row's run).
        let triggers: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        for (name, _) in &triggers {
            tx.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
        }
        for id in &ids {
            for table in [
                "evidence",
                "resources",
                "observations",
                "gaps",
                "findings",
                "attachments",
            ] {
                tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), params![id])?;
            }
            tx.execute("DELETE FROM runs WHERE id = ?1", params![id])?;
        }
        let blobs = tx.execute(
            "DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM evidence) AND sha256 NOT IN (SELECT sha256 FROM attachments)",
            [],
        )?;
        for (_, sql) in &triggers {
            tx.execute_batch(sql)?;
        }
        tx.commit()?;
        Ok(Some(Pruned {
            tombstone,
            runs: ids,
            blobs,
        }))
    }

    /// Every tombstone's record: (tombstone run, the manifests it pruned, newest last).
    pub fn tombstones(&self) -> Result<Vec<(String, Value)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT e.run_id, b.bytes FROM evidence e JOIN blobs b ON b.sha256 = e.sha256 WHERE e.operation = ?1 ORDER BY e.run_id",
        )?;
        let rows = stmt
            .query_map(params![PRUNE_OPERATION], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .map(|(id, bytes)| (id, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
            .collect())
    }
}
