//! The live AWS collector: IAM and AWS Config, in few API calls, across accounts and
//! regions.
//!
//! Every API response body is kept verbatim as evidence ([`capture`]); every failed read
//! after the SDK's retries is a gap. Accounts run concurrently (bounded), and each
//! account's calls share a request budget so that a scan never starves production of
//! API quota.

mod capture;
mod config;
mod gap;
mod iam;
mod reader;
mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use evidra_collector_core::{Batch, BatchSink, BoxFuture, CollectContext, CollectError, Collector, Scope, TokenBucket};
use evidra_collector_files::model::{config_records, iam_records};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use capture::Capture;
pub use target::AwsTarget;

/// How many accounts are read at once. API limits are per account, so this bounds
/// memory and connections, not quota.
const ACCOUNTS_AT_ONCE: usize = 8;
/// Default request budget per account (all regions together), in calls per second.
const DEFAULT_RPS: f64 = 10.0;

pub struct AwsCollector {
    targets: Vec<AwsTarget>,
    requests: Arc<AtomicUsize>,
}

impl AwsCollector {
    /// With no targets, one target: the standard credential chain and region.
    pub fn new(targets: Vec<AwsTarget>) -> Self {
        let targets = if targets.is_empty() {
            vec![AwsTarget::default()]
        } else {
            targets
        };
        Self {
            targets,
            requests: Arc::default(),
        }
    }

    /// Requests sent so far (retries included), over all accounts.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Collector for AwsCollector {
    fn name(&self) -> &str {
        "aws"
    }

    fn collect<'a>(
        &'a self,
        ctx: &'a CollectContext,
        sink: &'a dyn BatchSink,
    ) -> BoxFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let gate = Arc::new(Semaphore::new(ACCOUNTS_AT_ONCE));
            let mut tasks = JoinSet::new();
            for target in self.targets.clone() {
                let gate = gate.clone();
                let collected_at = ctx.started_at.clone();
                let counter = self.requests.clone();
                tasks.spawn(async move {
                    let _permit = gate.acquire_owned().await;
                    collect_account(target, &collected_at, counter).await
                });
            }
            while let Some(joined) = tasks.join_next().await {
                let batches = joined.map_err(|e| CollectError::Config(format!("an AWS account task failed: {e}")))?;
                for batch in batches {
                    sink.write(batch)?;
                }
            }
            Ok(())
        })
    }
}

/// Reads one account: who we are (STS), IAM once, then Config in each region
/// concurrently. Returns one batch for IAM and one per region.
async fn collect_account(target: AwsTarget, collected_at: &str, counter: Arc<AtomicUsize>) -> Vec<Batch> {
    let limiter = Arc::new(TokenBucket::new(
        20,
        target.max_requests_per_second.unwrap_or(DEFAULT_RPS),
    ));
    let first_region = target.regions.first().cloned();
    let base = target::sdk_config(&target, first_region.as_deref()).await;
    let hint = target.account_hint().unwrap_or_else(|| "unknown".into());

    let sts_capture = Capture::with_counter(counter.clone());
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&base)
            .interceptor(sts_capture.clone())
            .build(),
    );
    let mut who = reader::Reader::new(
        "aws.sts",
        Scope::new("aws", &hint, "*"),
        sts_capture,
        limiter.clone(),
        collected_at,
    );
    who.pace().await;
    let identity = sts.get_caller_identity().send().await;
    who.keep("sts:GetCallerIdentity");
    let account = match identity {
        Ok(out) if out.account().is_some() => out.account().unwrap_or_default().to_owned(),
        other => {
            let error = match other {
                Err(e) => gap::describe(&e),
                Ok(_) => "MalformedResponse: no account in GetCallerIdentity".into(),
            };
            let error = format!("{error} (credentials: {})", target.label());
            who.gap(gap::gap(
                "aws.sts",
                &who.scope.clone(),
                "sts:GetCallerIdentity",
                error,
                &["*"],
            ));
            return vec![who.batch];
        }
    };
    let mut batches = vec![who.batch];

    let regions: Vec<String> = if target.regions.is_empty() {
        base.region().map(|r| vec![r.to_string()]).unwrap_or_default()
    } else {
        target.regions.clone()
    };

    let iam_capture = Capture::with_counter(counter.clone());
    let iam_client = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&base)
            .interceptor(iam_capture.clone())
            .build(),
    );
    let mut iam_reader = reader::Reader::new(
        "aws.iam",
        Scope::new("aws", &account, "global"),
        iam_capture,
        limiter.clone(),
        collected_at,
    );
    let state = iam::collect(&mut iam_reader, &iam_client).await;
    iam_records(&account, state, &mut iam_reader.batch);
    batches.push(iam_reader.batch);

    if regions.is_empty() {
        let mut batch = Batch::default();
        let error = "NoRegion: no region configured (set AWS_REGION, or `regions` in evidra.toml)".to_owned();
        batch.gaps.push(gap::gap(
            "aws.config",
            &Scope::new("aws", &account, "*"),
            "config:DescribeConfigurationRecorders",
            error,
            &["*"],
        ));
        batches.push(batch);
        return batches;
    }
    let mut tasks = JoinSet::new();
    for region in regions {
        let config = aws_sdk_config::config::Builder::from(&base).region(aws_config::Region::new(region.clone()));
        let capture = Capture::with_counter(counter.clone());
        let client = aws_sdk_config::Client::from_conf(config.interceptor(capture.clone()).build());
        let scope = Scope::new("aws", &account, &region);
        let mut reader = reader::Reader::new("aws.config", scope, capture, limiter.clone(), collected_at);
        let account = account.clone();
        tasks.spawn(async move {
            let state = config::collect(&mut reader, &client).await;
            config_records("aws.config", &account, &region, state, &mut reader.batch);
            reader.batch
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok(batch) = joined {
            batches.push(batch);
        }
    }
    batches
}
