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
pub use read::{EvidenceMeta, RunData};
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
/// cannot be written, or a disk that cannot take more.
fn plainly(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
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
        schema::prepare(&conn, path)?;
        let checkpointer = checkpoint::Checkpointer::install(&mut conn, path)?;
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
    }
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
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}
