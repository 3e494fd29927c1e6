//! A run's life: begun (`running`), filled batch by batch, evaluated, then finished
//! (`complete`, `partial` or `failed`) with its manifest chained to the previous one.

use evidra_collector_core::{Batch, BatchSink, Evidence, EvidenceSource, ResourceRecord, SinkError};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::manifest::{self, RowForm};
use super::written::Section;
use super::{Store, StoreError};
use crate::canonical;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Complete,
    Partial,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "running" => RunStatus::Running,
            "complete" => RunStatus::Complete,
            "partial" => RunStatus::Partial,
            "failed" => RunStatus::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: String,
    pub seq: i64,
    pub started_at: String,
    /// The `now` the controls were evaluated at (the start, unless pinned): re-evaluating
    /// with it gives the same findings.
    pub evaluated_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub sources: Vec<String>,
    pub catalogue: Option<String>,
    pub prev_manifest: Option<String>,
    pub manifest: Option<String>,
    /// Ed25519 signature (hex) over the manifest document, and the public key (hex).
    pub signature: Option<String>,
    pub public_key: Option<String>,
    /// Imported from a bundle (`evidra import`), not collected into this store.
    pub imported: bool,
}

/// A finding as stored: control, resource, status, message, evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StoredFinding {
    pub control: String,
    pub provider: String,
    pub account: String,
    pub region: String,
    pub resource_type: String,
    pub resource_id: String,
    pub status: String,
    pub message: String,
    pub evidence: Vec<String>,
}

pub(super) const RUN_COLUMNS: &str = "id, seq, started_at, evaluated_at, finished_at, status, sources, catalogue, prev_manifest, manifest, signature, public_key, imported";

pub(super) fn run_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    let status: String = row.get(5)?;
    let sources: String = row.get(6)?;
    Ok(Run {
        id: row.get(0)?,
        seq: row.get(1)?,
        started_at: row.get(2)?,
        evaluated_at: row.get(3)?,
        finished_at: row.get(4)?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        sources: serde_json::from_str(&sources).unwrap_or_default(),
        catalogue: row.get(7)?,
        prev_manifest: row.get(8)?,
        manifest: row.get(9)?,
        signature: row.get(10)?,
        public_key: row.get(11)?,
        imported: row.get::<_, i64>(12)? != 0,
    })
}

