//! AWS Config in one region: recorders and their status, delivery channels, rules and
//! their compliance, conformance packs, and the configuration items of the resource
//! types the controls read (`ListDiscoveredResources` + `BatchGetResourceConfig`, 100 a
//! call). Config is the universal resource source: no further service SDK is needed.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_config::Client;
use aws_sdk_config::types::{ResourceKey, ResourceType};
use evidra_collector_core::aws::{CONFIG_REGION, CONFIG_RESOURCE_TYPES};
use evidra_collector_core::{Observation, ResourceRecord};
use evidra_collector_files::aws_config;
use evidra_collector_files::model::{Cited, ConfigRegion};
use serde_json::{Value, json};

use crate::gap::{describe, gap};
use crate::iam::date;
use crate::reader::Reader;

/// Config's names for [`CONFIG_RESOURCE_TYPES`], in the same order.
pub const CONFIG_TYPES: [&str; 12] = [
    "AWS::CloudTrail::Trail",
    "AWS::EC2::Instance",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Volume",
    "AWS::EC2::VPC",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::RDS::DBInstance",
    "AWS::S3::AccountPublicAccessBlock",
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
];

pub const RULE: &str = "aws.config.rule";
pub const PACK: &str = "aws.config.conformance_pack";

pub async fn collect(reader: &mut Reader, client: &Client) -> ConfigRegion {
    let mut state = ConfigRegion::default();
    recorders(reader, client, &mut state).await;
    delivery_channels(reader, client, &mut state).await;
    rules(reader, client, &mut state).await;
    conformance_packs(reader, client).await;
    let recording = state
        .statuses
        .as_ref()
        .is_some_and(|s| s.value.iter().any(|r| r["recording"] == true));
    if recording {
        resources(reader, client).await;
    } else if state.statuses.is_none() {
        let err = "no configuration items: the recorder status could not be read".to_owned();
        let types: Vec<&str> = CONFIG_RESOURCE_TYPES.to_vec();
        reader.gap(gap(
            reader.collector,
            &reader.scope.clone(),
            "config:ListDiscoveredResources",
            err,
            &types,
        ));
    }
    state
}

async fn recorders(reader: &mut Reader, client: &Client, state: &mut ConfigRegion) {
    const OP: &str = "config:DescribeConfigurationRecorders";
    reader.pace().await;
    let result = client.describe_configuration_recorders().send().await;
    let sha = reader.keep(OP).unwrap_or_default();
    match result {
        Ok(out) => {
            let list = out
                .configuration_recorders()
                .iter()
                .map(|r| {
                    json!({
                        "arn": r.arn(), "name": r.name(), "roleARN": r.role_arn(),
                        "recordingGroup": r.recording_group().map(|g| json!({
                            "allSupported": g.all_supported(), "includeGlobalResourceTypes": g.include_global_resource_types(),
                            "resourceTypes": g.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                        })),
                        "recordingMode": r.recording_mode().map(|m| json!({"recordingFrequency": m.recording_frequency().as_str()})),
                    })
                })
                .collect();
            state.recorders = Some(Cited::new(&sha, OP, list));
        }
        Err(e) => reader.gap(gap(
            reader.collector,
            &reader.scope.clone(),
            OP,
            describe(&e),
            &[CONFIG_REGION],
        )),
    }
    const STATUS: &str = "config:DescribeConfigurationRecorderStatus";
    reader.pace().await;
    let result = client.describe_configuration_recorder_status().send().await;
    let sha = reader.keep(STATUS).unwrap_or_default();
    match result {
        Ok(out) => {
            let list = out
                .configuration_recorders_status()
                .iter()
                .map(|s| {
                    json!({
                        "arn": s.arn(), "name": s.name(), "recording": s.recording(),
                        "lastStatus": s.last_status().map(|x| x.as_str()), "lastErrorCode": s.last_error_code(),
                        "lastErrorMessage": s.last_error_message(), "lastStartTime": date(s.last_start_time()),
                        "lastStopTime": date(s.last_stop_time()), "lastStatusChangeTime": date(s.last_status_change_time()),
                    })
                })
                .collect();
            state.statuses = Some(Cited::new(&sha, STATUS, list));
        }
        Err(e) => reader.gap(gap(
            reader.collector,
            &reader.scope.clone(),
            STATUS,
            describe(&e),
            &[CONFIG_REGION],
        )),
    }
}

