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
    r#"
-- `blobs` was a WITHOUT ROWID table, whose B-tree key is the whole row: a lookup by hash
-- that passed a blob larger than a page read the blob's every overflow page to compare
-- keys, so `verify` (one lookup per finding) of a 20,000-user run read its 19 MB
-- credential report 200,000 times and did not end. As a rowid table the hash lives in
-- a small index and the bytes are read only when asked for.
CREATE TABLE blobs_by_rowid (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL
);
INSERT INTO blobs_by_rowid (sha256, bytes) SELECT sha256, bytes FROM blobs;
DROP TABLE blobs;
ALTER TABLE blobs_by_rowid RENAME TO blobs;
CREATE TRIGGER blobs_no_delete BEFORE DELETE ON blobs
    BEGIN SELECT RAISE(ABORT, 'evidence blobs are append-only'); END;
CREATE TRIGGER blobs_no_update BEFORE UPDATE ON blobs
    BEGIN SELECT RAISE(ABORT, 'evidence blobs are append-only'); END;
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
    // 8 KiB pages for a new store (an existing one keeps its own; WAL fixes it): the
    // store's rows are a few hundred bytes with long text keys, and at 100,000 users
    // the run was 3 s faster and the store 1.1 GB -> 770 MB against SQLite's 4 KiB
    // default (benches/scale.sh, measured twice each).
    conn.pragma_update(None, "page_size", 8192)?;
    // WAL: readers (reports) never block the collector, and a crash never corrupts.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Off while migrating: rebuilding a table that others reference (blobs) drops it
    // first, which foreign keys refuse. The copy is exact, so no reference breaks.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    // Every insert into a table with a trigger opens a statement journal (to undo that
    // one statement if the trigger aborts it); on disk that is a temporary file written
    // for each of a million findings: a third of a large run's system time (perf on
    // benches/scale.sh). It holds only the pages one statement changes, a few for an
    // insert. The store's queries read in primary-key order, so no large sort spills
    // into temporary storage either.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let version = version(conn, path)?;
    migrate(conn, version, MIGRATIONS.len())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Checks a store opened read-only is of this evidra's schema, which it cannot be brought
/// to otherwise: true if it is, [`StoreError::NewerSchema`] if it is newer.
pub fn is_current(conn: &Connection, path: &Path) -> Result<bool, StoreError> {
    Ok(version(conn, path)? == MIGRATIONS.len())
}

/// How many migrations the store has had; [`StoreError::NewerSchema`] if more than this
/// evidra knows.
fn version(conn: &Connection, path: &Path) -> Result<usize, StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            known,
        });
    }
    usize::try_from(version).map_err(|_| {
        StoreError::Corrupt(format!(
            "{}: schema version {version} is no evidra store's",
            path.display()
        ))
    })
}

/// Applies migrations `from..to`, each in its own transaction.
fn migrate(conn: &Connection, from: usize, to: usize) -> Result<(), StoreError> {
    for (index, migration) in MIGRATIONS.iter().enumerate().take(to).skip(from) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    /// Regression: `blobs` was a WITHOUT ROWID table, so finding a blob by its hash
    /// compared keys that held the whole blob, reading every overflow page of a large
    /// one; `verify` of a 20,000-user run never ended.
    #[test]
    fn blob_lookups_by_hash_use_an_index_not_the_blob_rows() {
        let conn = Connection::open_in_memory().unwrap();
        prepare(&conn, Path::new(":memory:")).unwrap();
        let plan = plan(&conn, "SELECT 1 FROM blobs WHERE sha256 = 'x'");
        assert!(plan.contains("COVERING INDEX"), "{plan}");
    }

    /// The build setting in .cargo/config.toml reached SQLite: without it every
    /// allocation SQLite makes takes a process-wide lock again.
    #[test]
    fn sqlite_is_built_without_memory_statistics() {
        let conn = Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }

    #[test]
    fn a_new_store_has_8_kib_pages_and_an_old_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.db");
        let conn = Connection::open(&new).unwrap();
        prepare(&conn, &new).unwrap();
        let size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0)).unwrap();
        assert_eq!(size, 8192);

        let old = dir.path().join("old.db");
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x)")
            .unwrap();
        drop(conn);
        let conn = Connection::open(&old).unwrap();
        prepare(&conn, &old).unwrap();
        let size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0)).unwrap();
        assert_eq!(size, 4096);
    }

    #[test]
    fn a_store_made_before_the_blob_rebuild_keeps_its_blobs_and_their_guards() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn, 0, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO blobs VALUES ('aa', x'0102');
             INSERT INTO runs (id, started_at, evaluated_at, status, sources) VALUES ('r', 't', 't', 'running', '[]');
             INSERT INTO evidence VALUES ('r', 'aa', 'c', 'o', 's', 't', 'text/plain');",
        )
        .unwrap();
        prepare(&conn, Path::new(":memory:")).unwrap();
        let bytes: Vec<u8> = conn
            .query_row("SELECT bytes FROM blobs WHERE sha256 = 'aa'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(bytes, vec![1, 2]);
        assert!(conn.execute("DELETE FROM blobs", []).is_err(), "append-only");
        assert!(
            conn.execute("UPDATE blobs SET bytes = x'00'", []).is_err(),
            "append-only"
        );
        // Evidence still refers to blobs by hash, and foreign keys are back on.
        let missing = conn.execute(
            "INSERT INTO evidence VALUES ('r', 'bb', 'c', 'o', 's', 't', 'text/plain')",
            [],
        );
        assert!(missing.is_err(), "evidence citing a missing blob is refused");
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}
