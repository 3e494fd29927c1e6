//! Turning parsed files into one batch: evidence, merged resource records,
//! observations, and the gaps the files themselves reveal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use evidra_collector_core::{Batch, CollectError, Evidence, EvidenceSource, ResourceRecord};
use serde_json::Value;

use crate::SourceFile;
use crate::aws_config;
use crate::compact::Compact;
use crate::detect::{Content, Kind, bad};
use crate::locate;
use crate::model::{Cited, ConfigRegion, IamAccount, config_records, iam_records};

const COLLECTOR: &str = "files";

/// Records per batch handed to the sink while an import is turned into records: each
/// batch is freed once stored, so a 100,000-user account is never all records at once.
const RECORDS_PER_BATCH: usize = 10_000;

/// [`write`] into one batch, sorted: what a caller that keeps the import whole sees.
pub fn batch(label: &str, parsed: Vec<(SourceFile, Content)>, collected_at: &str) -> Result<Batch, CollectError> {
    let mut all = Batch::default();
    write(label, parsed, collected_at, &mut |batch| {
        all.append(batch);
        Ok(())
    })?;
    dedup_evidence(&mut all);
    Ok(all)
}

/// Turns `parsed` into evidence, records, observations and gaps, handed to `sink` in
/// batches. Every file is checked before the first batch goes out: a file that stops
/// the import stops it with nothing written. Takes `parsed` by value so that the large
/// parts (Config items, users) move into records.
pub fn write(
    _label: &str,
    parsed: Vec<(SourceFile, Content)>,
    collected_at: &str,
    sink: &mut dyn FnMut(Batch) -> Result<(), CollectError>,
) -> Result<(), CollectError> {
    let mut out = Batch::default();
    let mut iam: BTreeMap<String, IamAccount> = BTreeMap::new();
    let mut config: BTreeMap<(String, String), ConfigRegion> = BTreeMap::new();
    let known = known_accounts(&parsed);
    let mut azure = crate::azure_export::AzureImport::default();
    let mut scans = crate::scanners::Collected::default();
    // Config items' records, their properties still text until every file is checked.
    let mut config_items: Vec<(ResourceRecord, Compact)> = Vec::new();

    for (mut source, content) in parsed {
        let kind = content.kind();
        let path = source.path.to_string_lossy().replace('\\', "/");
        // Azure exports may hold secrets: their evidence is the file with those masked.
        let (bytes, media) = match &content {
            Content::Azure(export) => export.evidence(&source),
            // Otherwise the file's bytes are its evidence: moved, not copied, so a large
            // export is held once. Only its path is read below.
            _ => {
                let media = media_type(&source, content.kind()).to_owned();
                (std::mem::take(&mut source.bytes), media)
            }
        };
        let file = &source;
        let evidence = Evidence::new(
            EvidenceSource {
                collector: COLLECTOR.into(),
                operation: content.kind().operation().into(),
                scope: path.clone(),
            },
            collected_at,
            media,
            bytes,
        );
        match content {
            Content::Azure(export) => azure.add(file, &export, &evidence.sha256)?,
            Content::Scan(_, scan) => scans.add(&scan, &evidence.sha256, &path),
            Content::CredentialReport(report) => {
                let account = single_account(
                    file,
                    report.rows.iter().filter_map(|r| r.account()).map(str::to_owned),
                    &known,
                )?;
                let state = iam.entry(account.clone()).or_default();
                once(file, &mut state.report, &path, "credential report", &account)?;
                for row in report.rows {
                    if row.is_root() {
                        state.root = Some(Cited::new(&evidence.sha256, &path, row.fields()));
                    } else {
                        let user = state.users.entry(row.arn.clone()).or_default();
                        user.0 = Some(Cited::new(&evidence.sha256, &path, row));
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
                // Moved, not copied: at 100,000 users these are most of the import's memory.
                for user in details.users {
                    state.users.entry(user.arn).or_default().1 =
                        Some(Cited::new(&evidence.sha256, &path, user.properties));
                }
                for (kind, list) in [
                    ("aws.iam.group", details.groups),
                    ("aws.iam.role", details.roles),
                    ("aws.iam.policy", details.policies),
                ] {
                    for entity in list {
                        state
                            .others
                            .push((kind, entity.arn, Cited::new(&evidence.sha256, &path, entity.properties)));
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
                let snapshot_id = snapshot.id;
                for item in snapshot.items.into_iter().filter(|i| i.is_current()) {
                    let scope = (item.account.clone(), item.region.clone());
                    let resource_type = aws_config::resource_type(&item.config_type);
                    let region = config.entry(scope.clone()).or_default();
                    region
                        .types
                        .entry(resource_type.clone())
                        .or_default()
                        .insert(evidence.sha256.clone());
                    scopes.insert(scope);
                    let record = ResourceRecord {
                        provider: "aws".into(),
                        account: item.account.clone(),
                        region: item.region.clone(),
                        resource_type,
                        resource_id: item.arn.unwrap_or(item.resource_id),
                        properties: Value::Null,
                        evidence: vec![evidence.sha256.clone()],
                    };
                    config_items.push((record, item.properties));
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
                    region.snapshot = Some((snapshot_id.clone(), Cited::new(&evidence.sha256, &path, ())));
                }
            }
            Content::ConfigRecorders(list) | Content::ConfigRecorderStatus(list) | Content::ConfigList(_, list) => {
                let scope = config_scope(file, &list, &known)?;
                let region = config.entry(scope.clone()).or_default();
                let slot = match kind {
                    Kind::ConfigRecorders => &mut region.recorders,
                    Kind::ConfigRecorderStatus => &mut region.statuses,
                    Kind::DeliveryChannels => &mut region.delivery_channels,
                    Kind::ConfigRules => &mut region.rules,
                    _ => &mut region.compliance,
                };
                if let Some(first) = slot {
                    return Err(bad(
                        file,
                        format!(
                            "a second {} for account {} region {} (the first is {})",
                            kind.operation(),
                            scope.0,
                            scope.1,
                            first.path
                        ),
                    ));
                }
                *slot = Some(Cited::new(&evidence.sha256, &path, list.clone()));
            }
            Content::VirtualMfaDevices(list) => {
                let named = list
                    .iter()
                    .filter_map(|d| d.get("SerialNumber").and_then(Value::as_str))
                    .filter_map(locate::account_of_arn)
                    .map(str::to_owned);
                let account = single_account(file, named.collect::<Vec<_>>().into_iter(), &known)?;
                let state = iam.entry(account.clone()).or_default();
                if let Some(first) = &state.virtual_mfa {
                    return Err(bad(
                        file,
                        format!(
                            "a second virtual MFA device listing for account {account} (the first is {})",
                            first.path
                        ),
                    ));
                }
                state.virtual_mfa = Some(Cited::new(&evidence.sha256, &path, list.clone()));
                observe(&mut state.observed, &["aws.iam.account"], &evidence.sha256);
            }
        }
        out.evidence.push(evidence);
    }

    dedup_evidence(&mut out);
    let mut flush = |out: &mut Batch| {
        if out.resources.len() >= RECORDS_PER_BATCH {
            sink(std::mem::take(out))
        } else {
            Ok(())
        }
    };
    for (mut record, properties) in config_items {
        record.properties = properties.value();
        out.resources.push(record);
        flush(&mut out)?;
    }
    for (account, mut state) in iam {
        let mut users = std::mem::take(&mut state.users);
        iam_records(&account, state, &mut out);
        // The users in slices: a state with users only makes their records and no more.
        while !users.is_empty() {
            let rest = match users.keys().nth(RECORDS_PER_BATCH).cloned() {
                Some(first_of_rest) => users.split_off(&first_of_rest),
                None => BTreeMap::new(),
            };
            let slice = IamAccount {
                users,
                ..IamAccount::default()
            };
            iam_records(&account, slice, &mut out);
            flush(&mut out)?;
            users = rest;
        }
    }
    for ((account, region), state) in config {
        config_records(COLLECTOR, &account, &region, state, &mut out);
    }
    azure.finish(&mut out);
    scans.into_batch(&mut out);
    sink(out)
}

fn media_type(file: &SourceFile, kind: Kind) -> &'static str {
    if file.bytes.starts_with(&[0x1f, 0x8b]) {
        "application/gzip"
    } else if matches!(kind, Kind::CredentialReport | Kind::ProwlerCsv) {
        "text/csv"
    } else if kind == Kind::Sarif {
        "application/sarif+json"
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
fn known_accounts(parsed: &[(SourceFile, Content)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut known: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, content) in parsed {
        let accounts: Vec<String> = match content {
            Content::CredentialReport(r) => r.rows.iter().filter_map(|r| r.account()).map(str::to_owned).collect(),
            Content::AuthorizationDetails(d) => d.accounts(),
            Content::ConfigSnapshot(s) => s.items.iter().map(|i| i.account.clone()).collect(),
            Content::ConfigRecorders(list) | Content::ConfigList(_, list) => {
                list.iter().filter_map(recorder_account).collect()
            }
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
    ["arn", "roleARN", "ConfigRuleArn"]
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

/// The account and region of a per-region Config listing: from its ARNs, else its folders.
fn config_scope(
    file: &SourceFile,
    list: &[Value],
    known: &BTreeMap<String, BTreeSet<String>>,
) -> Result<(String, String), CollectError> {
    let account = single_account(file, list.iter().filter_map(recorder_account), known)?;
    let from_arn = list
        .iter()
        .flat_map(|e| {
            ["arn", "ConfigRuleArn"]
                .into_iter()
                .filter_map(move |k| e.get(k).and_then(Value::as_str))
        })
        .filter_map(locate::region_of_arn)
        .find(|r| locate::looks_like_region(r));
    let region = from_arn
        .map(str::to_owned)
        .or_else(|| locate::region_in_path(&file.path))
        .ok_or_else(|| bad(file, "cannot tell which region this Config listing is for: it names no ARN; put it in a folder named after its region (e.g. config/eu-west-1/)"))?;
    Ok((account, region))
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
