//! Copying the store's write-ahead log into its file, on a thread of its own.
//!
//! In WAL mode SQLite writes each page twice: into the log when a transaction commits,
//! and into the database file at the next checkpoint. By default the connection that
//! commits also checkpoints, once the log holds 1,000 pages, before its commit returns.
//! A run's findings were one transaction, so at 100,000 users the checkpoint after it
//! copied about 400 MB on the main thread, 1.6 s with the other core idle (perf,
//! benches/scale.sh 100000), and the collection's smaller checkpoints held up the
//! thread that stores batches. Here the commit only wakes a thread that checkpoints on
//! a connection of its own while the writer goes on: SQLite lets a checkpoint run
//! beside one writer and any readers ("PASSIVE": it copies what no reader still needs
//! from the log, and waits for nobody).
//!
//! The writer waits only when the log has grown to a bound (`MOST_PAGES`): then for a
//! checkpoint of everything it committed, so that its next transaction writes the log
//! from its beginning again.
//!
//! Nothing is less safe for it: a committed transaction is in the log, and a crash
//! before or during a checkpoint leaves the log to be copied by the next connection.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags};

/// The log's size, in pages, from which a commit wakes the checkpointing thread:
/// SQLite's own threshold for checkpointing (8 MiB at the store's 8 KiB pages).
const PAGES: std::ffi::c_int = 1000;

/// The log's size, in pages, at which a commit waits for a checkpoint of everything
/// committed (64 MiB). SQLite starts the log over from its beginning only when the
/// transaction after a checkpoint finds it all copied; a checkpoint beside a writer
/// that never pauses rarely catches up, so the log grew through a whole run (322 MB at
/// 100,000 users, benches/scale.sh). Every page of a growing log is a page the system
/// must find and zero, twice over on hosts that hand a guest's unused memory back.
const MOST_PAGES: std::ffi::c_int = 8 * PAGES;

/// Checkpoints asked for by a waiting commit, and finished, counted, so that a commit
/// waits for one that began after it, not for one under way that may miss its pages.
#[derive(Default)]
struct Passes {
    asked: u64,
    done: u64,
}

type Shared = Arc<(Mutex<Passes>, Condvar)>;

