//! Recognising an exported file by its content.

use std::io::Read;

use evidra_collector_core::CollectError;
use serde_json::Value;

use crate::{
    MAX_FILE_BYTES, SourceFile, aws_config, azure_export, credential_report, iam_account, iam_details, scanners,
};

/// The export formats this collector understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CredentialReport,
    AuthorizationDetails,
    PasswordPolicy,
    AccountSummary,
    ConfigSnapshot,
    ConfigRecorders,
    ConfigRecorderStatus,
    DeliveryChannels,
    ConfigRules,
    ConfigRuleCompliance,
    VirtualMfaDevices,
    /// An Azure export (`az resource list`, `az graph query`, `az role assignment list`).
    Azure(azure_export::ExportKind),
    /// Scanner outputs (see `scanners`).
    ProwlerOcsf,
    ProwlerCsv,
    Asff,
    Sarif,
}

impl Kind {
    /// The API operation the file is the output of, as recorded in its evidence source.
    pub fn operation(self) -> &'static str {
        match self {
            Kind::CredentialReport => "iam:GetCredentialReport",
            Kind::AuthorizationDetails => "iam:GetAccountAuthorizationDetails",
            Kind::PasswordPolicy => "iam:GetAccountPasswordPolicy",
            Kind::AccountSummary => "iam:GetAccountSummary",
            Kind::ConfigSnapshot => "config:DeliverConfigSnapshot",
            Kind::ConfigRecorders => "config:DescribeConfigurationRecorders",
            Kind::ConfigRecorderStatus => "config:DescribeConfigurationRecorderStatus",
            Kind::DeliveryChannels => "config:DescribeDeliveryChannels",
            Kind::ConfigRules => "config:DescribeConfigRules",
            Kind::ConfigRuleCompliance => "config:DescribeComplianceByConfigRule",
            Kind::VirtualMfaDevices => "iam:ListVirtualMFADevices",
            Kind::Azure(kind) => kind.operation(),
            Kind::ProwlerOcsf => "prowler:json-ocsf",
            Kind::ProwlerCsv => "prowler:csv",
            Kind::Asff => "securityhub:GetFindings",
            Kind::Sarif => "sarif:2.1.0",
        }
    }
}

/// A recognised file, parsed.
pub enum Content {
    CredentialReport(credential_report::Report),
    AuthorizationDetails(iam_details::Details),
    PasswordPolicy(Option<Value>),
    AccountSummary(Value),
    ConfigSnapshot(aws_config::Snapshot),
    ConfigRecorders(Vec<Value>),
    ConfigRecorderStatus(Vec<Value>),
    /// A per-region Config listing: delivery channels, rules or rule compliance.
    ConfigList(Kind, Vec<Value>),
    VirtualMfaDevices(Vec<Value>),
    Azure(azure_export::Export),
    /// A scanner's output: Prowler OCSF or CSV, ASFF, SARIF.
    Scan(Kind, scanners::Scan),
}

impl Content {
    pub fn kind(&self) -> Kind {
        match self {
            Content::CredentialReport(_) => Kind::CredentialReport,
            Content::AuthorizationDetails(_) => Kind::AuthorizationDetails,
            Content::PasswordPolicy(_) => Kind::PasswordPolicy,
            Content::AccountSummary(_) => Kind::AccountSummary,
            Content::ConfigSnapshot(_) => Kind::ConfigSnapshot,
            Content::ConfigRecorders(_) => Kind::ConfigRecorders,
            Content::ConfigRecorderStatus(_) => Kind::ConfigRecorderStatus,
            Content::ConfigList(kind, _) => *kind,
            Content::VirtualMfaDevices(_) => Kind::VirtualMfaDevices,
            Content::Azure(export) => Kind::Azure(export.kind),
            Content::Scan(kind, _) => *kind,
        }
    }
}

const KNOWN: &str = "expected one of: an IAM credential report (CSV), the JSON output of `aws iam get-account-authorization-details`, \
`get-account-password-policy`, `get-account-summary`, `aws configservice describe-configuration-recorders` or \
`describe-configuration-recorder-status`, `describe-delivery-channels`, `describe-config-rules`, \
`describe-compliance-by-config-rule`, `aws iam list-virtual-mfa-devices`, an AWS Config configuration snapshot, \
the JSON of `az resource list`, `az graph query` or `az role assignment list`, \
or a scanner's findings: Prowler OCSF JSON or CSV, AWS Security Hub ASFF (`aws securityhub get-findings`), SARIF 2.1.0";

