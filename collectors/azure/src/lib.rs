//! The live Azure collector: Resource Manager, per subscription, in few paged calls.
//!
//! - Subscriptions: those the credential can see, or the ones `[[azure]]` names.
//! - Per subscription: resource groups, all resources (the generic list), locks at every
//!   level, one list-by-type call per resource type the controls read (storage accounts,
//!   network security groups, key vaults, SQL servers and their databases, virtual
//!   machines, managed disks, the activity log's diagnostic settings), policy assignments
//!   with their Policy Insights compliance summary, role assignments with role names and,
//!   through Microsoft Graph, principal names.
//! - Every response body is evidence (with secret values masked: see
//!   [`evidra_collector_files::azure::mask_json`]); every complete listing is an
//!   observation; every failed read is a gap.
//! - Reads are paced per subscription by a token bucket of 250 refilled 25 per second,
//!   Resource Manager's own read limit per subscription and principal, so a large
//!   subscription is read at full speed without a storm of 429s; a 429 that comes anyway
//!   is retried after its `Retry-After`.
//!
//! Modules: [`arm`] is the HTTP client (replaceable in one place), [`credential`] adapts
//! azure_identity, `subscription` says what is read.

pub mod arm;
pub mod credential;
mod subscription;

use std::sync::Arc;

use evidra_collector_core::{
    Batch, BatchSink, BoxFuture, CollectContext, CollectError, Collector, Gap, Scope, TokenBucket,
};
use evidra_collector_files::azure;
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::arm::{ArmClient, ArmError};
use crate::credential::{Audience, CredentialKind, Credentials};
use crate::subscription::{API_SUBSCRIPTIONS, ARM_COLLECTOR, Reader};

/// Resource Manager's read budget per subscription and principal (token bucket).
const BURST: u32 = 250;
const REFILL_PER_SECOND: f64 = 25.0;
/// Subscriptions read at once. Limits are per subscription, so this bounds memory and
/// connections, not quota.
const SUBSCRIPTIONS_AT_ONCE: usize = 4;

/// One `[[azure]]` entry of `evidra.toml`: a credential and the subscriptions to read
/// with it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureTarget {
    /// Subscription IDs. Default: every subscription the credential can see.
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// `token`, `client_secret`, `workload_identity`, `managed_identity` or `azure_cli`.
    /// Default: `EVIDRA_AZURE_TOKEN` if set, else a client secret, workload identity or
    /// managed identity as the environment says, else the Azure CLI.
    pub credential: Option<CredentialKind>,
    /// The Entra tenant (default `AZURE_TENANT_ID`).
    pub tenant_id: Option<String>,
    /// The application, or user-assigned managed identity (default `AZURE_CLIENT_ID`).
    /// Secrets never go in this file: the client secret is `AZURE_CLIENT_SECRET`.
    pub client_id: Option<String>,
    /// Reads per second per subscription (default 25, Resource Manager's refill rate).
    pub max_requests_per_second: Option<f64>,
    /// The bucket's size: reads allowed in a burst (default 250).
    pub burst: Option<u32>,
}

pub struct AzureCollector {
    targets: Vec<AzureTarget>,
}

impl AzureCollector {
    /// With no targets, one: the default credential, every visible subscription.
    pub fn new(targets: Vec<AzureTarget>) -> Self {
        let targets = if targets.is_empty() {
            vec![AzureTarget::default()]
        } else {
            targets
        };
        Self { targets }
    }
}

impl Collector for AzureCollector {
    fn name(&self) -> &str {
        "azure"
    }

    fn collect<'a>(
        &'a self,
        ctx: &'a CollectContext,
        sink: &'a dyn BatchSink,
    ) -> BoxFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            for target in &self.targets {
                collect_target(target, &ctx.started_at, sink).await?;
            }
            Ok(())
        })
    }
}

/// The scope of what belongs to no one subscription (the tenant's subscription listing).
fn tenant_scope() -> Scope {
    Scope::new(azure::PROVIDER, "*", azure::REGION)
}

