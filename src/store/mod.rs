//! The evidence store: one SQLite file holding runs, evidence blobs, resources, gaps
//! and findings.
//!
//! Why SQLite: one file an auditor can be handed, transactions so that a crash loses at
//! most the batch in flight, and no server to run. Runs are append-only (triggers refuse
//! updates and deletes of a finished run), blobs are content-addressed by SHA-256, and
//! each finished run's manifest chains to the one before; [`verify`] recomputes it all.

mod attachments;
mod checkpoint;
mod import;
mod manifest;
mod prune;
mod read;
mod run_lock;
mod runs;
mod schema;
pub mod verify;
mod written;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

pub use attachments::{Attachment, MANUAL_SOURCE, NewAttachment};
pub use import::ImportedRun;
pub use manifest::{SECTIONS, hashes as row_hashes, manifest_document};
pub use prune::{PRUNE_OPERATION, PRUNE_SOURCE, Pruned};
pub use read::{EvidenceMeta, FindingRow, RunData};
pub use runs::{FindingsWriter, Run, RunSink, RunStatus, StoredFinding};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{path}: the store was written by a newer evidra (schema {found}, this one knows up to {known}); upgrade evidra"
    )]
    NewerSchema { path: PathBuf, found: i64, known: i64 },
    #[error("the store: {}", plainly(.0))]
    Sql(#[from] rusqlite::Error),
    #[error("no run matches `{0}` (see `evidra runs`)")]
    NoSuchRun(String),
    #[error("`{0}` matches several runs; give more of the id")]
    AmbiguousRun(String),
    #[error("the store holds no runs yet: run `evidra collect` or `evidra demo` first")]
    Empty,
    #[error("the store holds data it cannot read back: {0}")]
    Corrupt(String),
    #[error("{0}: rows are added only to a running run")]
    NotRunning(String),
    #[error("{}: another evidra process is writing a run to this store; run this again once it has finished", .0.display())]
    Busy(PathBuf),
}

/// SQLite's message, with what to do when it is a failure the user can fix: a store that
/// cannot be written or opened, or a disk that cannot take more.
fn plainly(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        // In a folder that cannot be written, a store closed cleanly cannot even be read:
        // SQLite's write-ahead mode keeps two files beside it (`-wal`, `-shm`) that it
        // must be able to create. Its own words name neither the folder nor a way out.
        Some(rusqlite::ErrorCode::CannotOpen) => format!(
            "{e} (SQLite keeps its write-ahead log files beside the store: check that the store's folder \
             exists and can be written here, or copy the store to one that can; nothing was changed)"
        ),
        Some(rusqlite::ErrorCode::ReadOnly) => format!(
            "it is read-only here, nothing was written (check the file's and folder's permissions, \
             attributes and mount): {e}"
        ),
        Some(rusqlite::ErrorCode::DiskFull) => format!("the disk is full, nothing more was written: {e}"),
        Some(rusqlite::ErrorCode::SystemIoFailure) => {
            format!("{e} (a full disk, a file-size limit or a failing device; nothing more was written)")
        }
        _ => e.to_string(),
    }
}

pub struct Store {
    conn: Mutex<Connection>,
    checkpointer: checkpoint::Checkpointer,
    path: PathBuf,
    /// Signs each run's manifest as it is sealed, when set.
    signer: Option<crate::signing::Signer25519>,
    /// Digests of the rows written to the runs being written, for their seal. Locked
    /// only while `conn` is.
    written: Mutex<written::WrittenRows>,
    /// The run lock's file while this store holds it (see [`run_lock`]).
    run_lock: Mutex<Option<std::fs::File>>,
}

