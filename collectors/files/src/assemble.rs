//! Turning parsed files into one batch: evidence, merged resource records,
//! observations, and the gaps the files themselves reveal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use evidra_collector_core::aws::{CONFIG_REGION, CONFIG_RESOURCE_TYPES};
use evidra_collector_core::{Batch, CollectError, Evidence, EvidenceSource, Gap, Observation, ResourceRecord, Scope};
use serde_json::{Map, Value, json};

use crate::SourceFile;
use crate::aws_config;
use crate::detect::{Content, Kind, bad};
use crate::locate;

const COLLECTOR: &str = "files";

/// Evidence-carrying value: what a file said, and the hash of the file.
#[derive(Clone)]
struct Cited<T> {
    value: T,
    sha256: String,
    path: String,
}

impl<T> Cited<T> {
    fn new(sha256: &str, path: &str, value: T) -> Self {
        Self {
            value,
            sha256: sha256.to_owned(),
            path: path.to_owned(),
        }
    }
}

/// A user's credential report row and authorization details entry, either may be missing.
type UserParts = (Option<Cited<Value>>, Option<Cited<Value>>);

#[derive(Default)]
struct IamAccount {
    report: Option<String>,
    root: Option<Cited<Value>>,
    password_policy: Option<Cited<Option<Value>>>,
    summary: Option<Cited<Value>>,
    users: BTreeMap<String, UserParts>,
    others: Vec<(&'static str, String, Cited<Value>)>,
    details: Option<String>,
    observed: BTreeMap<&'static str, BTreeSet<String>>,
}

#[derive(Default)]
struct ConfigRegion {
    recorders: Option<Cited<Vec<Value>>>,
    statuses: Option<Cited<Vec<Value>>>,
    snapshot: Option<(Option<String>, Cited<()>)>,
    types: BTreeMap<String, BTreeSet<String>>,
}

pub fn batch(_label: &str, parsed: &[(&SourceFile, Content)], collected_at: &str) -> Result<Batch, CollectError> {
    let mut out = Batch::default();
    let mut iam: BTreeMap<String, IamAccount> = BTreeMap::new();
    let mut config: BTreeMap<(String, String), ConfigRegion> = BTreeMap::new();
    let known = known_accounts(parsed);

    for (file, content) in parsed {
        let path = file.path.to_string_lossy().replace('\\', "/");
        let evidence = Evidence::new(
            EvidenceSource {
                collector: COLLECTOR.into(),
                operation: content.kind().operation().into(),
                scope: path.clone(),
            },
            collected_at,
            media_type(file, content.kind()),
            file.bytes.clone(),
        );
        match content {
            Content::CredentialReport(report) => {
                let account = single_account(
                    file,
                    report.rows.iter().filter_map(|r| r.account()).map(str::to_owned),
                    &known,
                )?;
                let state = iam.entry(account.clone()).or_default();
                once(file, &mut state.report, &path, "credential report", &account)?;
                for row in &report.rows {
                    if row.is_root() {
                        state.root = Some(Cited::new(&evidence.sha256, &path, row.fields.clone()));
                    } else {
                        state.users.entry(row.arn.clone()).or_default().0 =
                            Some(Cited::new(&evidence.sha256, &path, row.fields.clone()));
                    }
                }
                observe(
                    &mut state.observed,
                    &["aws.iam.user", "aws.iam.account"],
                    &evidence.sha256,
                );
            }
            Content::AuthorizationDetails(details) => {
                let account = single_account(file, details.accounts().into_iter(), &known)?;
                let state = iam.entry(account.clone()).or_default();
                once(
                    file,
                    &mut state.details,
                    &path,
                    "authorization details export",
                    &account,
                )?;
                for user in &details.users {
                    state.users.entry(user.arn.clone()).or_default().1 =
                        Some(Cited::new(&evidence.sha256, &path, user.properties.clone()));
                }
                for (kind, list) in [
                    ("aws.iam.group", &details.groups),
                    ("aws.iam.role", &details.roles),
                    ("aws.iam.policy", &details.policies),
                ] {
                    for entity in list {
                        state.others.push((
                            kind,
                            entity.arn.clone(),
                            Cited::new(&evidence.sha256, &path, entity.properties.clone()),
                        ));
                    }
                }
                observe(
                    &mut state.observed,
                    &["aws.iam.user", "aws.iam.group", "aws.iam.role", "aws.iam.policy"],
                    &evidence.sha256,
                );
            }
            Content::PasswordPolicy(policy) => {
                let account = single_account(file, std::iter::empty(), &known)?;
                let state = iam.entry(account.clone()).or_default();
                if let Some(first) = &state.password_policy {
                    return Err(bad(
                        file,
                        format!(
                            "a second password policy for account {account} (the first is {})",
                            first.path
                        ),
                    ));
                }
                state.password_policy = Some(Cited::new(&evidence.sha256, &path, policy.clone()));
                observe(&mut state.observed, &["aws.iam.account"], &evidence.sha256);
            }
            Content::AccountSummary(summary) => {
                let account = single_account(file, std::iter::empty(), &known)?;
                let state = iam.entry(account.clone()).or_default();
                if let Some(first) = &state.summary {
                    return Err(bad(
                        file,
                        format!(
                            "a second account summary for account {account} (the first is {})",
                            first.path
                        ),
                    ));
                }
                state.summary = Some(Cited::new(&evidence.sha256, &path, summary.clone()));
                observe(&mut state.observed, &["aws.iam.account"], &evidence.sha256);
            }
            Content::ConfigSnapshot(snapshot) => {
                let mut scopes = BTreeSet::new();
                for item in snapshot.items.iter().filter(|i| i.is_current()) {
                    let scope = (item.account.clone(), item.region.clone());
                    let resource_type = aws_config::resource_type(&item.config_type);
                    let region = config.entry(scope.clone()).or_default();
                    region
                        .types
                        .entry(resource_type.clone())
                        .or_default()
                        .insert(evidence.sha256.clone());
                    scopes.insert(scope);
                    out.resources.push(ResourceRecord {
                        provider: "aws".into(),
                        account: item.account.clone(),
                        region: item.region.clone(),
                        resource_type,
                        resource_id: item.arn.clone().unwrap_or_else(|| item.resource_id.clone()),
                        properties: item.properties.clone(),
                        evidence: vec![evidence.sha256.clone()],
                    });
                }
                if scopes.is_empty() {
                    // An empty snapshot still proves Config delivered for its folder's scope.
                    let account = single_account(file, std::iter::empty(), &known)?;
                    let region = locate::region_in_path(&file.path)
                        .ok_or_else(|| bad(file, "an empty configuration snapshot names no region: put it in a folder named after its region"))?;
                    scopes.insert((account, region));
                }
                for scope in scopes {
                    let region = config.entry(scope.clone()).or_default();
                    if let Some((_, first)) = &region.snapshot {
                        return Err(bad(
                            file,
                            format!(
                                "a second configuration snapshot for account {} region {} (the first is {}); import one snapshot per account and region",
                                scope.0, scope.1, first.path
                            ),
                        ));
                    }
                    region.snapshot = Some((snapshot.id.clone(), Cited::new(&evidence.sha256, &path, ())));
                }
            }
            Content::ConfigRecorders(list) | Content::ConfigRecorderStatus(list) => {
                let scope = recorder_scope(file, list, &known)?;
                let region = config.entry(scope.clone()).or_default();
                let slot = if content.kind() == Kind::ConfigRecorders {
                    &mut region.recorders
                } else {
                    &mut region.statuses
                };
                if let Some(first) = slot {
                    return Err(bad(
                        file,
                        format!(
                            "a second {} for account {} region {} (the first is {})",
                            content.kind().operation(),
                            scope.0,
                            scope.1,
                            first.path
                        ),
                    ));
                }
                *slot = Some(Cited::new(&evidence.sha256, &path, list.clone()));
            }
        }
        out.evidence.push(evidence);
    }

    for (account, state) in iam {
        iam_records(&account, state, &mut out);
    }
    for ((account, region), state) in config {
        config_records(&account, &region, state, &mut out);
    }
    dedup_evidence(&mut out);
    Ok(out)
}

fn media_type(file: &SourceFile, kind: Kind) -> &'static str {
    if file.bytes.starts_with(&[0x1f, 0x8b]) {
        "application/gzip"
    } else if kind == Kind::CredentialReport {
        "text/csv"
    } else {
        "application/json"
    }
}