impl Store {
    /// Starts a run. `evaluated_at` is normally `started_at`.
    pub fn begin_run(&self, started_at: &str, evaluated_at: &str, sources: &[String]) -> Result<Run, StoreError> {
        // Held until the run is sealed: no other process may take it for an interrupted one.
        self.lock_runs()?;
        let id = uuid::Uuid::now_v7().to_string();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO runs (id, started_at, evaluated_at, status, sources) VALUES (?1, ?2, ?3, 'running', ?4)",
            params![
                id,
                started_at,
                evaluated_at,
                serde_json::to_string(sources).unwrap_or_default()
            ],
        )?;
        self.written().begin(&id);
        drop(conn);
        self.run(&id)
    }

    /// Writes one collector batch in one transaction. Gaps are also kept as evidence (a
    /// small JSON record of what failed), so the `error` findings they cause cite a hash.
    pub fn write_batch(&self, run_id: &str, batch: &Batch, collected_at: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        // The run is checked once rather than by a trigger for every record (see
        // `write_findings_with`): at 100,000 users that was 0.3-0.4 s of the CPU of the
        // thread that stores the import's batches, which the import waits on.
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        let trigger = lift_trigger(&tx, "resources_only_running")?;
        require_running(&tx, run_id)?;
        let mut resource_digests = Vec::with_capacity(batch.resources.len());
        {
            let mut blob = tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, ?2)")?;
            let mut evidence = tx.prepare_cached(
                "INSERT OR IGNORE INTO evidence (run_id, sha256, collector, operation, scope, collected_at, media_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut put = |e: &Evidence| -> rusqlite::Result<()> {
                blob.execute(params![e.sha256, e.bytes])?;
                evidence.execute(params![
                    run_id,
                    e.sha256,
                    e.source.collector,
                    e.source.operation,
                    e.source.scope,
                    e.collected_at,
                    e.media_type
                ])?;
                Ok(())
            };
            for e in &batch.evidence {
                put(e)?;
            }
            let mut gap = tx.prepare_cached(
                "INSERT INTO gaps (run_id, collector, provider, account, region, operation, error, resource_types, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for g in &batch.gaps {
                let record = json!({
                    "collector": g.collector, "scope": g.scope.to_string(), "operation": g.operation,
                    "error": g.error, "resource_types": g.resource_types,
                });
                let e = Evidence::new(
                    EvidenceSource {
                        collector: g.collector.clone(),
                        operation: g.operation.clone(),
                        scope: g.scope.to_string(),
                    },
                    collected_at,
                    "application/vnd.evidra.gap+json",
                    canonical::to_string(&record).into_bytes(),
                );
                put(&e)?;
                gap.execute(params![
                    run_id,
                    g.collector,
                    g.scope.provider,
                    g.scope.account,
                    g.scope.region,
                    g.operation,
                    g.error,
                    serde_json::to_string(&g.resource_types).unwrap_or_default(),
                    e.sha256
                ])?;
            }
            let mut one_resource =
                tx.prepare_cached(&insert_sql("INSERT OR REPLACE", "resources", &RESOURCE_COLUMNS, 1))?;
            let mut many_resources = tx.prepare_cached(&insert_sql(
                "INSERT OR REPLACE",
                "resources",
                &RESOURCE_COLUMNS,
                ROWS_PER_INSERT,
            ))?;
            // In primary-key order: each insert then lands beside the last one. In the
            // collector's order they landed all over a table larger than SQLite's page
            // cache, which spilled and re-read pages (a third of the time of storing
            // 200,000 records, perf on benches/scale.sh). Stable: of two records with
            // one key, the later still replaces the earlier.
            let mut ordered: Vec<&ResourceRecord> = batch.resources.iter().collect();
            ordered.sort_by(|a, b| {
                (&a.resource_type, &a.provider, &a.account, &a.region, &a.resource_id).cmp(&(
                    &b.resource_type,
                    &b.provider,
                    &b.account,
                    &b.region,
                    &b.resource_id,
                ))
            });
            let mut form = RowForm::of(Section::Resources.name());
            insert_rows(&mut one_resource, &mut many_resources, &ordered, |r, bind| {
                let properties = canonical::to_string(&r.properties);
                let evidence = serde_json::to_string(&r.evidence).unwrap_or_default();
                let columns = [
                    run_id,
                    &r.provider,
                    &r.account,
                    &r.region,
                    &r.resource_type,
                    &r.resource_id,
                    &properties,
                    &evidence,
                ];
                // The section's columns are the stored ones after `run_id`.
                resource_digests.push(form.digest(&columns[1..]));
                bind(columns)
            })?;
            let mut observation = tx.prepare_cached(
                "INSERT OR REPLACE INTO observations (run_id, provider, account, region, resource_type, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for o in &batch.observations {
                observation.execute(params![
                    run_id,
                    o.scope.provider,
                    o.scope.account,
                    o.scope.region,
                    o.resource_type,
                    serde_json::to_string(&o.evidence).unwrap_or_default()
                ])?;
            }
        }
        if let Some(sql) = trigger {
            tx.execute_batch(&sql)?;
        }
        tx.commit()?;
        self.written().add(run_id, Section::Resources, vec![resource_digests]);
        Ok(())
    }

    /// Writes the run's findings in one transaction.
    pub fn write_findings(&self, run_id: &str, findings: &[StoredFinding]) -> Result<(), StoreError> {
        self.write_findings_with(run_id, |writer| writer.write(findings))
    }

    /// Writes findings as `produce` hands them over, each handful in a transaction of its
    /// own ([`FindingsWriter::write`]), never all held in memory at once.
    ///
    /// A run's findings are whole only once the run's catalogue is recorded
    /// ([`Self::set_catalogue`], after the last of them): a run left running before that
    /// (a killed process, an evaluation that failed) is sealed by
    /// [`Self::recover_interrupted`] with none of them, never with some controls'
    /// findings and not others'. In one transaction, the write-ahead log held the whole
    /// run's findings until its end (400 MB at 100,000 users), and copying them into the
    /// store and deleting the log came after the seal, with the other core idle.
    pub fn write_findings_with<E: From<StoreError>>(
        &self,
        run_id: &str,
        produce: impl FnOnce(&mut FindingsWriter<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        produce(&mut FindingsWriter {
            store: self,
            run_id,
            form: RowForm::of(Section::Findings.name()),
        })
    }

    /// Records which control catalogue (by hash) evaluated the run: the mark that its
    /// findings are all written (see [`Self::write_findings_with`]).
    pub fn set_catalogue(&self, run_id: &str, catalogue: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE runs SET catalogue = ?1 WHERE id = ?2 AND status = 'running'",
            params![catalogue, run_id],
        )?;
        Ok(())
    }

    /// Finishes a run: computes its manifest over everything stored for it, chains it to
    /// the last finished run, and freezes it.
    pub fn finish_run(&self, run_id: &str, status: RunStatus, finished_at: &str) -> Result<Run, StoreError> {
        let mut conn = self.conn();
        // A run this store began, whose end may free the run lock (see `run_lock`); not
        // one it recovers, which it finishes under the lock and keeps it for.
        let began_here = self.written().follows(run_id);
        let tx = conn.transaction()?;
        let last: Option<(i64, Option<String>)> = tx
            .query_row(
                "SELECT chain_pos, manifest FROM runs WHERE chain_pos IS NOT NULL ORDER BY chain_pos DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (pos, prev) = match last {
            Some((pos, manifest)) => (pos + 1, manifest),
            None => (1, None),
        };
        tx.execute(
            "UPDATE runs SET finished_at = ?1, prev_manifest = ?2, chained_prev = ?2, chain_pos = ?3 WHERE id = ?4 AND status = 'running'",
            params![finished_at, prev, pos, run_id],
        )?;
        let written = self.written().take(run_id, |section| {
            tx.query_row(
                &format!("SELECT count(*) FROM {} WHERE run_id = ?1", section.name()),
                params![run_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        })?;
        // The status goes into the document, so set it in the document before hashing.
        let bytes = manifest::document_bytes(&tx, run_id, Some(status.as_str()), written)?;
        let hash = evidra_collector_core::sha256_hex(&bytes);
        let signature = self.signer.as_ref().map(|k| (k.sign(&bytes), k.public_hex()));
        // The document is written into a blob made to its size, not bound as a value:
        // SQLite copies a bound value, then copies it again into the row it builds. At a
        // million findings the document is 84 MB, and those two copies put 170-200 MB on
        // the run's peak, at its end (benches/scale.sh 100000). A size past SQLite's
        // limit fails in the UPDATE.
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let sealed: Option<i64> = tx
            .query_row(
                "UPDATE runs SET manifest = ?1, manifest_doc = zeroblob(?2), status = ?3, signature = ?4, public_key = ?5 \
                 WHERE id = ?6 AND status = 'running' RETURNING seq",
                params![hash, size, status.as_str(), signature.as_ref().map(|s| &s.0), signature.as_ref().map(|s| &s.1), run_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(row) = sealed {
            tx.blob_open(rusqlite::MAIN_DB, "runs", "manifest_doc", row, false)?
                .write_at(&bytes, 0)?;
        }
        tx.commit()?;
        if began_here {
            self.unlock_runs_if_idle();
        }
        drop(conn);
        self.run(run_id)
    }

    /// Finishes, as `partial`, runs a killed process left `running`, so that the chain
    /// continues and nothing they collected is lost. Call before starting a run. Fails
    /// with [`StoreError::Busy`] while another process is writing a run: its run is
    /// `running` too, and not to be touched (see `run_lock`).
    pub fn recover_interrupted(&self, now: &str) -> Result<Vec<String>, StoreError> {
        self.lock_runs()?;
        let runs: Vec<(String, bool)> = {
            let conn = self.conn();
            let mut stmt =
                conn.prepare("SELECT id, catalogue IS NOT NULL FROM runs WHERE status = 'running' ORDER BY seq")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut ids = Vec::with_capacity(runs.len());
        for (id, evaluated) in runs {
            if !evaluated {
                self.drop_unfinished_findings(&id)?;
            }
            self.finish_run(&id, RunStatus::Partial, now)?;
            ids.push(id);
        }
        // The lock is kept for the run the caller begins next, so no other process can
        // begin one in between; it goes with that run's seal, or with this store.
        Ok(ids)
    }

    /// Deletes the findings of a running run whose evaluation never finished (no
    /// catalogue recorded; see [`Store::write_findings_with`]): they are some of its
    /// controls' findings, and a requirement judged on some of its controls could pass.
    /// The append-only trigger is lifted for this one transaction, as `prune` does.
    fn drop_unfinished_findings(&self, run_id: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        let unfinished: bool = tx.query_row(
            "SELECT status = 'running' AND catalogue IS NULL FROM runs WHERE id = ?1",
            params![run_id],
            |r| r.get(0),
        )?;
        if unfinished {
            let trigger = lift_trigger(&tx, "findings_no_delete")?;
            tx.execute("DELETE FROM findings WHERE run_id = ?1", params![run_id])?;
            if let Some(sql) = trigger {
                tx.execute_batch(&sql)?;
            }
        }
        tx.commit()?;
        drop(conn);
        if unfinished {
            self.written().clear(run_id, Section::Findings);
        }
        Ok(())
    }
}

/// Inserts findings for [`Store::write_findings_with`].
pub struct FindingsWriter<'a> {
    store: &'a Store,
    run_id: &'a str,
    form: RowForm,
}

/// Rows stored by one INSERT statement where there are that many. Each statement has
/// a fixed cost in SQLite (opening and closing its statement journal, starting the
/// program), which a million one-row statements paid a million times: storing a
/// million findings took 4.5-4.7 s of the main thread's CPU one to a statement and
/// 3.4-3.5 s 128 to a statement (benches/scale.sh 100000).
const ROWS_PER_INSERT: usize = 128;

/// The columns of a finding row, in the order they are bound (and, after `run_id`, the
/// columns a manifest hashes).
pub(super) const FINDING_COLUMNS: [&str; 10] = [
    "run_id",
    "control",
    "provider",
    "account",
    "region",
    "resource_type",
    "resource_id",
    "status",
    "message",
    "evidence",
];

/// The columns of a resource row, in the order they are bound (and, after `run_id`,
/// the columns a manifest hashes).
pub(super) const RESOURCE_COLUMNS: [&str; 8] = [
    "run_id",
    "provider",
    "account",
    "region",
    "resource_type",
    "resource_id",
    "properties",
    "evidence",
];

/// `{insert} INTO {table} (columns) VALUES` with `rows` rows of parameters.
fn insert_sql(insert: &str, table: &str, columns: &[&str], rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "{insert} INTO {table} ({}) VALUES {}",
        columns.join(", "),
        vec![row; rows].join(", ")
    )
}

/// Inserts `rows`: [`ROWS_PER_INSERT`] to a statement through `many` (made by
/// [`insert_sql`] for that many rows), the rest one by one through `one`. `values`
/// gives a row's column texts. SQLite inserts the rows of one statement in order, so
/// with `INSERT OR REPLACE` a later row still replaces an earlier one of its key.
fn insert_rows<T, const COLUMNS: usize>(
    one: &mut rusqlite::Statement<'_>,
    many: &mut rusqlite::Statement<'_>,
    rows: &[T],
    mut values: impl FnMut(&T, &mut dyn FnMut([&str; COLUMNS]) -> rusqlite::Result<()>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    for chunk in &mut chunks {
        for (row, value) in chunk.iter().enumerate() {
            values(value, &mut |columns| bind(many, row * COLUMNS, columns))?;
        }
        many.raw_execute()?;
    }
    for value in chunks.remainder() {
        values(value, &mut |columns| bind(one, 0, columns))?;
        one.raw_execute()?;
    }
    Ok(())
}

/// Binds `columns` to the parameters of `insert` after its first `before`.
fn bind<const COLUMNS: usize>(
    insert: &mut rusqlite::Statement<'_>,
    before: usize,
    columns: [&str; COLUMNS],
) -> rusqlite::Result<()> {
    for (n, value) in columns.into_iter().enumerate() {
        insert.raw_bind_parameter(before + n + 1, value)?;
    }
    Ok(())
}

impl FindingsWriter<'_> {
    /// Stores `findings` in one transaction: all of them, or none if it fails.
    pub fn write(&mut self, findings: &[StoredFinding]) -> Result<(), StoreError> {
        let run_id = self.run_id;
        let conn = self.store.conn();
        // Each finding's run must be `running`, which a run that does not exist is not.
        // The trigger `findings_only_running` checks that for every row it is given, and
        // the foreign key looked the run up again: at a million findings the key cost
        // SQLite 1.5 s (6.3 -> 4.8 s, the same rows, with and without) and the trigger
        // another 1.1-1.3 s (the sqlite3 shell, a million rows of one INSERT ... SELECT,
        // twice each). Both are lifted for this one transaction, which checks the run
        // once instead: it holds the store's write lock from its start, so the run
        // cannot finish in between. The guard turns the key back on; the trigger is put
        // back before the commit, or comes back with the rollback.
        let checked_once = ForeignKeysOff::new(&conn)?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        let trigger = lift_trigger(&tx, "findings_only_running")?;
        require_running(&tx, run_id)?;
        let form = &mut self.form;
        let mut digests = Vec::with_capacity(findings.len());
        {
            let mut insert_one = tx.prepare_cached(&insert_sql("INSERT", "findings", &FINDING_COLUMNS, 1))?;
            let mut insert_many =
                tx.prepare_cached(&insert_sql("INSERT", "findings", &FINDING_COLUMNS, ROWS_PER_INSERT))?;
            insert_rows(&mut insert_one, &mut insert_many, findings, |f, bind| {
                let evidence = serde_json::to_string(&f.evidence).unwrap_or_default();
                let columns = [
                    run_id,
                    &f.control,
                    &f.provider,
                    &f.account,
                    &f.region,
                    &f.resource_type,
                    &f.resource_id,
                    &f.status,
                    &f.message,
                    &evidence,
                ];
                // The section's columns are the stored ones after `run_id`.
                digests.push(form.digest(&columns[1..]));
                bind(columns)
            })?;
        }
        if let Some(sql) = trigger {
            tx.execute_batch(&sql)?;
        }
        tx.commit()?;
        drop(checked_once);
        drop(conn);
        self.store.written().add(run_id, Section::Findings, vec![digests]);
        Ok(())
    }
}

/// Drops the trigger `name` inside `tx`, giving the statement that makes it again (none if
/// the store has no such trigger). Lifted only inside a transaction, so no other
/// connection ever sees the store without it.
fn lift_trigger(tx: &rusqlite::Transaction<'_>, name: &str) -> rusqlite::Result<Option<String>> {
    let sql: Option<String> = tx
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()?;
    if sql.is_some() {
        tx.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
    }
    Ok(sql)
}

/// What the `*_only_running` triggers check of each row, checked once: rows are added
/// only to a run that exists and is `running`.
fn require_running(tx: &rusqlite::Transaction<'_>, run_id: &str) -> Result<(), StoreError> {
    let status: Option<String> = tx
        .query_row("SELECT status FROM runs WHERE id = ?1", params![run_id], |r| r.get(0))
        .optional()?;
    match status.as_deref() {
        Some("running") => Ok(()),
        Some(status) => Err(StoreError::NotRunning(format!("run {run_id} is {status}"))),
        None => Err(StoreError::NotRunning(format!("there is no run {run_id}"))),
    }
}

/// Foreign key enforcement off on a connection until dropped. SQLite ignores the
/// setting inside a transaction, so the guard is made before one begins and dropped
/// after it ends.
struct ForeignKeysOff<'c>(&'c rusqlite::Connection);

impl<'c> ForeignKeysOff<'c> {
    fn new(conn: &'c rusqlite::Connection) -> rusqlite::Result<Self> {
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        Ok(Self(conn))
    }
}

impl Drop for ForeignKeysOff<'_> {
    fn drop(&mut self) {
        // Fails only if a transaction is still open on the connection, which the
        // callers' scopes rule out; the setting is the connection's alone either way.
        let _ = self.0.pragma_update(None, "foreign_keys", "ON");
    }
}

