//! What every read shares: pacing under the account's budget, and keeping the raw
//! response as evidence (or the failure as a gap).

use std::sync::Arc;

use evidra_collector_core::{Batch, Evidence, EvidenceSource, Gap, Scope, TokenBucket};

use crate::capture::Capture;

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

    pub fn gap(&mut self, gap: Gap) {
        self.batch.gaps.push(gap);
    }
}