impl Store {
    /// Opens (creating, mode 0600) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        create_private(path)?;
        let mut conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let checkpointer = match schema::prepare(&conn, path) {
            Ok(()) => checkpoint::Checkpointer::install(&mut conn, path)?,
            Err(e) if cannot_open(&e) => {
                conn = open_unchanging(path)?.ok_or(e)?;
                checkpoint::Checkpointer::none()
            }
            Err(e) => return Err(e),
        };
        Ok(Self {
            conn: Mutex::new(conn),
            checkpointer,
            path: path.to_path_buf(),
            signer: None,
            written: Mutex::default(),
            run_lock: Mutex::default(),
        })
    }

    /// From now on, every run sealed is signed with `signer`.
    pub fn set_signer(&mut self, signer: crate::signing::Signer25519) {
        self.signer = Some(signer);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection. A poisoned lock only means another thread panicked while holding
    /// it; SQLite's own transactions keep the data consistent, so we carry on.
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The digests of rows written (see [`written`]). Poisoning as for [`Self::conn`]:
    /// digests are added whole or not at all.
    fn written(&self) -> std::sync::MutexGuard<'_, written::WrittenRows> {
        self.written.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let conn = self.conn.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.checkpointer.stop(conn);
        self.unlock_runs();
    }
}

fn cannot_open(e: &StoreError) -> bool {
    matches!(e, StoreError::Sql(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen))
}

/// The store at `path` opened to be read only, as a file nothing changes, for a store in
/// a folder that cannot be written: there SQLite cannot make the files its write-ahead
/// mode keeps beside the store, so it would not even read it, and an auditor handed a
/// store on read-only media could not verify it. Writing through it fails as for a
/// read-only store, with nothing written. None (the caller's error stands) where a
/// write-ahead log with content lies beside the store, whose transactions reading the
/// file alone would miss, or where the store's schema is older than this evidra's (it
/// cannot be brought up to date here).
fn open_unchanging(path: &Path) -> Result<Option<Connection>, StoreError> {
    if std::fs::metadata(beside(path, "-wal")).is_ok_and(|m| m.len() > 0) {
        return Ok(None);
    }
    // A URI, whose `%`, `?` and `#` would otherwise be read as its own syntax.
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
        | rusqlite::OpenFlags::SQLITE_OPEN_URI
        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let Ok(conn) = Connection::open_with_flags(&uri, flags) else {
        return Ok(None);
    };
    Ok(schema::is_current(&conn, path)?.then_some(conn))
}

/// Options for a file the store creates beside it (the store itself, its run lock):
/// readable by its owner only, as evidence is sensitive.
fn owner_only() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// `path` with `suffix` added to its file name: the files SQLite and evidra keep beside
/// the store (`-wal`, `.lock`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates the database file with mode 0600 before SQLite opens it: evidence is
/// sensitive, and SQLite would otherwise create it with the process umask.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    match owner_only().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's path goes into a URI, where `%`, `?` and `#` have meanings of their
    /// own; read through it, the store is the one at that path, and refuses writes.
    #[test]
    fn a_store_opened_unchanging_is_the_one_at_its_path_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a%20b?c=d#e");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("evidra 1.db");
        let store = Store::open(&path).unwrap();
        let run = store
            .begin_run("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", &[])
            .unwrap();
        store
            .finish_run(&run.id, RunStatus::Complete, "2026-11-20T00:00:00Z")
            .unwrap();
        drop(store);

        let conn = open_unchanging(&path).unwrap().expect("a cleanly closed store opens");
        let ids: String = conn.query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap();
        assert_eq!(ids, run.id);
        let refused = conn.execute("DELETE FROM blobs", []).unwrap_err();
        assert_eq!(refused.sqlite_error_code(), Some(rusqlite::ErrorCode::ReadOnly));
    }

    /// A write-ahead log with content holds committed transactions the file alone lacks:
    /// such a store is not read as unchanging.
    #[test]
    fn a_store_with_a_write_ahead_log_is_not_opened_unchanging() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidra.db");
        drop(Store::open(&path).unwrap());
        std::fs::write(dir.path().join("evidra.db-wal"), b"frames").unwrap();
        assert!(open_unchanging(&path).unwrap().is_none());
    }
}
