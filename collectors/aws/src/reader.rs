//! What every read shares: pacing under the account's budget, and keeping the raw
//! response as evidence (or the failure as a gap).

use std::future::Future;
use std::sync::Arc;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use evidra_collector_core::{Batch, Evidence, EvidenceSource, Gap, Scope, TokenBucket};

use crate::capture::Capture;
use crate::gap::describe;

/// Pages of one listing as read: each page's evidence hash (empty if the body could not
/// be kept) and the parsed page.
pub type Pages<T> = Vec<(String, T)>;

pub struct Reader {
    pub collector: &'static str,
    pub scope: Scope,
    pub capture: Capture,
    pub limiter: Arc<TokenBucket>,
    pub collected_at: String,
    pub batch: Batch,
}

impl Reader {
    pub fn new(
        collector: &'static str,
        scope: Scope,
        capture: Capture,
        limiter: Arc<TokenBucket>,
        collected_at: &str,
    ) -> Self {
        Self {
            collector,
            scope,
            capture,
            limiter,
            collected_at: collected_at.to_owned(),
            batch: Batch::default(),
        }
    }

    /// Waits for the account's request budget. Call before every API call.
    pub async fn pace(&self) {
        let wait = self.limiter.take();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        // Responses of earlier, abandoned attempts are not this call's evidence.
        self.capture.take();
    }

    /// Keeps the response of the call just made as evidence; returns its hash.
    pub fn keep(&mut self, operation: &str) -> Option<String> {
        let captured = self.capture.last()?;
        let evidence = Evidence::new(
            EvidenceSource {
                collector: self.collector.into(),
                operation: operation.into(),
                scope: self.scope.to_string(),
            },
            self.collected_at.clone(),
            captured.content_type,
            captured.body,
        );
        let sha = evidence.sha256.clone();
        self.batch.evidence.push(evidence);
        Some(sha)
    }

    /// Reads every page of a listing: paces each call, keeps each page's body as
    /// evidence, and follows `next` (the page's continuation token, `None` on the last
    /// page). The error is the failed call's description, for a gap: pages read before
    /// it stay kept as evidence but are not returned, since a partial listing must not
    /// pass for a complete one.
    pub async fn pages<T, E, Fut>(
        &mut self,
        operation: &str,
        mut send: impl FnMut(Option<String>) -> Fut,
        next: impl Fn(&T) -> Option<String>,
    ) -> Result<Pages<T>, String>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut pages = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.pace().await;
            let result = send(token.clone()).await;
            let sha = self.keep(operation).unwrap_or_default();
            let page = result.map_err(|e| describe(&e))?;
            let following = next(&page);
            pages.push((sha, page));
            match following {
                None => return Ok(pages),
                // A service answering the same token again would keep us here forever.
                Some(t) if Some(&t) == token.as_ref() => {
                    return Err(format!(
                        "MalformedResponse: {operation} returned the same continuation token twice"
                    ));
                }
                Some(t) => token = Some(t),
            }
        }
    }

    pub fn gap(&mut self, gap: Gap) {
        self.batch.gaps.push(gap);
    }
}
