//! The normalised model of an AWS account's IAM and of AWS Config in one region,
//! shared by the files collector and the live AWS collector so that both give rules
//! exactly the same records (docs/resource-types.md).

use std::collections::{BTreeMap, BTreeSet};

use evidra_collector_core::aws::{CONFIG_REGION, CONFIG_RESOURCE_TYPES};
use evidra_collector_core::{Batch, Gap, Observation, ResourceRecord, Scope};
use serde_json::{Map, Value, json};

use crate::compact::Compact;
use crate::{aws_config, credential_report};

/// Evidence-carrying value: what a file said, and the hash of the file.
#[derive(Clone)]
pub struct Cited<T> {
    pub value: T,
    pub sha256: String,
    /// Where it came from: the file path, or the API operation.
    pub path: String,
}

impl<T> Cited<T> {
    pub fn new(sha256: &str, path: &str, value: T) -> Self {
        Self {
            value,
            sha256: sha256.to_owned(),
            path: path.to_owned(),
        }
    }

    /// Where it came from, without the value.
    pub fn cite(&self) -> Cited<()> {
        Cited::new(&self.sha256, &self.path, ())
    }
}

/// A user's credential report row and authorization details entry, either may be missing.
pub type UserParts = (Option<Cited<credential_report::Row>>, Option<Cited<Compact>>);

