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
mod organizations;
mod reader;
mod regions;
mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use evidra_collector_core::{
    Batch, BatchSink, BoxFuture, CollectContext, CollectError, Collector, ProgressHandle, Scope, TokenBucket, Unit,
};
use evidra_collector_files::model::{config_records, iam_records};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use capture::Capture;
pub use target::{AwsTarget, DEFAULT_MEMBER_ROLE, Regions};

/// How many accounts are read at once. API limits are per account, so this bounds
/// memory and connections, not quota.
const ACCOUNTS_AT_ONCE: usize = 8;
/// Default request budget per account (all regions together), in calls per second.
const DEFAULT_RPS: f64 = 10.0;
/// Where the global services (Organizations, Account) are asked when no region is set.
const GLOBAL_REGION: &str = "us-east-1";

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

/// One account to read, and how.
struct AccountJob {
    /// Its settings: regions, request budget, and (unless `sdk` is set) credentials.
    target: AwsTarget,
    /// Credentials already set up (Organizations mode), instead of the target's own.
    sdk: Option<SdkConfig>,
    /// The role this account is read through, assumed before the first call so that a
    /// role that cannot be assumed is one clear gap (`sts:AssumeRole`).
    role: Option<String>,
    /// The account ID when known before STS answers (from a role ARN or the listing).
    hint: Option<String>,
}

impl AccountJob {
    fn of(target: AwsTarget) -> Self {
        Self {
            role: target.role_arn.clone(),
            hint: target.account_hint(),
            target,
            sdk: None,
        }
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
            ctx.progress.count_requests(self.requests.clone());
            let mut jobs = Vec::new();
            for target in &self.targets {
                if target.organization {
                    let (batch, members) = organization(target, &ctx.started_at, self.requests.clone()).await;
                    sink.write(&batch)?;
                    jobs.extend(members);
                } else {
                    jobs.push(AccountJob::of(target.clone()));
                }
            }
            ctx.progress.planned(Unit::Account, jobs.len() as u64);
            let gate = Arc::new(Semaphore::new(ACCOUNTS_AT_ONCE));
            let mut tasks = JoinSet::new();
            for job in jobs {
                let gate = gate.clone();
                let collected_at = ctx.started_at.clone();
                let counter = self.requests.clone();
                let progress = ctx.progress.clone();
                tasks.spawn(async move {
                    let _permit = gate.acquire_owned().await;
                    collect_account(job, &collected_at, counter, progress).await
                });
            }
            while let Some(joined) = tasks.join_next().await {
                let batches = joined.map_err(|e| CollectError::Config(format!("an AWS account task failed: {e}")))?;
                for batch in batches {
                    sink.write(&batch)?;
                }
            }
            Ok(())
        })
    }
}

