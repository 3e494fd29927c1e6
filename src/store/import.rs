//! Adding a run from a verified bundle: rows exactly as its manifest hashed them, its
//! original manifest and signature, and its place at the end of this store's chain.

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::{Run, Store, StoreError};

/// A run as a bundle carries it.
pub struct ImportedRun<'a> {
    pub run: &'a Value,
    pub manifest_doc: &'a [u8],
    /// (evidence record, bytes)
    pub evidence: Vec<(&'a Value, &'a [u8])>,
    /// Manifest section → row objects.
    pub rows: &'a serde_json::Map<String, Value>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl Store {
    /// Adds the run; `Ok(None)` when it is already here with the same manifest (a no-op).
    pub fn import_run(&self, imported: ImportedRun<'_>) -> Result<Option<Run>, StoreError> {
        let run = imported.run;
        let id = text(run, "id").ok_or_else(|| StoreError::Corrupt("the bundle's run has no id".into()))?;
        let manifest =
            text(run, "manifest").ok_or_else(|| StoreError::Corrupt("the bundle's run has no manifest".into()))?;
        let mut conn = self.conn();
        let existing: Option<Option<String>> = conn
            .query_row("SELECT manifest FROM runs WHERE id = ?1", params![id], |r| r.get(0))
            .optional()?;
        match existing {
            Some(Some(m)) if m == manifest => return Ok(None),
            Some(_) => {
                return Err(StoreError::Corrupt(format!(
                    "run {id} is already in this store with another manifest"
                )));
            }
            None => {}
        }
        let tx = conn.transaction()?;
        let sources = run.get("sources").map(Value::to_string).unwrap_or_else(|| "[]".into());
        tx.execute(
            "INSERT INTO runs (id, started_at, evaluated_at, status, sources) VALUES (?1, ?2, ?3, 'running', ?4)",
            params![id, text(run, "started_at"), text(run, "evaluated_at"), sources],
        )?;
        for (record, bytes) in &imported.evidence {
            let sha = text(record, "sha256").unwrap_or_default();
            tx.execute(
                "INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, ?2)",
                params![sha, bytes],
            )?;
            tx.execute(
                "INSERT INTO evidence (run_id, sha256, collector, operation, scope, collected_at, media_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, sha, text(record, "collector"), text(record, "operation"), text(record, "scope"), text(record, "collected_at"), text(record, "media_type")],
            )?;
        }
        for (section, _, names) in super::manifest::SECTIONS {
            let columns = super::manifest::columns(section);
            let placeholders: Vec<String> = (2..=columns.len() + 1).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT INTO {section} (run_id, {}) VALUES (?1, {})",
                columns.join(", "),
                placeholders.join(", ")
            );
            for row in imported
                .rows
                .get(section)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut values: Vec<String> = vec![id.clone()];
                values.extend(names.iter().map(|n| text(row, n).unwrap_or_default()));
                tx.execute(&sql, rusqlite::params_from_iter(values.iter()))?;
            }
        }
        let last: Option<(i64, Option<String>)> = tx
            .query_row(
                "SELECT chain_pos, manifest FROM runs WHERE chain_pos IS NOT NULL ORDER BY chain_pos DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (pos, chained_prev) = match last {
            Some((pos, m)) => (pos + 1, m),
            None => (1, None),
        };
        tx.execute(
            "UPDATE runs SET finished_at = ?1, catalogue = ?2, prev_manifest = ?3, manifest = ?4, manifest_doc = ?5, signature = ?6, public_key = ?7, \
             imported = 1, chained_prev = ?8, chain_pos = ?9, status = ?10 WHERE id = ?11",
            params![
                text(run, "finished_at"), text(run, "catalogue"), text(run, "prev_manifest"), manifest, imported.manifest_doc,
                text(run, "signature"), text(run, "public_key"), chained_prev, pos, text(run, "status").unwrap_or_else(|| "partial".into()), id
            ],
        )?;
        tx.commit()?;
        drop(conn);
        self.run(&id).map(Some)
    }
}
