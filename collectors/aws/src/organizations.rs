//! AWS Organizations mode: the organisation's accounts, listed once with the
//! management account's (or a delegated administrator's) credentials.
//!
//! Every account becomes an `aws.organizations.account` record citing the listing, the
//! suspended and closing ones too: an auditor asks why an account was not read, and the
//! answer ("it was suspended on that day") must be in the evidence, not in a log.

use aws_sdk_organizations::Client;
use evidra_collector_core::{Observation, ResourceRecord};
use serde_json::json;

use crate::gap::gap;
use crate::iam::date;
use crate::reader::Reader;

pub const OP: &str = "organizations:ListAccounts";
pub const ACCOUNT: &str = "aws.organizations.account";

/// One account of the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_ACTIVATION`, `PENDING_CLOSURE`, `CLOSED`.
    pub state: String,
}

impl Member {
    /// Only an active account can be read; the others are recorded, not collected.
    pub fn is_active(&self) -> bool {
        self.state == "ACTIVE"
    }
}

/// Lists every account (all pages), keeping the pages as evidence and the accounts as
/// records in the reader's batch. `None` when the listing failed: a gap is in the batch.
pub async fn list_accounts(reader: &mut Reader, client: &Client) -> Option<Vec<Member>> {
    let pages = reader
        .pages(
            OP,
            |token| client.list_accounts().max_results(20).set_next_token(token).send(),
            |out| out.next_token().map(str::to_owned),
        )
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(error) => {
            reader.gap(gap(reader.collector, &reader.scope.clone(), OP, error, &[ACCOUNT]));
            return None;
        }
    };
    let mut members = Vec::new();
    let mut evidence: Vec<String> = Vec::new();
    for (sha, page) in &pages {
        evidence.push(sha.clone());
        for account in page.accounts() {
            let Some(id) = account.id() else { continue };
            // `State` replaced `Status` (retired in 2026); older answers carry only `Status`.
            #[allow(deprecated)]
            let state = account
                .state()
                .map(|s| s.as_str().to_owned())
                .or_else(|| account.status().map(|s| s.as_str().to_owned()))
                .unwrap_or_default();
            // The e-mail address is left out of the record (it names a person more often
            // than not); it stays in the kept response for whoever needs it.
            reader.batch.resources.push(ResourceRecord {
                provider: "aws".into(),
                account: id.to_owned(),
                region: "global".into(),
                resource_type: ACCOUNT.into(),
                resource_id: account.arn().unwrap_or(id).to_owned(),
                properties: json!({
                    "Id": id, "Name": account.name(), "State": state,
                    "JoinedMethod": account.joined_method().map(|m| m.as_str()),
                    "JoinedTimestamp": date(account.joined_timestamp()),
                }),
                evidence: vec![sha.clone()].into_iter().filter(|s| !s.is_empty()).collect(),
            });
            members.push(Member {
                id: id.to_owned(),
                state,
            });
        }
    }
    evidence.retain(|s| !s.is_empty());
    evidence.sort();
    evidence.dedup();
    reader.batch.observations.push(Observation {
        scope: reader.scope.clone(),
        resource_type: ACCOUNT.into(),
        evidence,
    });
    members.sort_by(|a, b| a.id.cmp(&b.id));
    members.dedup_by(|a, b| a.id == b.id);
    Some(members)
}