/// Organizations mode: who we are, then the organisation's accounts. Returns the
/// listing's batch (evidence, account records, gaps) and one job per account to read:
/// the caller's own account with the base credentials, every other active account
/// through the member role. Filters name accounts explicitly, so a filtered account
/// missing from the organisation is a gap, never silently nothing.
async fn organization(target: &AwsTarget, collected_at: &str, counter: Arc<AtomicUsize>) -> (Batch, Vec<AccountJob>) {
    let limiter = Arc::new(TokenBucket::new(
        20,
        target.max_requests_per_second.unwrap_or(DEFAULT_RPS),
    ));
    let first_region = match &target.regions {
        Regions::Listed(list) => list.first().cloned(),
        _ => None,
    };
    let base = target::sdk_config(target, first_region.as_deref()).await;
    let hint = target.account_hint().unwrap_or_else(|| "unknown".into());
    let capture = Capture::with_counter(counter.clone());
    let mut reader = reader::Reader::new(
        "aws.organizations",
        Scope::new("aws", &hint, "*"),
        capture.clone(),
        limiter,
        collected_at,
    );
    let role = target.role_arn.clone();
    if let Some(error) = assume_now(&base, role.as_deref()).await {
        reader.gap(gap::gap(
            reader.collector,
            &reader.scope.clone(),
            "sts:AssumeRole",
            error,
            &["*"],
        ));
        return (reader.batch, Vec::new());
    }
    let Some((caller, caller_arn)) = identity(&mut reader, &base, &target.label()).await else {
        return (reader.batch, Vec::new());
    };
    // The member roles live in the caller's partition (aws, aws-us-gov, aws-cn).
    let partition = caller_arn.split(':').nth(1).unwrap_or("aws").to_owned();
    reader.scope = Scope::new("aws", &caller, "global");

    let mut config = aws_sdk_organizations::config::Builder::from(&base).interceptor(capture);
    if base.region().is_none() {
        config = config.region(aws_config::Region::new(GLOBAL_REGION));
    }
    let client = aws_sdk_organizations::Client::from_conf(config.build());
    let members = organizations::list_accounts(&mut reader, &client)
        .await
        .unwrap_or_else(|| {
            // The listing failed (a gap says so): the caller's own account can still be read.
            vec![organizations::Member {
                id: caller.clone(),
                state: "ACTIVE".into(),
            }]
        });

    let wanted = |id: &str| {
        (target.accounts.is_empty() || target.accounts.iter().any(|a| a == id))
            && !target.exclude_accounts.iter().any(|a| a == id)
    };
    for id in &target.accounts {
        if !members.iter().any(|m| &m.id == id) && !reader.batch.gaps.iter().any(|g| g.operation == organizations::OP) {
            let error = format!("NotInOrganization: account {id} is in `accounts` but not in the organisation");
            reader.gap(gap::gap(
                reader.collector,
                &Scope::new("aws", id, "*"),
                organizations::OP,
                error,
                &["*"],
            ));
        }
    }
    let role_name = target.member_role_name.as_deref().unwrap_or(DEFAULT_MEMBER_ROLE);
    let mut jobs = Vec::new();
    for member in members.iter().filter(|m| m.is_active() && wanted(&m.id)) {
        let mut settings = target.clone();
        settings.organization = false;
        if member.id == caller {
            jobs.push(AccountJob {
                role: role.clone(),
                hint: Some(caller.clone()),
                target: settings,
                sdk: Some(base.clone()),
            });
            continue;
        }
        let role_arn = format!("arn:{partition}:iam::{}:role/{role_name}", member.id);
        settings.role_arn = Some(role_arn.clone());
        settings.external_id = target.member_external_id.clone();
        let sdk = target::assume(&base, &role_arn, target.member_external_id.as_deref()).await;
        jobs.push(AccountJob {
            role: Some(role_arn),
            hint: Some(member.id.clone()),
            target: settings,
            sdk: Some(sdk),
        });
    }
    (reader.batch, jobs)
}

/// Assumes `role` now (when there is one): `None` if the credentials are ready, else why
/// not. The SDK would otherwise assume it at the first call and report the failure as
/// that call's, which would name the wrong operation in the gap.
async fn assume_now(sdk: &SdkConfig, role: Option<&str>) -> Option<String> {
    let role = role?;
    let provider = sdk.credentials_provider()?;
    match provider.provide_credentials().await {
        Ok(_) => None,
        Err(e) => Some(format!("{} (role {role})", gap::chain(&e))),
    }
}

/// `sts:GetCallerIdentity`: the account ID and the caller's ARN, or a gap for the whole
/// account (nothing can be read without knowing whose it is).
async fn identity(reader: &mut reader::Reader, sdk: &SdkConfig, label: &str) -> Option<(String, String)> {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(sdk)
            .interceptor(reader.capture.clone())
            .build(),
    );
    let collector = reader.collector;
    reader.collector = "aws.sts";
    reader.pace().await;
    let result = sts.get_caller_identity().send().await;
    reader.keep("sts:GetCallerIdentity");
    reader.collector = collector;
    match result {
        Ok(out) if out.account().is_some() => {
            let account = out.account().unwrap_or_default().to_owned();
            // The answer names the account: file its evidence there, not under the
            // `unknown` it was asked from.
            if let Some(kept) = reader.batch.evidence.last_mut()
                && kept.source.operation == "sts:GetCallerIdentity"
            {
                kept.source.scope = Scope::new("aws", &account, "*").to_string();
            }
            Some((account, out.arn().unwrap_or_default().to_owned()))
        }
        other => {
            let error = match other {
                Err(e) => gap::describe(&e),
                Ok(_) => "MalformedResponse: no account in GetCallerIdentity".into(),
            };
            let error = format!("{error} (credentials: {label})");
            reader.gap(gap::gap(
                "aws.sts",
                &reader.scope.clone(),
                "sts:GetCallerIdentity",
                error,
                &["*"],
            ));
            None
        }
    }
}

