//! The store's run lock: held by the process that is writing a run, so that another
//! process never takes that run for one a killed process left behind.
//!
//! A run left `running` by a killed process is finished as `partial` by the next one
//! ([`Store::recover_interrupted`]). Without a lock, "left running" and "being written
//! right now by another `evidra collect`" look the same: the second collection sealed
//! the first one's run as partial, and the first then failed on its next batch, its
//! evidence cut short. Now a process holds an exclusive lock on a file beside the store
//! (`<store>.lock`) from the start of its run to its seal, and recovery runs only under
//! that lock (and keeps it for the run it comes before): a run still `running` then can
//! only be one whose process has died, since the system releases a dead process's
//! locks. A second writer is told the store is busy rather than made to wait for a
//! collection that can take minutes.
//!
//! The lock is on a file of its own, not on the database: SQLite locks the database
//! with POSIX locks, which some file systems (NFS) implement with the same machinery.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use super::{Store, StoreError};

impl Store {
    /// Where the run lock of this store is.
    pub fn run_lock_path(&self) -> PathBuf {
        super::beside(&self.path, ".lock")
    }

    /// Takes the run lock, if this store does not hold it already.
    pub(super) fn lock_runs(&self) -> Result<(), StoreError> {
        let mut held = self.run_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let path = self.run_lock_path();
        // The file locked may be one its last holder removed after this process opened
        // it (see `unlock_runs`): a lock on it excludes nobody, so the file now at the
        // path is tried instead. Each such turn means another writer has come and gone;
        // after a few, the store is as busy as if one held the lock.
        for _ in 0..3 {
            let file = open_private(&path).map_err(|source| unmade(&path, source))?;
            match file.try_lock() {
                Ok(()) if !is_at(&file, &path) => continue,
                Ok(()) => {
                    *held = Some(file);
                    return Ok(());
                }
                Err(TryLockError::WouldBlock) => break,
                Err(TryLockError::Error(source)) => return Err(StoreError::Io { path, source }),
            }
        }
        Err(StoreError::Busy(self.path.clone()))
    }

    /// Gives the run lock up once no run this store began is still being written. The
    /// file goes too, so that it is there only while a run is written (a killed process
    /// leaves it behind, unlocked, for the next to take). Removed while still locked:
    /// whoever opened it meanwhile finds it gone once they hold its lock, and starts over.
    pub(super) fn unlock_runs_if_idle(&self) {
        if self.written().is_empty() {
            self.unlock_runs();
        }
    }

    /// Gives the run lock up, and its file, if this store holds it: when no run is being
    /// written, or when the store closes (a run it leaves `running` is then recovered by
    /// the next writer, as a killed process's is).
    pub(super) fn unlock_runs(&self) {
        let mut held = self.run_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(file) = held.take() {
            // Where it cannot be removed (a folder made read-only meanwhile), an
            // unlocked file left behind is what a killed process leaves: harmless.
            #[cfg(unix)]
            let _ = std::fs::remove_file(self.run_lock_path());
            // Closing the file releases its lock.
            drop(file);
        }
    }
}

/// The error of a lock file that could not be opened. In a folder that cannot be
/// written, it says what that means for the store.
fn unmade(path: &std::path::Path, source: std::io::Error) -> StoreError {
    use std::io::ErrorKind::{PermissionDenied, ReadOnlyFilesystem};
    let source = match source.kind() {
        kind @ (PermissionDenied | ReadOnlyFilesystem) => std::io::Error::new(
            kind,
            format!("cannot be made, so the store is read-only here and nothing was written ({source})"),
        ),
        _ => source,
    };
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `file` is the file at `path`, not one removed from there since it was opened.
#[cfg(unix)]
fn is_at(file: &File, path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(there)) => (open.dev(), open.ino()) == (there.dev(), there.ino()),
        _ => false,
    }
}

/// Elsewhere the lock file is never removed, so the file opened is the one at the path.
#[cfg(not(unix))]
fn is_at(_: &File, _: &std::path::Path) -> bool {
    true
}