async fn collect_target(target: &AzureTarget, collected_at: &str, sink: &dyn BatchSink) -> Result<(), CollectError> {
    let limiter = || {
        TokenBucket::new(
            target.burst.unwrap_or(BURST),
            target.max_requests_per_second.unwrap_or(REFILL_PER_SECOND),
        )
    };
    let credentials = Credentials::from_env(
        target.credential,
        target.tenant_id.as_deref(),
        target.client_id.as_deref(),
    );
    let client = match credentials {
        // A malformed endpoint is the user's input to fix, not a gap in the evidence.
        Ok(credentials) => Arc::new(ArmClient::new(credentials).map_err(|e| CollectError::Config(e.to_string()))?),
        Err(e) => {
            let e = ArmError::Credential(e.0);
            // No credential at all: nothing can be read, every Azure control is `error`.
            let gaps = target_scopes(&target.subscriptions)
                .into_iter()
                .map(|scope| Gap {
                    collector: ARM_COLLECTOR.into(),
                    scope,
                    operation: "credential".into(),
                    error: e.to_string(),
                    resource_types: vec!["*".into()],
                })
                .collect();
            sink.write(&Batch {
                gaps,
                ..Batch::default()
            })?;
            return Ok(());
        }
    };

    // Which subscriptions: as configured, or as listed (the listing's objects are kept).
    let mut work: Vec<(String, Option<(Value, String)>)> = Vec::new();
    if target.subscriptions.is_empty() {
        let tenant_limiter = limiter();
        let mut reader = Reader::new(&client, &tenant_limiter, tenant_scope(), collected_at);
        let url = client.arm_url("/subscriptions", API_SUBSCRIPTIONS, &[]);
        match reader.list(Audience::ResourceManager, Method::GET, url).await {
            Ok((items, _)) => {
                for (object, sha) in items {
                    let id = object
                        .get("subscriptionId")
                        .and_then(Value::as_str)
                        .map(str::to_ascii_lowercase);
                    if let Some(id) = id {
                        work.push((id, Some((object, sha))));
                    }
                }
                if work.is_empty() {
                    let e = ArmError::Other(format!(
                        "NoSubscription: {} can see no subscription (give it the Reader role on the subscriptions to audit)",
                        client.credential_label()
                    ));
                    reader.gap(ARM_COLLECTOR, "GET /subscriptions", &e, &["*"]);
                }
            }
            Err((operation, e)) => reader.gap(ARM_COLLECTOR, &operation, &e, &["*"]),
        }
        sink.write(&reader.batch)?;
    } else {
        for id in &target.subscriptions {
            work.push((id.trim().to_ascii_lowercase(), None));
        }
        work.sort_by(|a, b| a.0.cmp(&b.0));
        work.dedup_by(|a, b| a.0 == b.0);
    }

    let gate = Arc::new(Semaphore::new(SUBSCRIPTIONS_AT_ONCE));
    let mut tasks = JoinSet::new();
    for (id, listed) in work {
        let client = client.clone();
        let gate = gate.clone();
        let collected_at = collected_at.to_owned();
        let limiter = limiter();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            // One bucket per subscription: ARM's limits are per subscription.
            let mut reader = Reader::new(&client, &limiter, azure::scope(&id), &collected_at);
            subscription::collect(&mut reader, listed).await;
            reader.batch
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let batch = joined.map_err(|e| CollectError::Config(format!("an Azure subscription task failed: {e}")))?;
        sink.write(&batch)?;
    }
    Ok(())
}

/// The scopes a target covers before anything is read.
fn target_scopes(subscriptions: &[String]) -> Vec<Scope> {
    if subscriptions.is_empty() {
        vec![tenant_scope()]
    } else {
        subscriptions
            .iter()
            .map(|s| azure::scope(&s.trim().to_ascii_lowercase()))
            .collect()
    }
}