/// Reads one account: who we are (STS), IAM once, the regions (when `"all"`), then
/// Config in each region concurrently. Returns one batch for STS and IAM, one for the
/// region listing, and one per region.
async fn collect_account(
    job: AccountJob,
    collected_at: &str,
    counter: Arc<AtomicUsize>,
    progress: ProgressHandle,
) -> Vec<Batch> {
    let target = &job.target;
    let limiter = Arc::new(TokenBucket::new(
        20,
        target.max_requests_per_second.unwrap_or(DEFAULT_RPS),
    ));
    let base = match job.sdk {
        Some(sdk) => sdk,
        None => {
            let first_region = match &target.regions {
                Regions::Listed(list) => list.first().cloned(),
                _ => None,
            };
            target::sdk_config(target, first_region.as_deref()).await
        }
    };
    let hint = job.hint.clone().unwrap_or_else(|| "unknown".into());
    let mut who = reader::Reader::new(
        "aws.sts",
        Scope::new("aws", &hint, "*"),
        Capture::with_counter(counter.clone()),
        limiter.clone(),
        collected_at,
    );
    // Reports the account done with the gaps of its account-wide batches (each region
    // reports its own as it finishes).
    let done = |batches: Vec<Batch>, scope: &str, account_wide: usize| {
        let gaps = batches.iter().take(account_wide).map(|b| b.gaps.len()).sum();
        progress.finished(Unit::Account, scope, gaps);
        batches
    };
    if let Some(error) = assume_now(&base, job.role.as_deref()).await {
        who.gap(gap::gap("aws.sts", &who.scope.clone(), "sts:AssumeRole", error, &["*"]));
        let scope = who.scope.to_string();
        return done(vec![who.batch], &scope, 1);
    }
    let Some((account, _)) = identity(&mut who, &base, &target.label()).await else {
        let scope = who.scope.to_string();
        return done(vec![who.batch], &scope, 1);
    };
    let account_scope = Scope::new("aws", &account, "*").to_string();

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
    // The STS evidence and gaps travel with IAM's batch: one transaction fewer.
    iam_reader.batch = who.batch;
    let state = iam::collect(&mut iam_reader, &iam_client).await;
    iam_records(&account, state, &mut iam_reader.batch);
    let mut batches = vec![iam_reader.batch];

    let regions: Vec<String> = match &target.regions {
        Regions::Listed(list) => list.clone(),
        Regions::Default => base.region().map(|r| vec![r.to_string()]).unwrap_or_default(),
        Regions::All => {
            let capture = Capture::with_counter(counter.clone());
            let mut config = aws_sdk_account::config::Builder::from(&base).interceptor(capture.clone());
            if base.region().is_none() {
                config = config.region(aws_config::Region::new(GLOBAL_REGION));
            }
            let client = aws_sdk_account::Client::from_conf(config.build());
            let mut reader = reader::Reader::new(
                "aws.account",
                Scope::new("aws", &account, "global"),
                capture,
                limiter.clone(),
                collected_at,
            );
            let listed = regions::enabled(&mut reader, &client, &account).await;
            batches.push(reader.batch);
            match listed {
                Some(list) => list,
                // The gap is in the batch; Config in every region of the account is unknown.
                None => return done(batches, &account_scope, 2),
            }
        }
    };

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
        let account_wide = batches.len();
        return done(batches, &account_scope, account_wide);
    }
    let account_wide = batches.len();
    progress.planned(Unit::Region, regions.len() as u64);
    let mut tasks = JoinSet::new();
    let mut task_regions = std::collections::HashMap::new();
    for region in regions {
        let config = aws_sdk_config::config::Builder::from(&base).region(aws_config::Region::new(region.clone()));
        let capture = Capture::with_counter(counter.clone());
        let client = aws_sdk_config::Client::from_conf(config.interceptor(capture.clone()).build());
        let scope = Scope::new("aws", &account, &region);
        let mut reader = reader::Reader::new("aws.config", scope, capture, limiter.clone(), collected_at);
        let account = account.clone();
        let progress = progress.clone();
        let task_region = region.clone();
        let task = tasks.spawn(async move {
            let state = config::collect(&mut reader, &client).await;
            config_records("aws.config", &account, &region, state, &mut reader.batch);
            progress.finished(Unit::Region, &reader.scope.to_string(), reader.batch.gaps.len());
            reader.batch
        });
        task_regions.insert(task.id(), task_region);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, batch)) => batches.push(batch),
            // A region whose task panicked was not read: that is a gap like any failed
            // call, never a region that silently drops out of the evidence.
            Err(e) => {
                let region = task_regions.get(&e.id()).cloned().unwrap_or_else(|| "*".into());
                let mut batch = Batch::default();
                batch.gaps.push(gap::gap(
                    "aws.config",
                    &Scope::new("aws", &account, &region),
                    "config:*",
                    format!("the region's collection failed: {e}"),
                    &["*"],
                ));
                batches.push(batch);
            }
        }
    }
    done(batches, &account_scope, account_wide)
}