/// The store as a collector's [`BatchSink`] for one run.
pub struct RunSink<'a> {
    pub store: &'a Store,
    pub run_id: String,
    pub collected_at: String,
}

impl BatchSink for RunSink<'_> {
    fn write(&self, batch: &Batch) -> Result<(), SinkError> {
        self.store
            .write_batch(&self.run_id, batch, &self.collected_at)
            .map_err(|e| SinkError(e.to_string()))
    }
}

/// A text column, borrowed from SQLite's row buffer rather than copied out of it.
pub(super) fn text<'a>(row: &'a rusqlite::Row<'_>, column: usize) -> rusqlite::Result<&'a str> {
    row.get_ref(column)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e)))
}

pub(super) fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(text).unwrap_or_default()
}

pub(super) fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn finding() -> StoredFinding {
        StoredFinding {
            control: "aws.iam.root_mfa".into(),
            provider: "aws".into(),
            account: "123456789012".into(),
            region: "global".into(),
            resource_type: "aws.iam.account".into(),
            resource_id: "123456789012".into(),
            status: "pass".into(),
            message: "m".into(),
            evidence: vec![],
        }
    }

    /// A new store (in a folder of its own) and a run started in it.
    pub(in crate::store) fn running() -> (tempfile::TempDir, Store, Run) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("evidra.db")).unwrap();
        let run = store
            .begin_run("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", &[])
            .unwrap();
        (dir, store, run)
    }

    /// A run whose evaluation stopped part way (a killed process, a failing rule
    /// engine) holds the findings of the controls evaluated so far, each committed as
    /// it came. Sealed with them, a requirement judged on some of its controls could
    /// pass; recovery seals it with none, and the chain still verifies.
    #[test]
    fn a_run_interrupted_while_evaluating_is_recovered_without_its_findings() {
        let (dir, store, run) = running();
        store.write_findings(&run.id, &[finding()]).unwrap();
        let mut other = finding();
        other.control = "aws.iam.root_no_access_keys".into();
        store.write_findings(&run.id, &[other]).unwrap();
        drop(store);

        let store = Store::open(&dir.path().join("evidra.db")).unwrap();
        assert_eq!(store.findings(&run.id).unwrap().len(), 2, "committed as written");
        assert_eq!(
            store.recover_interrupted("2026-11-20T00:01:00Z").unwrap(),
            vec![run.id.clone()]
        );
        assert_eq!(store.run(&run.id).unwrap().status, RunStatus::Partial);
        assert_eq!(store.findings(&run.id).unwrap(), []);
        let report = crate::store::verify::verify(&store).unwrap();
        assert!(report.problems.is_empty(), "{report:?}");
    }

    /// A run whose evaluation finished (its catalogue recorded) but which was not sealed
    /// keeps its findings when recovered: they are all of them.
    #[test]
    fn a_run_interrupted_after_evaluating_keeps_its_findings() {
        let (dir, store, run) = running();
        store.write_findings(&run.id, &[finding()]).unwrap();
        store.set_catalogue(&run.id, "catalogue-hash").unwrap();
        drop(store);

        let store = Store::open(&dir.path().join("evidra.db")).unwrap();
        assert_eq!(
            store.recover_interrupted("2026-11-20T00:01:00Z").unwrap(),
            vec![run.id.clone()]
        );
        assert_eq!(store.run(&run.id).unwrap().status, RunStatus::Partial);
        assert_eq!(store.findings(&run.id).unwrap(), [finding()]);
    }

    /// The same, by the store that began the run and still holds the digests of the
    /// findings it wrote: the seal must not list the findings recovery deleted.
    #[test]
    fn a_run_this_store_began_is_recovered_without_the_digests_of_its_findings() {
        let (_dir, store, run) = running();
        store.write_findings(&run.id, &[finding()]).unwrap();
        assert_eq!(
            store.recover_interrupted("2026-11-20T00:01:00Z").unwrap(),
            vec![run.id.clone()]
        );
        assert_eq!(store.findings(&run.id).unwrap(), []);
        let report = crate::store::verify::verify(&store).unwrap();
        assert!(report.problems.is_empty(), "{report:?}");
    }

    fn foreign_keys(store: &Store) -> i64 {
        store
            .conn()
            .pragma_query_value(None, "foreign_keys", |row| row.get(0))
            .unwrap()
    }

    /// Findings are stored with the foreign key off (their run is checked once per
    /// write): a finding of no run or of a finished run is still refused, and the key is
    /// back on afterwards, whether the write succeeded or not.
    #[test]
    fn findings_reach_only_a_running_run_with_the_foreign_key_off_while_writing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("evidra.db")).unwrap();
        assert_eq!(foreign_keys(&store), 1);
        assert!(store.write_findings("no-such-run", &[finding()]).is_err());
        assert_eq!(foreign_keys(&store), 1);

        let run = store
            .begin_run("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", &[])
            .unwrap();
        store.write_findings(&run.id, &[finding()]).unwrap();
        assert_eq!(foreign_keys(&store), 1);
        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:00:01Z")
            .unwrap();
        let mut late = finding();
        late.resource_id = "another".into();
        assert!(store.write_findings(&run.id, &[late]).is_err());
        assert_eq!(foreign_keys(&store), 1);
        assert_eq!(store.findings(&run.id).unwrap().len(), 1);
    }

    /// Storing a batch or findings checks the run once and lifts, for that transaction
    /// only, the trigger that would check every row. The triggers are back afterwards,
    /// whether the write was stored, failed part way or was refused, so rows written by
    /// any other means are still checked one by one.
    #[test]
    fn a_write_checks_its_run_once_and_leaves_the_row_triggers_in_place() {
        let (_dir, store, run) = running();
        let batch = |id: &str| Batch {
            resources: vec![ResourceRecord {
                provider: "aws".into(),
                account: "123456789012".into(),
                region: "global".into(),
                resource_type: "aws.iam.user".into(),
                resource_id: id.into(),
                properties: serde_json::json!({}),
                evidence: vec![],
            }],
            ..Batch::default()
        };
        store
            .write_batch(&run.id, &batch("alice"), "2026-11-20T00:00:00Z")
            .unwrap();
        store.write_findings(&run.id, &[finding()]).unwrap();
        let failed = store.write_findings_with(&run.id, |writer| {
            let mut other = finding();
            other.resource_id = "bob".into();
            writer.write(&[other])?;
            Err(StoreError::Corrupt("the rules stopped".into()))
        });
        assert!(failed.is_err());
        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:00:01Z")
            .unwrap();
        let late = store.write_batch(&run.id, &batch("carol"), "2026-11-20T00:00:02Z");
        assert!(matches!(late, Err(StoreError::NotRunning(_))), "{late:?}");
        let late = store.write_findings(&run.id, &[finding()]);
        assert!(matches!(late, Err(StoreError::NotRunning(_))), "{late:?}");
        assert!(matches!(
            store.write_findings("no-such-run", &[finding()]),
            Err(StoreError::NotRunning(_))
        ));
        // Each write is a transaction of its own: the one before the producer failed is
        // stored (a run whose evaluation fails loses it at recovery; see the tests of
        // `recover_interrupted`).
        let mut bob = finding();
        bob.resource_id = "bob".into();
        assert_eq!(store.findings(&run.id).unwrap(), [finding(), bob]);
        assert_eq!(store.run_data(&run.id).unwrap().resources.len(), 1);

        let conn = store.conn();
        let triggers: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' \
                 AND name IN ('findings_only_running', 'resources_only_running')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(triggers, 2);
        for sql in [
            "INSERT INTO findings (run_id, control, provider, account, region, resource_type, resource_id, status, message, evidence) \
             VALUES (?1, 'c', 'aws', 'a', 'r', 't', 'dave', 'pass', 'm', '[]')",
            "INSERT INTO resources (run_id, provider, account, region, resource_type, resource_id, properties, evidence) \
             VALUES (?1, 'aws', 'a', 'r', 't', 'dave', '{}', '[]')",
        ] {
            let err = conn.execute(sql, params![run.id]).unwrap_err();
            assert!(err.to_string().contains("only to a running run"), "{err}");
        }
    }

    /// Findings stored many to an INSERT: every one stored as given, whatever the count;
    /// a duplicate within one statement, or a statement's worth for a finished run, is
    /// refused as one-row statements were, with nothing of that write kept.
    #[test]
    fn findings_written_many_to_a_statement_are_stored_or_refused_whole() {
        let (_dir, store, run) = running();
        let numbered = |from: usize, count: usize| -> Vec<StoredFinding> {
            (from..from + count)
                .map(|i| StoredFinding {
                    resource_id: format!("user{i:05}"),
                    message: format!("message \"{i}\"\n"),
                    evidence: vec![format!("{i:064}"), "e".repeat(64)],
                    status: ["pass", "fail", "error"][i % 3].into(),
                    ..finding()
                })
                .collect()
        };
        let count = 2 * ROWS_PER_INSERT + 5;
        let written = numbered(0, count);
        store.write_findings(&run.id, &written).unwrap();
        assert_eq!(store.findings(&run.id).unwrap(), written);

        let mut twice = numbered(count, ROWS_PER_INSERT);
        twice[ROWS_PER_INSERT - 1].resource_id = twice[0].resource_id.clone();
        assert!(store.write_findings(&run.id, &twice).is_err());
        assert_eq!(store.findings(&run.id).unwrap().len(), count);

        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:00:01Z")
            .unwrap();
        assert!(
            store
                .write_findings(&run.id, &numbered(count, ROWS_PER_INSERT))
                .is_err()
        );
        assert_eq!(store.findings(&run.id).unwrap(), written);
    }

    /// Resources stored many to a statement: of two records with one key the later is
    /// kept, whether they share a statement, straddle two, or one is in the rows left
    /// over after the last full statement.
    #[test]
    fn the_later_of_two_records_with_one_key_is_kept_across_statements() {
        let (_dir, store, run) = running();
        let record = |i: usize, version: &str| ResourceRecord {
            provider: "aws".into(),
            account: "123456789012".into(),
            region: "global".into(),
            resource_type: "aws.iam.user".into(),
            resource_id: format!("user{i:05}"),
            properties: serde_json::json!({"version": version, "quote": "\"x\""}),
            evidence: vec![format!("{i:064}")],
        };
        let count = 2 * ROWS_PER_INSERT + 7;
        let mut resources: Vec<ResourceRecord> = (0..count).map(|i| record(i, "first")).collect();
        // After sorting by key, each second version sits right after its first.
        for i in [0, 5, ROWS_PER_INSERT - 1, 2 * ROWS_PER_INSERT - 1, count - 1] {
            resources.push(record(i, "second"));
        }
        store
            .write_batch(
                &run.id,
                &Batch {
                    resources,
                    ..Batch::default()
                },
                "2026-11-20T00:00:00Z",
            )
            .unwrap();
        let stored = store.run_data(&run.id).unwrap().resources;
        assert_eq!(stored.len(), count);
        for (i, r) in stored.iter().enumerate() {
            let expected = if [0, 5, ROWS_PER_INSERT - 1, 2 * ROWS_PER_INSERT - 1, count - 1].contains(&i) {
                "second"
            } else {
                "first"
            };
            assert_eq!(r.properties["version"], expected, "{}", r.resource_id);
            assert_eq!(r, &record(i, expected));
        }
    }
}