fn once(
    file: &SourceFile,
    slot: &mut Option<String>,
    path: &str,
    what: &str,
    account: &str,
) -> Result<(), CollectError> {
    if let Some(first) = slot {
        return Err(bad(
            file,
            format!("a second {what} for account {account} (the first is {first})"),
        ));
    }
    *slot = Some(path.to_owned());
    Ok(())
}

fn observe(observed: &mut BTreeMap<&'static str, BTreeSet<String>>, types: &[&'static str], sha256: &str) {
    for t in types {
        observed.entry(t).or_default().insert(sha256.to_owned());
    }
}

/// Accounts each folder's files name, for files that name none themselves.
fn known_accounts(parsed: &[(&SourceFile, Content)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut known: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, content) in parsed {
        let accounts: Vec<String> = match content {
            Content::CredentialReport(r) => r.rows.iter().filter_map(|r| r.account()).map(str::to_owned).collect(),
            Content::AuthorizationDetails(d) => d.accounts(),
            Content::ConfigSnapshot(s) => s.items.iter().map(|i| i.account.clone()).collect(),
            Content::ConfigRecorders(list) => list.iter().filter_map(recorder_account).collect(),
            _ => Vec::new(),
        };
        let dir = file
            .path
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        known
            .entry(dir)
            .or_default()
            .extend(accounts.into_iter().filter(|a| locate::is_account_id(a)));
    }
    known
}