pub fn bad(file: &SourceFile, what: impl Into<String>) -> CollectError {
    CollectError::BadFile {
        path: file.path.clone(),
        what: what.into(),
    }
}

/// Recognises `file` by content and parses it.
pub fn parse(file: &SourceFile) -> Result<Content, CollectError> {
    let text = decoded_text(file)?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let value: Value = serde_json::from_str(trimmed).map_err(|e| bad(file, format!("not valid JSON: {e}")))?;
        if let Some(export) = azure_export::detect(file, trimmed, &value)? {
            return Ok(Content::Azure(export));
        }
        return parse_json(file, value);
    }
    if credential_report::looks_like(trimmed) {
        return credential_report::parse(trimmed)
            .map(Content::CredentialReport)
            .map_err(|what| bad(file, what));
    }
    if scanners::prowler_csv::looks_like(trimmed) {
        return scanners::prowler_csv::parse(trimmed)
            .map(|scan| Content::Scan(Kind::ProwlerCsv, scan))
            .map_err(|what| bad(file, format!("Prowler CSV: {what}")));
    }
    Err(bad(file, format!("not a recognised export ({KNOWN})")))
}

fn parse_json(file: &SourceFile, value: Value) -> Result<Content, CollectError> {
    if let Some(kind) = scanners::kind_of(&value) {
        return scanners::parse(kind, value)
            .map(|scan| Content::Scan(kind, scan))
            .map_err(|what| bad(file, what));
    }
    let Some(object) = value.as_object() else {
        return Err(bad(
            file,
            format!("a JSON array at the top level is not a recognised export ({KNOWN})"),
        ));
    };
    let has = |key: &str| object.contains_key(key);
    let err = |what: String| bad(file, what);
    if has("UserDetailList") || has("GroupDetailList") || has("RoleDetailList") {
        return iam_details::parse(value)
            .map(Content::AuthorizationDetails)
            .map_err(err);
    }
    if has("PasswordPolicy") {
        return iam_account::password_policy(value)
            .map(Content::PasswordPolicy)
            .map_err(err);
    }
    if has("SummaryMap") {
        return iam_account::summary(value).map(Content::AccountSummary).map_err(err);
    }
    if has("configurationItems") || has("configSnapshotId") {
        return aws_config::snapshot(value).map(Content::ConfigSnapshot).map_err(err);
    }
    if has("ConfigurationRecorders") {
        return aws_config::list(value, "ConfigurationRecorders")
            .map(Content::ConfigRecorders)
            .map_err(err);
    }
    if has("ConfigurationRecordersStatus") {
        return aws_config::list(value, "ConfigurationRecordersStatus")
            .map(Content::ConfigRecorderStatus)
            .map_err(err);
    }
    for (key, kind) in [
        ("DeliveryChannels", Kind::DeliveryChannels),
        ("ConfigRules", Kind::ConfigRules),
        ("ComplianceByConfigRules", Kind::ConfigRuleCompliance),
    ] {
        if has(key) {
            return aws_config::list(value, key)
                .map(|list| Content::ConfigList(kind, list))
                .map_err(err);
        }
    }
    if has("VirtualMFADevices") {
        return aws_config::list(value, "VirtualMFADevices")
            .map(Content::VirtualMfaDevices)
            .map_err(err);
    }
    let mut keys: Vec<&str> = object.keys().map(String::as_str).take(5).collect();
    keys.sort_unstable();
    Err(bad(
        file,
        format!("JSON with top-level keys {keys:?} is not a recognised export ({KNOWN})"),
    ))
}

/// The file's text, gunzipped first when it is gzip (Config delivers `.json.gz`).
fn decoded_text(file: &SourceFile) -> Result<String, CollectError> {
    let bytes = if file.bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(file.bytes.as_slice())
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| bad(file, format!("gzip data does not decompress: {e}")))?;
        if out.len() as u64 > MAX_FILE_BYTES {
            return Err(bad(file, "decompresses to more than 2 GiB; refusing it"));
        }
        out
    } else {
        file.bytes.clone()
    };
    String::from_utf8(bytes).map_err(|e| bad(file, format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))
}
