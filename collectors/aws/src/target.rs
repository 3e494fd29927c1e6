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
    /// Regions to read AWS Config in: a list, or `"all"` for every region enabled in the
    /// account (asked of the account, so opt-in regions nobody enabled are not probed).
    /// Default: the region of the profile or environment.
    #[serde(default)]
    pub regions: Regions,
    /// The most API calls per second for this account (all regions together), so a scan
    /// never takes production's share of the account's API quota. Default 10.
    pub max_requests_per_second: Option<f64>,
    /// AWS Organizations mode: these credentials are the management account's (or a
    /// delegated administrator's); every account of the organisation is listed, and each
    /// one other than the caller's is read through `member_role_name`.
    #[serde(default)]
    pub organization: bool,
    /// The role assumed in each member account. Default `OrganizationAccountAccessRole`,
    /// the one AWS creates in accounts made through Organizations; a read-only role of
    /// your own (e.g. deployed by a StackSet) is the better choice.
    pub member_role_name: Option<String>,
    /// The external ID the member role's trust policy requires, if any.
    pub member_external_id: Option<String>,
    /// Only these member accounts (IDs). Default: every active account.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Never these member accounts (IDs).
    #[serde(default)]
    pub exclude_accounts: Vec<String>,
}

/// The `regions` of an `[[aws]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Regions {
    /// The region of the profile or environment.
    #[default]
    Default,
    /// These regions.
    Listed(Vec<String>),
    /// Every region enabled in the account, listed at collection time.
    All,
}

impl<'de> Deserialize<'de> for Regions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<String>),
        }
        match Raw::deserialize(deserializer) {
            Ok(Raw::Word(word)) if word == "all" => Ok(Regions::All),
            Ok(Raw::List(list)) if list.is_empty() => Ok(Regions::Default),
            Ok(Raw::List(list)) => Ok(Regions::Listed(list)),
            _ => Err(serde::de::Error::custom(
                r#"`regions` is a list of region names (["us-east-1", "eu-west-1"]) or "all""#,
            )),
        }
    }
}

/// The member role of Organizations mode when none is named.
pub const DEFAULT_MEMBER_ROLE: &str = "OrganizationAccountAccessRole";

impl AwsTarget {
    /// The account named by `role_arn`, before we can ask STS.
    pub fn account_hint(&self) -> Option<String> {
        self.role_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(4))
            .map(str::to_owned)
    }

    /// Settings that only make sense together, checked when `evidra.toml` is read so a
    /// mistake is an error at once rather than a setting silently ignored.
    pub fn validate(&self) -> Result<(), String> {
        if !self.organization {
            for (key, set) in [
                ("member_role_name", self.member_role_name.is_some()),
                ("member_external_id", self.member_external_id.is_some()),
                ("accounts", !self.accounts.is_empty()),
                ("exclude_accounts", !self.exclude_accounts.is_empty()),
            ] {
                if set {
                    return Err(format!("[[aws]]: `{key}` needs `organization = true`"));
                }
            }
        }
        if let Regions::Listed(list) = &self.regions
            && let Some(bad) = list.iter().find(|r| r.is_empty() || *r == "all")
        {
            return Err(format!(
                r#"[[aws]]: region {bad:?} in a list; write `regions = "all"` for every enabled region"#
            ));
        }
        for id in self.accounts.iter().chain(&self.exclude_accounts) {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("[[aws]]: {id:?} is not an AWS account ID (12 digits)"));
            }
        }
        Ok(())
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
    match &target.role_arn {
        Some(role_arn) => assume(&base, role_arn, target.external_id.as_deref()).await,
        None => base,
    }
}

/// `base` with the credentials of `role_arn`, assumed with `base`'s credentials. The
/// role is assumed lazily, at the first call, so a role that cannot be assumed shows as
/// that call's failure (a gap), never as a crash. The AssumeRole response holds secret
/// credentials: it goes through the SDK's own STS client and is never kept as evidence.
pub async fn assume(base: &SdkConfig, role_arn: &str, external_id: Option<&str>) -> SdkConfig {
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("evidra")
        .configure(base);
    if let Some(external_id) = external_id {
        provider = provider.external_id(external_id);
    }
    let provider = provider.build().await;
    base.clone()
        .into_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(json: serde_json::Value) -> Result<AwsTarget, String> {
        serde_json::from_value::<AwsTarget>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn regions_are_a_list_or_all() {
        let t = target(serde_json::json!({"regions": "all"})).unwrap();
        assert_eq!(t.regions, Regions::All);
        let t = target(serde_json::json!({"regions": ["eu-west-1"]})).unwrap();
        assert_eq!(t.regions, Regions::Listed(vec!["eu-west-1".into()]));
        let t = target(serde_json::json!({})).unwrap();
        assert_eq!(t.regions, Regions::Default);
        let err = target(serde_json::json!({"regions": "eu-west-1"})).unwrap_err();
        assert!(err.contains(r#"or "all""#), "{err}");
    }

    #[test]
    fn organization_settings_need_organization_mode() {
        let t = target(serde_json::json!({"member_role_name": "audit"})).unwrap();
        assert!(t.validate().unwrap_err().contains("organization = true"));
        let t = target(serde_json::json!({"organization": true, "accounts": ["12345"]})).unwrap();
        assert!(t.validate().unwrap_err().contains("12 digits"));
        let t = target(serde_json::json!({"regions": ["us-east-1", "all"]})).unwrap();
        assert!(t.validate().unwrap_err().contains(r#"regions = "all""#));
        let t = target(
            serde_json::json!({"organization": true, "exclude_accounts": ["111122223333"],
            "member_role_name": "evidra-audit", "regions": "all"}),
        )
        .unwrap();
        assert_eq!(t.validate(), Ok(()));
    }
}