async fn delivery_channels(reader: &mut Reader, client: &Client, state: &mut ConfigRegion) {
    const OP: &str = "config:DescribeDeliveryChannels";
    reader.pace().await;
    let result = client.describe_delivery_channels().send().await;
    let sha = reader.keep(OP).unwrap_or_default();
    match result {
        Ok(out) => {
            let list = out
                .delivery_channels()
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name(), "s3BucketName": c.s3_bucket_name(), "s3KeyPrefix": c.s3_key_prefix(),
                        "s3KmsKeyArn": c.s3_kms_key_arn(), "snsTopicARN": c.sns_topic_arn(),
                        "configSnapshotDeliveryProperties": c.config_snapshot_delivery_properties().map(|p| json!({
                            "deliveryFrequency": p.delivery_frequency().map(|f| f.as_str()),
                        })),
                    })
                })
                .collect();
            state.delivery_channels = Some(Cited::new(&sha, OP, list));
        }
        Err(e) => reader.gap(gap(
            reader.collector,
            &reader.scope.clone(),
            OP,
            describe(&e),
            &[CONFIG_REGION],
        )),
    }
}

async fn rules(reader: &mut Reader, client: &Client, state: &mut ConfigRegion) {
    const OP: &str = "config:DescribeConfigRules";
    let pages = reader
        .pages(
            OP,
            |token| client.describe_config_rules().set_next_token(token).send(),
            |out| out.next_token().map(str::to_owned),
        )
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(error) => return reader.gap(gap(reader.collector, &reader.scope.clone(), OP, error, &[RULE])),
    };
    let first_sha = pages.first().map(|(sha, _)| sha.clone());
    let list: Vec<Value> = pages
        .iter()
        .flat_map(|(_, out)| out.config_rules())
        .map(|r| {
            json!({
                "ConfigRuleName": r.config_rule_name(), "ConfigRuleArn": r.config_rule_arn(), "ConfigRuleId": r.config_rule_id(),
                "Description": r.description(), "ConfigRuleState": r.config_rule_state().map(|s| s.as_str()),
                "Source": r.source().map(|s| json!({"Owner": s.owner().as_str(), "SourceIdentifier": s.source_identifier()})),
                "MaximumExecutionFrequency": r.maximum_execution_frequency().map(|f| f.as_str()),
            })
        })
        .collect();
    let no_rules = list.is_empty();
    state.rules = Some(Cited::new(&first_sha.unwrap_or_default(), OP, list));
    if no_rules {
        return;
    }
    const COMPLIANCE: &str = "config:DescribeComplianceByConfigRule";
    let pages = reader
        .pages(
            COMPLIANCE,
            |token| client.describe_compliance_by_config_rule().set_next_token(token).send(),
            |out| out.next_token().map(str::to_owned),
        )
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(error) => return reader.gap(gap(reader.collector, &reader.scope.clone(), COMPLIANCE, error, &[RULE])),
    };
    let first_sha = pages.first().map(|(sha, _)| sha.clone());
    let compliance: Vec<Value> = pages
        .iter()
        .flat_map(|(_, out)| out.compliance_by_config_rules())
        .map(|c| {
            json!({
                "ConfigRuleName": c.config_rule_name(),
                "Compliance": c.compliance().map(|x| json!({
                    "ComplianceType": x.compliance_type().map(|t| t.as_str()),
                    "ComplianceContributorCount": x.compliance_contributor_count().map(|n| json!({
                        "CappedCount": n.capped_count(), "CapExceeded": n.cap_exceeded(),
                    })),
                })),
            })
        })
        .collect();
    state.compliance = Some(Cited::new(&first_sha.unwrap_or_default(), COMPLIANCE, compliance));
}