#[derive(Default)]
pub struct IamAccount {
    pub report: Option<String>,
    pub root: Option<Cited<Value>>,
    pub password_policy: Option<Cited<Option<Value>>>,
    pub summary: Option<Cited<Value>>,
    pub virtual_mfa: Option<Cited<Vec<Value>>>,
    pub users: BTreeMap<String, UserParts>,
    pub others: Vec<(&'static str, String, Cited<Compact>)>,
    pub details: Option<String>,
    pub observed: BTreeMap<&'static str, BTreeSet<String>>,
}

#[derive(Default)]
pub struct ConfigRegion {
    pub recorders: Option<Cited<Vec<Value>>>,
    pub statuses: Option<Cited<Vec<Value>>>,
    pub snapshot: Option<(Option<String>, Cited<()>)>,
    pub delivery_channels: Option<Cited<Vec<Value>>>,
    pub rules: Option<Cited<Vec<Value>>>,
    pub compliance: Option<Cited<Vec<Value>>>,
    pub types: BTreeMap<String, BTreeSet<String>>,
}

fn evidence_of<T>(items: impl IntoIterator<Item = Option<Cited<T>>>) -> Vec<String> {
    let set: BTreeSet<String> = items.into_iter().flatten().map(|c| c.sha256).collect();
    set.into_iter().collect()
}

pub fn iam_records(account: &str, state: IamAccount, out: &mut Batch) {
    let scope = Scope::new("aws", account, "global");
    let record = |resource_type: &str, resource_id: String, properties: Value, evidence: Vec<String>| ResourceRecord {
        provider: "aws".into(),
        account: account.into(),
        region: "global".into(),
        resource_type: resource_type.into(),
        resource_id,
        properties,
        evidence,
    };
    if state.root.is_some() || state.password_policy.is_some() || state.summary.is_some() || state.virtual_mfa.is_some()
    {
        let mut properties = Map::new();
        properties.insert("account_id".into(), json!(account));
        if let Some(root) = &state.root {
            properties.insert("root".into(), root.value.clone());
        }
        if let Some(policy) = &state.password_policy {
            properties.insert("password_policy".into(), policy.value.clone().unwrap_or(Value::Null));
        }
        if let Some(summary) = &state.summary {
            properties.insert("summary".into(), summary.value.clone());
        }
        if let Some(devices) = &state.virtual_mfa {
            properties.insert("virtual_mfa_devices".into(), Value::Array(devices.value.clone()));
        }
        let evidence = evidence_of([
            state.root.as_ref().map(Cited::cite),
            state.password_policy.as_ref().map(Cited::cite),
            state.summary.as_ref().map(Cited::cite),
        ]);
        out.resources.push(record(
            "aws.iam.account",
            account.to_owned(),
            Value::Object(properties),
            evidence,
        ));
    }
    // Each user's parts are kept compact until here (a CSV record, a JSON text) and
    // consumed as its record is made, so a user is never held twice.
    for (arn, (row, details)) in state.users {
        let evidence = evidence_of([row.as_ref().map(Cited::cite), details.as_ref().map(Cited::cite)]);
        let report = row.map(|row| row.value.fields());
        let mut properties = match details.map(|d| d.value.value()) {
            Some(Value::Object(fields)) => fields,
            Some(_) => Map::new(),
            None => {
                let name = report
                    .as_ref()
                    .and_then(|fields| fields.get("user").cloned())
                    .unwrap_or(Value::Null);
                Map::from_iter([("arn".to_owned(), json!(arn)), ("name".to_owned(), name)])
            }
        };
        if let Some(report) = report {
            properties.insert("credential_report".into(), report);
        }
        out.resources
            .push(record("aws.iam.user", arn, Value::Object(properties), evidence));
    }
    for (kind, arn, cited) in state.others {
        out.resources
            .push(record(kind, arn, cited.value.value(), vec![cited.sha256]));
    }
    for (resource_type, evidence) in state.observed {
        out.observations.push(Observation {
            scope: scope.clone(),
            resource_type: resource_type.into(),
            evidence: evidence.into_iter().collect(),
        });
    }
}

/// Records of AWS Config's state in one region; `collector` names the source of the gap
/// recorded when Config is not recording there.
pub fn config_records(collector: &str, account: &str, region: &str, state: ConfigRegion, out: &mut Batch) {
    let scope = Scope::new("aws", account, region);
    let mut properties = Map::new();
    properties.insert("account_id".into(), json!(account));
    properties.insert("region".into(), json!(region));
    let mut evidence = BTreeSet::new();
    let mut recording = false;
    let mut all_supported = false;
    if state.recorders.is_some() || state.statuses.is_some() {
        let recorders = state.recorders.as_ref().map(|c| c.value.clone()).unwrap_or_default();
        let statuses = state.statuses.as_ref().map(|c| c.value.clone()).unwrap_or_default();
        let mut names: BTreeSet<String> = recorders.iter().map(aws_config::name).collect();
        names.extend(statuses.iter().map(aws_config::name));
        let merged: Vec<Value> = names
            .iter()
            .map(|name| {
                let recorder = recorders.iter().find(|r| &aws_config::name(r) == name);
                let status = statuses.iter().find(|s| &aws_config::name(s) == name);
                recording |= status
                    .and_then(|s| s.get("recording"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                all_supported |= recorder
                    .and_then(|r| r.pointer("/recordingGroup/allSupported"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                aws_config::recorder(recorder, status)
            })
            .collect();
        properties.insert("recorders".into(), Value::Array(merged));
        evidence.extend(state.recorders.iter().map(|c| c.sha256.clone()));
        evidence.extend(state.statuses.iter().map(|c| c.sha256.clone()));
    }
    if let Some(channels) = &state.delivery_channels {
        properties.insert("delivery_channels".into(), Value::Array(channels.value.clone()));
        evidence.insert(channels.sha256.clone());
    }
    rule_records(account, region, &state, out);
    match &state.snapshot {
        Some((id, cited)) => {
            properties.insert("snapshot".into(), json!({"id": id, "file": cited.path}));
            evidence.insert(cited.sha256.clone());
        }
        None => {
            properties.insert("snapshot".into(), Value::Null);
        }
    }
    let evidence: Vec<String> = evidence.into_iter().collect();
    out.resources.push(ResourceRecord {
        provider: "aws".into(),
        account: account.into(),
        region: region.into(),
        resource_type: CONFIG_REGION.into(),
        resource_id: format!("arn:aws:config:{region}:{account}:"),
        properties: Value::Object(properties),
        evidence: evidence.clone(),
    });
    out.observations.push(Observation {
        scope: scope.clone(),
        resource_type: CONFIG_REGION.into(),
        evidence: evidence.clone(),
    });
    match &state.snapshot {
        Some((_, snapshot)) => {
            // A snapshot of a recorder that records every supported type proves absence
            // too: no bucket in it means no bucket in the region.
            let mut types = state.types;
            if all_supported {
                for t in CONFIG_RESOURCE_TYPES {
                    types.entry(t.to_owned()).or_default().insert(snapshot.sha256.clone());
                }
            }
            for (resource_type, ev) in types {
                out.observations.push(Observation {
                    scope: scope.clone(),
                    resource_type,
                    evidence: ev.into_iter().collect(),
                });
            }
        }
        None if state.recorders.is_some() && !recording => out.gaps.push(Gap {
            collector: collector.into(),
            scope,
            operation: "config:ListDiscoveredResources".into(),
            error: "no configuration items: Config not recording".into(),
            resource_types: CONFIG_RESOURCE_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        }),
        None => {}
    }
}

/// One `aws.config.rule` per Config rule, with its compliance (null: no evaluation yet)
/// when the compliance listing was read.
fn rule_records(account: &str, region: &str, state: &ConfigRegion, out: &mut Batch) {
    let Some(rules) = &state.rules else { return };
    let scope = Scope::new("aws", account, region);
    for rule in &rules.value {
        let name = rule.get("ConfigRuleName").and_then(Value::as_str).unwrap_or_default();
        let id = rule
            .get("ConfigRuleArn")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("arn:aws:config:{region}:{account}:config-rule/{name}"));
        let mut properties = rule.as_object().cloned().unwrap_or_default();
        let mut evidence = vec![rules.sha256.clone()];
        if let Some(compliance) = &state.compliance {
            let found = compliance
                .value
                .iter()
                .find(|c| c.get("ConfigRuleName").and_then(Value::as_str) == Some(name));
            properties.insert(
                "compliance".into(),
                found.and_then(|c| c.get("Compliance")).cloned().unwrap_or(Value::Null),
            );
            evidence.push(compliance.sha256.clone());
        }
        evidence.sort();
        evidence.dedup();
        out.resources.push(ResourceRecord {
            provider: "aws".into(),
            account: account.into(),
            region: region.into(),
            resource_type: "aws.config.rule".into(),
            resource_id: id,
            properties: Value::Object(properties),
            evidence,
        });
    }
    out.observations.push(Observation {
        scope,
        resource_type: "aws.config.rule".into(),
        evidence: vec![rules.sha256.clone()],
    });
}
