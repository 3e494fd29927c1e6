//! One run: collect from every source, store, evaluate, seal.
//!
//! Collectors are registered in [`collector_for`]: one line per source.

use std::path::PathBuf;

#[cfg(feature = "aws")]
use evidra_collector_aws::{AwsCollector, AwsTarget};
#[cfg(feature = "azure")]
use evidra_collector_azure::{AzureCollector, AzureTarget};
use evidra_collector_core::{Batch, CollectContext, CollectError, Collector, Evidence, EvidenceSource, ProgressHandle};
use evidra_collector_files::FilesCollector;

use crate::catalogue::Catalogue;
use crate::engine::{self, EngineError};
use crate::exceptions::Exception;
use crate::store::{Run, RunSink, RunStatus, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{collector} collector: {source} (run {run} recorded as failed)")]
    Collect {
        collector: String,
        run: String,
        source: CollectError,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("`--path DIR` is required with `--source files`")]
    MissingPath,
    #[error("{0}")]
    Exceptions(String),
}

/// Which source to collect from (the CLI's `--source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Files,
    #[cfg(feature = "aws")]
    Aws,
    #[cfg(feature = "azure")]
    Azure,
}

/// What the sources need to be built.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub path: Option<PathBuf>,
    /// `[[aws]]` entries of `evidra.toml`; none means the standard chain and region.
    #[cfg(feature = "aws")]
    pub aws: Vec<AwsTarget>,
    /// `[[azure]]` entries; none means the default credential and every visible subscription.
    #[cfg(feature = "azure")]
    pub azure: Vec<AzureTarget>,
}

/// The collector registry: one line per source.
pub fn collector_for(kind: SourceKind, options: &SourceOptions) -> Result<Box<dyn Collector>, RunError> {
    Ok(match kind {
        SourceKind::Files => Box::new(FilesCollector::from_dir(
            options.path.clone().ok_or(RunError::MissingPath)?,
        )),
        #[cfg(feature = "aws")]
        SourceKind::Aws => Box::new(AwsCollector::new(options.aws.clone())),
        #[cfg(feature = "azure")]
        SourceKind::Azure => Box::new(AzureCollector::new(options.azure.clone())),
    })
}

/// The result of a run.
#[derive(Debug)]
pub struct Outcome {
    pub run: Run,
    pub findings: usize,
    pub gaps: usize,
    /// Runs a killed process had left open, finished as `partial` before this one.
    pub recovered: Vec<String>,
    /// Where the time went (`EVIDRA_TIMINGS=1` prints it): what a benchmark reads.
    pub timings: Timings,
}

/// Wall time of each phase of a run.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Collectors, each batch written to the store as it comes.
    pub collect: std::time::Duration,
    /// Reading the run back, every control, findings into the store.
    pub evaluate: std::time::Duration,
    /// The part of `evaluate` spent reading the run back and building the rules' input.
    pub load: std::time::Duration,
    /// The manifest: hashing every row, chaining, signing.
    pub seal: std::time::Duration,
    /// Each control's evaluation, slowest first (they run side by side, so these add up
    /// to more than `evaluate`).
    pub controls: engine::ControlTimes,
}

/// The exceptions file of a run: kept as evidence, applied to the findings.
#[derive(Debug, Clone)]
pub struct ExceptionsFile {
    /// Its path, as given (named in the evidence record).
    pub path: String,
    pub bytes: Vec<u8>,
    pub exceptions: Vec<Exception>,
}

impl ExceptionsFile {
    pub fn read(path: &std::path::Path) -> Result<Self, RunError> {
        let display = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| RunError::Exceptions(format!("{display}: {e}")))?;
        let text = String::from_utf8_lossy(&bytes);
        let exceptions = crate::exceptions::parse(&display, &text).map_err(|e| RunError::Exceptions(e.to_string()))?;
        Ok(Self {
            path: display,
            bytes,
            exceptions,
        })
    }
}

/// How a run is made, beyond its collectors.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Pins the evaluation time (`input.now` of every rule); default: the run's start.
    pub evaluated_at: Option<String>,
    pub exceptions: Option<ExceptionsFile>,
    /// Where the collectors report progress (the CLI's progress bar); default nowhere.
    pub progress: ProgressHandle,
}