/// Conformance packs and their compliance summary, as `aws.config.conformance_pack`.
async fn conformance_packs(reader: &mut Reader, client: &Client) {
    const OP: &str = "config:DescribeConformancePacks";
    reader.pace().await;
    let result = client.describe_conformance_packs().send().await;
    let list_sha = reader.keep(OP).unwrap_or_default();
    let packs: Vec<(String, String)> = match result {
        Ok(out) => out
            .conformance_pack_details()
            .iter()
            .map(|p| {
                (
                    p.conformance_pack_name().to_owned(),
                    p.conformance_pack_arn().to_owned(),
                )
            })
            .collect(),
        Err(e) => return reader.gap(gap(reader.collector, &reader.scope.clone(), OP, describe(&e), &[PACK])),
    };
    const SUMMARY: &str = "config:GetConformancePackComplianceSummary";
    let mut summaries: BTreeMap<String, (Value, String)> = BTreeMap::new();
    for chunk in packs.chunks(5) {
        reader.pace().await;
        let names: Vec<String> = chunk.iter().map(|(n, _)| n.clone()).collect();
        let result = client
            .get_conformance_pack_compliance_summary()
            .set_conformance_pack_names(Some(names))
            .send()
            .await;
        let sha = reader.keep(SUMMARY).unwrap_or_default();
        match result {
            Ok(out) => {
                for s in out.conformance_pack_compliance_summary_list() {
                    let status =
                        json!({"ConformancePackComplianceStatus": s.conformance_pack_compliance_status().as_str()});
                    summaries.insert(s.conformance_pack_name().to_owned(), (status, sha.clone()));
                }
            }
            Err(e) => {
                return reader.gap(gap(
                    reader.collector,
                    &reader.scope.clone(),
                    SUMMARY,
                    describe(&e),
                    &[PACK],
                ));
            }
        }
    }
    let scope = reader.scope.clone();
    for (name, arn) in packs {
        let (compliance, sha) = summaries.remove(&name).unwrap_or((Value::Null, list_sha.clone()));
        let mut evidence: Vec<String> = BTreeSet::from([list_sha.clone(), sha]).into_iter().collect();
        evidence.retain(|s| !s.is_empty());
        reader.batch.resources.push(ResourceRecord {
            provider: scope.provider.clone(),
            account: scope.account.clone(),
            region: scope.region.clone(),
            resource_type: PACK.into(),
            resource_id: arn,
            properties: json!({"ConformancePackName": name, "compliance": compliance}),
            evidence,
        });
    }
    reader.batch.observations.push(Observation {
        scope,
        resource_type: PACK.into(),
        evidence: vec![list_sha],
    });
}

/// Configuration items of the types the controls read: counts first (one call) so that
/// absent types cost nothing, then one listing per present type and one batch read per
/// 100 resources.
async fn resources(reader: &mut Reader, client: &Client) {
    const COUNTS: &str = "config:GetDiscoveredResourceCounts";
    reader.pace().await;
    let counts = client
        .get_discovered_resource_counts()
        .set_resource_types(Some(CONFIG_TYPES.iter().map(|t| (*t).to_owned()).collect()))
        .send()
        .await;
    let counts_sha = reader.keep(COUNTS);
    // Where counting is not possible, list every type: more calls, same evidence.
    let present: BTreeMap<String, i64> = match &counts {
        Ok(out) => out
            .resource_counts()
            .iter()
            .filter_map(|c| Some((c.resource_type()?.as_str().to_owned(), c.count())))
            .collect(),
        Err(_) => CONFIG_TYPES.iter().map(|t| ((*t).to_owned(), 1)).collect(),
    };
    let scope = reader.scope.clone();
    for (config_type, evidra_type) in CONFIG_TYPES.iter().zip(CONFIG_RESOURCE_TYPES) {
        if present.get(*config_type).copied().unwrap_or(0) == 0 {
            // Counted and absent: positive evidence that there is none.
            if let Some(sha) = counts.as_ref().ok().and(counts_sha.clone()) {
                reader.batch.observations.push(Observation {
                    scope: scope.clone(),
                    resource_type: evidra_type.into(),
                    evidence: vec![sha],
                });
            }
            continue;
        }
        list_and_read(reader, client, config_type, evidra_type).await;
    }
}