/// The checkpointing thread of one writing connection. Dropping it waits for the
/// checkpoint under way, so that the writing connection, closed after it, is the last
/// and copies what is left (SQLite does that when the last connection closes).
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Makes `conn`'s commits wake a thread that checkpoints the store at `path`. If no
    /// second connection or thread can be had, SQLite checkpoints on the committing
    /// thread, as by default.
    pub(super) fn install(conn: &mut Connection, path: &Path) -> rusqlite::Result<Self> {
        let idle = Self::none();
        // Opened here rather than on the thread: the store's path means what it means
        // now, and a store that cannot be opened twice keeps SQLite's way.
        let Ok(own) = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) else {
            return Ok(idle);
        };
        // One wake-up waiting at most: a checkpoint copies everything committed before
        // it starts, so commits made while one is waiting need no second.
        let (wake, woken) = sync_channel::<()>(1);
        let passes = Shared::default();
        let counted = Arc::clone(&passes);
        let Ok(thread) = std::thread::Builder::new()
            .name("evidra-checkpoint".into())
            .spawn(move || checkpoint_when_woken(&own, woken, &counted))
        else {
            return Ok(idle);
        };
        let hook = wake.clone();
        conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
            if pages < PAGES {
                return Ok(());
            }
            let (counts, finished) = &*passes;
            let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
            // Counted before the wake-up is sent: the thread reads the count after
            // taking a wake-up, so the pass it then makes includes this commit.
            counts.asked += 1;
            let asked = counts.asked;
            // Full: a wake-up is already waiting, and that checkpoint copies this commit
            // too. Disconnected: the thread is gone (a panic; nothing else ends it while
            // this sender lives), so this thread checkpoints, as SQLite would.
            if matches!(hook.try_send(()), Err(TrySendError::Disconnected(()))) {
                drop(counts);
                // An error here would be reported as the commit's, which has happened;
                // SQLite's own checkpointing hook ignores it too.
                let _ = wal.checkpoint();
                return Ok(());
            }
            if pages >= MOST_PAGES {
                // Bounded: a thread that panicked mid-pass never reports it. Past the
                // bound the log only grows on, as it did before this wait.
                let bound = std::time::Duration::from_secs(10);
                let _ = finished.wait_timeout_while(counts, bound, |c| c.done < asked);
            }
            Ok(())
        }))?;
        Ok(Self {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// No thread: for a connection that never writes, or where none can be had.
    pub(super) fn none() -> Self {
        Self {
            wake: None,
            thread: None,
        }
    }

    /// Stops the thread, after the checkpoint under way. Only for a connection about to
    /// close: its commits no longer checkpoint at all.
    pub(super) fn stop(&mut self, conn: &mut Connection) {
        if self.wake.take().is_none() {
            return;
        }
        // The hook holds a sender too; the thread's wait ends once both are gone.
        let _ = conn.wal_hook(None::<fn(&mut rusqlite::hooks::Wal, std::ffi::c_int) -> rusqlite::Result<()>>);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn checkpoint_when_woken(conn: &Connection, woken: Receiver<()>, passes: &Shared) {
    let (counts, finished) = &**passes;
    for () in woken {
        let serving = counts.lock().unwrap_or_else(PoisonError::into_inner).asked;
        // A failed checkpoint loses nothing: the log keeps every committed page, and the
        // next checkpoint (or the writer's closing) copies it. It fails only if another
        // process is checkpointing, or the disk is full, which the writer is told of
        // when it next writes.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        counts.lock().unwrap_or_else(PoisonError::into_inner).done = serving;
        finished.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;

    /// A new store in a folder of its own, with `megabytes` of rows committed, one
    /// megabyte a transaction.
    fn written(megabytes: usize) -> (tempfile::TempDir, std::path::PathBuf, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidra.db");
        let store = Store::open(&path).unwrap();
        write(&store, megabytes);
        (dir, path, store)
    }

    fn write(store: &Store, megabytes: usize) {
        let conn = store.conn();
        conn.execute_batch("CREATE TABLE IF NOT EXISTS filler (bytes BLOB)")
            .unwrap();
        for _ in 0..megabytes {
            let tx = conn.unchecked_transaction().unwrap();
            for _ in 0..16 {
                tx.execute("INSERT INTO filler VALUES (randomblob(65536))", []).unwrap();
            }
            tx.commit().unwrap();
        }
    }

    fn size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// The writing connection no longer checkpoints itself: if the thread never did
    /// either, the log would grow for as long as a store stays open.
    #[test]
    fn an_open_stores_log_reaches_its_file() {
        let (_dir, path, store) = written(24);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while size(&path) < 24 << 20 {
            assert!(
                std::time::Instant::now() < deadline,
                "the store's file is {} bytes",
                size(&path)
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(store);
    }

    /// The log is started over once it holds 64 MiB, rather than growing with all that
    /// is written while the store is open: the thread's checkpoints alone, beside a
    /// writer that never paused, left a log of 322 MB at 100,000 users.
    #[test]
    fn a_log_that_reached_its_bound_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidra.db");
        let store = Store::open(&path).unwrap();
        let wal = dir.path().join("evidra.db-wal");
        let mut largest = 0;
        for _ in 0..12 {
            write(&store, 16);
            largest = largest.max(size(&wal));
        }
        // The bound and the one transaction that crossed it, with room to spare.
        assert!(largest < 96 << 20, "the log reached {largest} bytes");
        drop(store);
    }

    /// Closing waits for the thread, so the store's own connection is the last to
    /// close: it copies the rest of the log and removes it, and every row is there.
    #[test]
    fn a_closed_store_leaves_no_log_and_loses_nothing() {
        let (dir, path, store) = written(20);
        drop(store);
        assert!(!dir.path().join("evidra.db-wal").exists(), "the log is left behind");
        let store = Store::open(&path).unwrap();
        let rows: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 20 * 16);
    }
}
