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

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use super::{Store, StoreError};

impl Store {
    /// Where the run lock of this store is.
    pub fn run_lock_path(&self) -> PathBuf {
        let mut path = self.path.clone().into_os_string();
        path.push(".lock");
        PathBuf::from(path)
    }

    /// Takes the run lock, if this store does not hold it already.
    pub(super) fn lock_runs(&self) -> Result<(), StoreError> {
        let mut held = self.run_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let path = self.run_lock_path();
        let file = open_private(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source: match source.kind() {
                // A folder that cannot be written: say what that means for the store.
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => std::io::Error::new(
                    source.kind(),
                    format!("cannot be made, so the store is read-only here and nothing was written ({source})"),
                ),
                _ => source,
            },
        })?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(())
            }
            Err(TryLockError::WouldBlock) => Err(StoreError::Busy(self.path.clone())),
            Err(TryLockError::Error(source)) => Err(StoreError::Io { path, source }),
        }
    }

    /// Gives the run lock up once no run this store began is still being written.
    pub(super) fn unlock_runs_if_idle(&self) {
        if self.written().is_empty() {
            let mut held = self.run_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // Closing the file releases its lock.
            *held = None;
        }
    }
}

/// Opens the lock file, creating it readable by its owner only, as the store is.
fn open_private(path: &std::path::Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
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

        // The writer carries on and seals its run; then the store is free again.
        let sealed = writing.finish_run(&run.id, RunStatus::Complete, NOW).unwrap();
        assert_eq!(sealed.status, RunStatus::Complete);
        assert_eq!(other.recover_interrupted(NOW).unwrap(), Vec::<String>::new());
        let next = other.begin_run(NOW, NOW, &[]).unwrap();
        other.finish_run(&next.id, RunStatus::Complete, NOW).unwrap();
    }

    /// A writer that is gone (here: its store closed without sealing; in life, a killed
    /// process, whose locks the system releases) leaves its run to be recovered.
    #[test]
    fn a_run_whose_writer_is_gone_is_recovered_as_partial() {
        let (_dir, path, writing, run) = store_being_written();
        drop(writing);

        let next = Store::open(&path).unwrap();
        assert_eq!(next.recover_interrupted(NOW).unwrap(), vec![run.id.clone()]);
        assert_eq!(next.run(&run.id).unwrap().status, RunStatus::Partial);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(next.run_lock_path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
