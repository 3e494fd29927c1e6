use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use crate::Batch;

/// A boxed future, so that collectors of different types fit behind `dyn Collector`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What every collector is told about the run it collects for.
#[derive(Debug, Clone)]
pub struct CollectContext {
    /// The run's start (RFC 3339, UTC). Imported files are stamped with it, so that
    /// re-importing the same files gives the same evidence records.
    pub started_at: String,
    /// Where to report progress (a progress bar on a terminal, or nothing).
    pub progress: ProgressHandle,
}

impl CollectContext {
    pub fn new(started_at: impl Into<String>) -> Self {
        Self {
            started_at: started_at.into(),
            progress: ProgressHandle::default(),
        }
    }
}

/// What a collector reports as it goes, so that a person watching a long collection
/// sees it move. Counts only: it must never change what is collected, so every method
/// has a default that does nothing, and the CLI draws it only on a terminal.
pub trait Progress: Send + Sync {
    /// `n` more units of `kind` are known to be ahead (an organisation's accounts are
    /// known only once they are listed, an account's regions once they are resolved).
    fn planned(&self, _kind: Unit, _n: u64) {}
    /// One unit finished (`scope` names it, e.g. `aws/123456789012/eu-west-1`), leaving
    /// `gaps` gaps.
    fn finished(&self, _kind: Unit, _scope: &str, _gaps: usize) {}
    /// The collector's count of API requests sent (retries included), read whenever the
    /// progress is drawn, so the count moves with every request rather than per unit.
    fn count_requests(&self, _counter: Arc<AtomicUsize>) {}
}

/// The units a collector's progress is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// An account or subscription (its account-wide reads, such as IAM, included).
    Account,
    /// One region of one account.
    Region,
}

/// A shared [`Progress`]; the default reports nowhere.
#[derive(Clone)]
pub struct ProgressHandle(pub Arc<dyn Progress>);

struct Silent;
impl Progress for Silent {}

impl Default for ProgressHandle {
    fn default() -> Self {
        Self(Arc::new(Silent))
    }
}

impl std::fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHandle")
    }
}

impl std::ops::Deref for ProgressHandle {
    type Target = dyn Progress;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// Where collectors put their batches. The store implements it; each `write` is one
/// transaction, so a crash loses at most the batch in flight. It borrows the batch, so
/// the collector decides where its memory is freed (see [`crate::pipelined`]).
pub trait BatchSink: Send + Sync {
    fn write(&self, batch: &Batch) -> Result<(), SinkError>;
}

#[derive(Debug, thiserror::Error)]
#[error("could not store collected evidence: {0}")]
pub struct SinkError(pub String);

/// A failure that stops a collector as a whole. Failures of single reads are not
/// errors: they are [`crate::Gap`]s, and the run goes on.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{}: {what}", path.display())]
    BadFile { path: PathBuf, what: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// A source of evidence: one module (or crate) plus one registration line in
/// `evidra::collect`.
pub trait Collector: Send + Sync {
    /// Dotted name used in evidence records and gaps (`files`, `aws`, `azure`).
    fn name(&self) -> &str;

    /// Reads the source and writes what it found to `sink`, batch by batch.
    fn collect<'a>(
        &'a self,
        ctx: &'a CollectContext,
        sink: &'a dyn BatchSink,
    ) -> BoxFuture<'a, Result<(), CollectError>>;
}