async fn list_and_read(reader: &mut Reader, client: &Client, config_type: &str, evidra_type: &str) {
    const LIST: &str = "config:ListDiscoveredResources";
    const BATCH: &str = "config:BatchGetResourceConfig";
    let scope = reader.scope.clone();
    let pages = reader
        .pages(
            LIST,
            |token| {
                client
                    .list_discovered_resources()
                    .resource_type(ResourceType::from(config_type))
                    .limit(100)
                    .set_next_token(token)
                    .send()
            },
            |out| out.next_token().map(str::to_owned),
        )
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(error) => return reader.gap(gap(reader.collector, &scope, LIST, error, &[evidra_type])),
    };
    let shas: BTreeSet<String> = pages
        .iter()
        .map(|(sha, _)| sha.clone())
        .filter(|s| !s.is_empty())
        .collect();
    let keys: Vec<Option<ResourceKey>> = pages
        .iter()
        .flat_map(|(_, out)| out.resource_identifiers())
        .map(|id| match (id.resource_type(), id.resource_id()) {
            (Some(resource_type), Some(resource_id)) => ResourceKey::builder()
                .resource_type(resource_type.clone())
                .resource_id(resource_id)
                .build()
                .ok(),
            _ => None,
        })
        .collect();
    let mut pending: Vec<ResourceKey> = keys.into_iter().flatten().collect();
    let mut retried = false;
    while !pending.is_empty() {
        let mut unprocessed = Vec::new();
        for chunk in pending.chunks(100) {
            reader.pace().await;
            let result = client
                .batch_get_resource_config()
                .set_resource_keys(Some(chunk.to_vec()))
                .send()
                .await;
            let sha = reader.keep(BATCH).unwrap_or_default();
            let out = match result {
                Ok(out) => out,
                Err(e) => return reader.gap(gap(reader.collector, &scope, BATCH, describe(&e), &[evidra_type])),
            };
            unprocessed.extend(out.unprocessed_resource_keys().iter().cloned());
            for item in out.base_configuration_items() {
                let json = json!({
                    "version": item.version(), "accountId": item.account_id(),
                    "configurationItemCaptureTime": date(item.configuration_item_capture_time()),
                    "configurationItemStatus": item.configuration_item_status().map(|s| s.as_str()),
                    "configurationStateId": item.configuration_state_id(), "ARN": item.arn(),
                    "resourceType": item.resource_type().map(|t| t.as_str()), "resourceId": item.resource_id(),
                    "resourceName": item.resource_name(), "awsRegion": item.aws_region(),
                    "availabilityZone": item.availability_zone(), "resourceCreationTime": date(item.resource_creation_time()),
                    "configuration": item.configuration(), "supplementaryConfiguration": item.supplementary_configuration(),
                });
                let Ok(item) = aws_config::item(json) else { continue };
                if !item.is_current() {
                    continue;
                }
                let mut evidence: Vec<String> = shas.iter().cloned().chain([sha.clone()]).collect();
                evidence.sort();
                evidence.dedup();
                reader.batch.resources.push(ResourceRecord {
                    provider: "aws".into(),
                    account: item.account.clone(),
                    region: item.region.clone(),
                    resource_type: evidra_type.into(),
                    resource_id: item.arn.clone().unwrap_or_else(|| item.resource_id.clone()),
                    properties: item.properties,
                    evidence,
                });
            }
        }
        if unprocessed.is_empty() {
            break;
        }
        if retried {
            let err = format!(
                "Unprocessed: {} resources were not returned after a retry",
                unprocessed.len()
            );
            return reader.gap(gap(reader.collector, &scope, BATCH, err, &[evidra_type]));
        }
        retried = true;
        pending = unprocessed;
    }
    reader.batch.observations.push(Observation {
        scope,
        resource_type: evidra_type.into(),
        evidence: shas.into_iter().collect(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_type_names_match_the_shared_list() {
        for (config, evidra) in CONFIG_TYPES.iter().zip(CONFIG_RESOURCE_TYPES) {
            assert_eq!(aws_config::resource_type(config), evidra);
        }
    }
}