/// Collects from `collectors` into a new run, evaluates it and seals it.
///
/// `evaluated_at` pins the evaluation time (`input.now` of every rule); by default it
/// is the run's start.
pub async fn run(
    store: &Store,
    catalogue: &Catalogue,
    collectors: &[Box<dyn Collector>],
    evaluated_at: Option<String>,
) -> Result<Outcome, RunError> {
    run_with(
        store,
        catalogue,
        collectors,
        RunOptions {
            evaluated_at,
            ..RunOptions::default()
        },
    )
    .await
}

/// [`run`], with exceptions.
pub async fn run_with(
    store: &Store,
    catalogue: &Catalogue,
    collectors: &[Box<dyn Collector>],
    options: RunOptions,
) -> Result<Outcome, RunError> {
    let evaluated_at = options.evaluated_at.clone();
    let started_at = crate::time_fmt::now();
    let recovered = store.recover_interrupted(&started_at)?;
    let evaluated_at = evaluated_at.unwrap_or_else(|| started_at.clone());
    let names: Vec<String> = collectors.iter().map(|c| c.name().to_owned()).collect();
    let run = store.begin_run(&started_at, &evaluated_at, &names)?;
    let ctx = CollectContext {
        started_at: started_at.clone(),
        progress: options.progress.clone(),
    };
    let sink = RunSink {
        store,
        run_id: run.id.clone(),
        collected_at: started_at.clone(),
    };
    let clock = std::time::Instant::now();
    let mut timings = Timings::default();
    for collector in collectors {
        if let Err(source) = collector.collect(&ctx, &sink).await {
            store.finish_run(&run.id, RunStatus::Failed, &crate::time_fmt::now())?;
            return Err(RunError::Collect {
                collector: collector.name().to_owned(),
                run: run.id.clone(),
                source,
            });
        }
    }
    let exceptions = match &options.exceptions {
        Some(file) => {
            let evidence = Evidence::new(
                EvidenceSource {
                    collector: "evidra".into(),
                    operation: EXCEPTIONS_OPERATION.into(),
                    scope: file.path.clone(),
                },
                started_at.clone(),
                "application/toml",
                file.bytes.clone(),
            );
            let sha = evidence.sha256.clone();
            store.write_batch(
                &run.id,
                &Batch {
                    evidence: vec![evidence],
                    ..Batch::default()
                },
                &started_at,
            )?;
            Some((file.exceptions.as_slice(), sha))
        }
        None => None,
    };
    timings.collect = clock.elapsed();
    let (findings, gaps, controls, load) = evaluate_into(store, catalogue, &run, exceptions)?;
    timings.controls = controls;
    timings.load = load;
    timings.evaluate = clock.elapsed() - timings.collect;
    let status = if gaps > 0 {
        RunStatus::Partial
    } else {
        RunStatus::Complete
    };
    let run = store.finish_run(&run.id, status, &crate::time_fmt::now())?;
    timings.seal = clock.elapsed() - timings.collect - timings.evaluate;
    Ok(Outcome {
        run,
        findings,
        gaps,
        recovered,
        timings,
    })
}

/// The evidence operation under which a run keeps its exceptions file.
pub const EXCEPTIONS_OPERATION: &str = "evidra:exceptions";

/// Evaluates the catalogue over a running run, applies exceptions, stores the findings.
fn evaluate_into(
    store: &Store,
    catalogue: &Catalogue,
    run: &Run,
    exceptions: Option<(&[Exception], String)>,
) -> Result<(usize, usize, engine::ControlTimes, std::time::Duration), RunError> {
    let clock = std::time::Instant::now();
    let (data, inputs) = engine::build_inputs(|each| store.run_data_with(&run.id, each).map(|(data, _)| data))?;
    let load = clock.elapsed();
    let gaps = data.gaps.len();
    let mut count = 0;
    let mut times = Vec::new();
    store.write_findings_with(&run.id, |writer| {
        times = engine::evaluate_with_inputs(catalogue, &data, inputs, &run.evaluated_at, |mut findings| {
            if let Some((exceptions, sha)) = &exceptions {
                crate::exceptions::apply(&mut findings, exceptions, &run.evaluated_at, sha);
            }
            count += findings.len();
            writer.write(&findings).map_err(RunError::from)
        })?;
        Ok::<_, RunError>(())
    })?;
    store.set_catalogue(&run.id, &catalogue.hash)?;
    Ok((count, gaps, times, load))
}