fn recorder_account(entry: &Value) -> Option<String> {
    ["arn", "roleARN"]
        .iter()
        .filter_map(|k| entry.get(*k).and_then(Value::as_str))
        .filter_map(locate::account_of_arn)
        .find(|a| locate::is_account_id(a))
        .map(str::to_owned)
}

/// The one account `file` belongs to: named by its content, by a folder name, or by
/// the other files of its folder (nearest folder first).
fn single_account(
    file: &SourceFile,
    named: impl Iterator<Item = String>,
    known: &BTreeMap<String, BTreeSet<String>>,
) -> Result<String, CollectError> {
    let named: BTreeSet<String> = named.filter(|a| locate::is_account_id(a)).collect();
    match named.len() {
        1 => return Ok(named.into_iter().next().unwrap_or_default()),
        0 => {}
        _ => {
            return Err(bad(
                file,
                format!("names several AWS accounts ({named:?}); export one account per file"),
            ));
        }
    }
    if let Some(account) = locate::account_in_path(&file.path) {
        return Ok(account);
    }
    let mut dir: Option<&Path> = file.path.parent();
    while let Some(d) = dir {
        let key = d.to_string_lossy();
        let here: BTreeSet<&String> = known
            .iter()
            .filter(|(k, _)| k.as_str() == key || k.starts_with(&format!("{key}/")) || key.is_empty())
            .flat_map(|(_, v)| v)
            .collect();
        match here.len() {
            1 => return Ok(here.into_iter().next().cloned().unwrap_or_default()),
            0 => dir = d.parent(),
            _ => break,
        }
    }
    Err(bad(
        file,
        "cannot tell which AWS account this file belongs to: put it in a folder named after the 12-digit account ID, or beside that account's credential report",
    ))
}

