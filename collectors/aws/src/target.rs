//! Which accounts and regions to read, and with which credentials (`[[aws]]` in
//! `evidra.toml`).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use serde::Deserialize;

/// One `[[aws]]` entry of `evidra.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsTarget {
    /// A named profile of the shared AWS config files; default: the standard chain.
    pub profile: Option<String>,
    /// A role to assume in the target account (with the profile's or the chain's
    /// credentials), e.g. `arn:aws:iam::111122223333:role/evidra-audit`.
    pub role_arn: Option<String>,
    /// The external ID the role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// Regions to read AWS Config in. Default: the region of the profile or environment.
    #[serde(default)]
    pub regions: Vec<String>,
    /// The most API calls per second for this account (all regions together), so a scan
    /// never takes production's share of the account's API quota. Default 10.
    pub max_requests_per_second: Option<f64>,
}

impl AwsTarget {
    /// The account named by `role_arn`, before we can ask STS.
    pub fn account_hint(&self) -> Option<String> {
        self.role_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(4))
            .map(str::to_owned)
    }

    /// What to call this target in messages.
    pub fn label(&self) -> String {
        match (&self.role_arn, &self.profile) {
            (Some(role), _) => role.clone(),
            (None, Some(profile)) => format!("profile {profile}"),
            (None, None) => "default credentials".into(),
        }
    }
}

/// The SDK configuration for a target: standard chain (or profile), optional assumed
/// role, adaptive retry (exponential backoff with jitter, client-side rate adaptation,
/// and the service's retry hints honoured), bounded timeouts. `AWS_ENDPOINT_URL` and
/// the per-service endpoint variables are honoured by the SDK itself.
pub async fn sdk_config(target: &AwsTarget, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(120))
                .build(),
        );
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let base = loader.load().await;
    let Some(role_arn) = &target.role_arn else { return base };
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("evidra")
        .configure(&base);
    if let Some(external_id) = &target.external_id {
        provider = provider.external_id(external_id);
    }
    let provider = provider.build().await;
    base.into_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
        .build()
}
