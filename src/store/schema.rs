//! Schema and migrations. Each migration is applied once, in order, inside a
//! transaction; `user_version` records how far a store has come.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE runs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    started_at    TEXT NOT NULL,
    evaluated_at  TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'complete', 'partial', 'failed')),
    sources       TEXT NOT NULL,
    catalogue     TEXT,
    chain_pos     INTEGER UNIQUE,
    prev_manifest TEXT,
    manifest      TEXT,
    manifest_doc  BLOB
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE evidence (
    run_id       TEXT NOT NULL REFERENCES runs(id),
    sha256       TEXT NOT NULL REFERENCES blobs(sha256),
    collector    TEXT NOT NULL,
    operation    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    PRIMARY KEY (run_id, sha256, collector, operation, scope)
) WITHOUT ROWID;
CREATE TABLE resources (
    run_id        TEXT NOT NULL REFERENCES runs(id),
    provider      TEXT NOT NULL,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    properties    TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    PRIMARY KEY (run_id, resource_type, provider, account, region, resource_id)
) WITHOUT ROWID;
CREATE TABLE observations (
    run_id        TEXT NOT NULL REFERENCES runs(id),
    provider      TEXT NOT NULL,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    PRIMARY KEY (run_id, provider, account, region, resource_type)
) WITHOUT ROWID;
CREATE TABLE gaps (
    run_id         TEXT NOT NULL REFERENCES runs(id),
    collector      TEXT NOT NULL,
    provider       TEXT NOT NULL,
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    operation      TEXT NOT NULL,
    error          TEXT NOT NULL,
    resource_types TEXT NOT NULL,
    evidence       TEXT NOT NULL
);
CREATE INDEX gaps_run ON gaps(run_id);
CREATE TABLE findings (
    run_id        TEXT NOT NULL REFERENCES runs(id),
    control       TEXT NOT NULL,
    provider      TEXT NOT NULL,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    status        TEXT NOT NULL,
    message       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    PRIMARY KEY (run_id, control, provider, account, region, resource_type, resource_id)
) WITHOUT ROWID;

-- Append-only: a finished run and everything in it can no longer change.
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
    BEGIN SELECT RAISE(ABORT, 'runs are append-only'); END;
CREATE TRIGGER runs_frozen BEFORE UPDATE ON runs WHEN OLD.status <> 'running'
    BEGIN SELECT RAISE(ABORT, 'a finished run cannot change'); END;
CREATE TRIGGER blobs_no_delete BEFORE DELETE ON blobs
    BEGIN SELECT RAISE(ABORT, 'evidence blobs are append-only'); END;
CREATE TRIGGER blobs_no_update BEFORE UPDATE ON blobs
    BEGIN SELECT RAISE(ABORT, 'evidence blobs are append-only'); END;
"#,
    r#"
-- Manual evidence (a policy PDF, training records) attached to a requirement. Each
-- attachment is sealed into the chain by a run of its own (source `manual`).
CREATE TABLE attachments (
    run_id      TEXT NOT NULL REFERENCES runs(id),
    framework   TEXT NOT NULL,
    requirement TEXT NOT NULL,
    sha256      TEXT NOT NULL REFERENCES blobs(sha256),
    file_name   TEXT NOT NULL,
    note        TEXT,
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (run_id, framework, requirement, sha256)
) WITHOUT ROWID;
"#,
    r#"
-- Signatures over the manifest document, and runs imported from bundles: an imported
-- run keeps its origin's `prev_manifest` (inside its signed manifest) and records here
-- which manifest preceded it in this store's chain.
ALTER TABLE runs ADD COLUMN signature TEXT;
ALTER TABLE runs ADD COLUMN public_key TEXT;
ALTER TABLE runs ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN chained_prev TEXT;
"#,
];

/// Tables whose rows belong to a run and freeze with it.
const RUN_TABLES: [&str; 5] = ["evidence", "resources", "observations", "gaps", "findings"];

fn run_table_triggers(tables: &[&str]) -> String {
    let mut sql = String::new();
    for table in tables {
        sql.push_str(&format!(
            "CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, 'runs are append-only'); END;\n\
             CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, 'runs are append-only'); END;\n\
             CREATE TRIGGER {table}_only_running BEFORE INSERT ON {table}
                 WHEN (SELECT status FROM runs WHERE id = NEW.run_id) IS NOT 'running'
                 BEGIN SELECT RAISE(ABORT, 'rows are added only to a running run'); END;\n"
        ));
    }
    sql
}

pub fn prepare(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // WAL: readers (reports) never block the collector, and a crash never corrupts.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            known,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(migration)?;
        match index {
            0 => tx.execute_batch(&run_table_triggers(&RUN_TABLES))?,
            1 => tx.execute_batch(&run_table_triggers(&["attachments"]))?,
            _ => {}
        }
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
