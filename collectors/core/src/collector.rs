use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use crate::Batch;

/// A boxed future, so that collectors of different types fit behind `dyn Collector`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What every collector is told about the run it collects for.
#[derive(Debug, Clone)]
pub struct CollectContext {
    /// The run's start (RFC 3339, UTC). Imported files are stamped with it, so that
    /// re-importing the same files gives the same evidence records.
    pub started_at: String,
}

/// Where collectors put their batches. The store implements it; each `write` is one
/// transaction, so a crash loses at most the batch in flight.
pub trait BatchSink: Send + Sync {
    fn write(&self, batch: Batch) -> Result<(), SinkError>;
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