/// Opens the lock file, creating it readable by its owner only, as the store is.
fn open_private(path: &std::path::Path) -> std::io::Result<File> {
    super::owner_only()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

#[cfg(test)]
mod tests {
    use crate::store::{RunStatus, Store};

    const NOW: &str = "2026-11-20T00:00:00Z";

    /// A store in a folder of its own with a run being written, and the store's path
    /// for a second writer to open.
    fn store_being_written() -> (tempfile::TempDir, std::path::PathBuf, Store, crate::store::Run) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidra.db");
        let store = Store::open(&path).unwrap();
        let run = store.begin_run(NOW, NOW, &["files".into()]).unwrap();
        (dir, path, store, run)
    }

    /// Regression: a second process's recovery sealed a run another process was still
    /// writing as partial, and that process's next batch then failed.
    #[test]
    fn a_run_being_written_is_not_recovered_by_another_writer() {
        let (_dir, path, writing, run) = store_being_written();

        let other = Store::open(&path).unwrap();
        let busy = other.recover_interrupted(NOW).unwrap_err();
        assert!(
            busy.to_string().contains("another evidra process is writing a run"),
            "{busy}"
        );
        assert!(matches!(
            other.begin_run(NOW, NOW, &[]),
            Err(crate::store::StoreError::Busy(_))
        ));
        assert_eq!(other.run(&run.id).unwrap().status, RunStatus::Running);

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(writing.run_lock_path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // The writer carries on and seals its run; then the store is free again, and
        // its lock file gone.
        let sealed = writing.finish_run(&run.id, RunStatus::Complete, NOW).unwrap();
        assert_eq!(sealed.status, RunStatus::Complete);
        #[cfg(unix)]
        assert!(!writing.run_lock_path().exists());
        assert_eq!(other.recover_interrupted(NOW).unwrap(), Vec::<String>::new());
        let next = other.begin_run(NOW, NOW, &[]).unwrap();
        other.finish_run(&next.id, RunStatus::Complete, NOW).unwrap();
    }

    /// A writer that is gone (here: its store closed without sealing; in life, a killed
    /// process, whose locks the system releases) leaves its run to be recovered, and a
    /// lock file left behind unlocked is taken as if it were new.
    #[test]
    fn a_run_whose_writer_is_gone_is_recovered_as_partial() {
        let (_dir, path, writing, run) = store_being_written();
        drop(writing);
        #[cfg(unix)]
        assert!(
            !Store::open(&path).unwrap().run_lock_path().exists(),
            "removed on closing"
        );
        // What a killed process leaves: the file, unlocked.
        std::fs::write(format!("{}.lock", path.display()), b"").unwrap();

        let next = Store::open(&path).unwrap();
        assert_eq!(next.recover_interrupted(NOW).unwrap(), vec![run.id.clone()]);
        assert_eq!(next.run(&run.id).unwrap().status, RunStatus::Partial);
    }

    /// Regression guard for removing the lock file at the seal: a process that opened
    /// the file just before its holder removed it must not count a lock on that removed
    /// file as the store's, beside a third process locking the new one.
    #[cfg(unix)]
    #[test]
    fn a_lock_on_a_removed_lock_file_is_not_the_run_lock() {
        let (_dir, path, writing, run) = store_being_written();
        let late = Store::open(&path).unwrap();
        // Opened while the writer holds it, as a second process would, then removed
        // and released by the writer's seal.
        let stale = super::open_private(&late.run_lock_path()).unwrap();
        writing.finish_run(&run.id, RunStatus::Complete, NOW).unwrap();
        stale.try_lock().unwrap();
        assert!(!super::is_at(&stale, &late.run_lock_path()));
        // A third writer now takes the lock at the path: the late one is then busy.
        let third = Store::open(&path).unwrap();
        let third_run = third.begin_run(NOW, NOW, &[]).unwrap();
        assert!(matches!(
            late.begin_run(NOW, NOW, &[]),
            Err(crate::store::StoreError::Busy(_))
        ));
        third.finish_run(&third_run.id, RunStatus::Complete, NOW).unwrap();
    }
}