fn recorder_scope(
    file: &SourceFile,
    list: &[Value],
    known: &BTreeMap<String, BTreeSet<String>>,
) -> Result<(String, String), CollectError> {
    let account = single_account(file, list.iter().filter_map(recorder_account), known)?;
    let from_arn = list
        .iter()
        .filter_map(|e| e.get("arn").and_then(Value::as_str))
        .filter_map(locate::region_of_arn)
        .find(|r| locate::looks_like_region(r));
    let region = from_arn
        .map(str::to_owned)
        .or_else(|| locate::region_in_path(&file.path))
        .ok_or_else(|| bad(file, "cannot tell which region this recorder listing is for: it has no `arn`; put it in a folder named after its region (e.g. config/eu-west-1/)"))?;
    Ok((account, region))
}

fn evidence_of<T>(items: impl IntoIterator<Item = Option<Cited<T>>>) -> Vec<String> {
    let set: BTreeSet<String> = items.into_iter().flatten().map(|c| c.sha256).collect();
    set.into_iter().collect()
}

fn iam_records(account: &str, state: IamAccount, out: &mut Batch) {
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
    if state.root.is_some() || state.password_policy.is_some() || state.summary.is_some() {
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
        let evidence = evidence_of([
            state.root.clone().map(|c| Cited {
                value: (),
                sha256: c.sha256,
                path: c.path,
            }),
            state.password_policy.clone().map(|c| Cited {
                value: (),
                sha256: c.sha256,
                path: c.path,
            }),
            state.summary.clone().map(|c| Cited {
                value: (),
                sha256: c.sha256,
                path: c.path,
            }),
        ]);
        out.resources.push(record(
            "aws.iam.account",
            account.to_owned(),
            Value::Object(properties),
            evidence,
        ));
    }
    for (arn, (row, details)) in state.users {
        let mut properties = match &details {
            Some(d) => d.value.as_object().cloned().unwrap_or_default(),
            None => {
                let name = row
                    .as_ref()
                    .and_then(|r| r.value.get("user").cloned())
                    .unwrap_or(Value::Null);
                Map::from_iter([("arn".to_owned(), json!(arn)), ("name".to_owned(), name)])
            }
        };
        if let Some(row) = &row {
            properties.insert("credential_report".into(), row.value.clone());
        }
        let evidence = evidence_of([row, details]);
        out.resources
            .push(record("aws.iam.user", arn, Value::Object(properties), evidence));
    }
    for (kind, arn, cited) in state.others {
        out.resources.push(record(kind, arn, cited.value, vec![cited.sha256]));
    }
    for (resource_type, evidence) in state.observed {
        out.observations.push(Observation {
            scope: scope.clone(),
            resource_type: resource_type.into(),
            evidence: evidence.into_iter().collect(),
        });
    }
}

fn config_records(account: &str, region: &str, state: ConfigRegion, out: &mut Batch) {
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
            collector: COLLECTOR.into(),
            scope,
            operation: "config:ListDiscoveredResources".into(),
            error: "no configuration items: Config not recording".into(),
            resource_types: CONFIG_RESOURCE_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        }),
        None => {}
    }
}

/// The same file imported twice under two names is one blob; keep one record per path.
fn dedup_evidence(out: &mut Batch) {
    out.evidence
        .sort_by(|a, b| (&a.sha256, &a.source).cmp(&(&b.sha256, &b.source)));
    out.evidence
        .dedup_by(|a, b| a.sha256 == b.sha256 && a.source == b.source);
    out.resources.sort_by(|a, b| {
        (&a.resource_type, &a.account, &a.region, &a.resource_id).cmp(&(
            &b.resource_type,
            &b.account,
            &b.region,
            &b.resource_id,
        ))
    });
    out.observations.sort();
    out.gaps.sort();
}
