//! IAM, read in pages and never per user: the credential report, the account
//! authorization details, the password policy, the account summary and the virtual
//! MFA devices. A 1,000-user account takes about ten requests.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{AttachedPolicy, PolicyDetail, Tag};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use evidra_collector_files::model::{Cited, IamAccount};
use evidra_collector_files::{credential_report, iam_details};
use serde_json::{Value, json};

use crate::gap::{describe, gap};
use crate::reader::Reader;

const USER: &str = "aws.iam.user";
const ACCOUNT: &str = "aws.iam.account";

pub fn date(d: Option<&DateTime>) -> Value {
    d.and_then(|d| d.fmt(Format::DateTime).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn attached(list: &[AttachedPolicy]) -> Value {
    list.iter()
        .map(|p| json!({"PolicyName": p.policy_name(), "PolicyArn": p.policy_arn()}))
        .collect()
}

fn inline(list: &[PolicyDetail]) -> Value {
    list.iter()
        .map(|p| json!({"PolicyName": p.policy_name(), "PolicyDocument": p.policy_document()}))
        .collect()
}

fn tags(list: &[Tag]) -> Value {
    list.iter()
        .map(|t| json!({"Key": t.key(), "Value": t.value()}))
        .collect()
}

pub async fn collect(reader: &mut Reader, client: &Client) -> IamAccount {
    let mut state = IamAccount::default();
    credential_report(reader, client, &mut state).await;
    authorization_details(reader, client, &mut state).await;
    password_policy(reader, client, &mut state).await;
    summary(reader, client, &mut state).await;
    virtual_mfa(reader, client, &mut state).await;
    state
}

async fn credential_report(reader: &mut Reader, client: &Client, state: &mut IamAccount) {
    const OP: &str = "iam:GetCredentialReport";
    // Generate until COMPLETE; AWS builds the report in seconds and keeps it 4 hours.
    let mut delay = Duration::from_millis(500);
    for attempt in 0.. {
        reader.pace().await;
        match client.generate_credential_report().send().await {
            Ok(out) if out.state().is_some_and(|s| s.as_str() == "COMPLETE") => break,
            Ok(_) if attempt < 20 => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Ok(_) => {
                let err = "ReportInProgress: the credential report was not ready after 20 attempts".to_owned();
                reader.gap(gap(
                    reader.collector,
                    &reader.scope.clone(),
                    "iam:GenerateCredentialReport",
                    err,
                    &[USER, ACCOUNT],
                ));
                return;
            }
            Err(e) => {
                reader.gap(gap(
                    reader.collector,
                    &reader.scope.clone(),
                    "iam:GenerateCredentialReport",
                    describe(&e),
                    &[USER, ACCOUNT],
                ));
                return;
            }
        }
    }
    reader.pace().await;
    let result = client.get_credential_report().send().await;
    let sha = reader.keep(OP);
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            return reader.gap(gap(
                reader.collector,
                &reader.scope.clone(),
                OP,
                describe(&e),
                &[USER, ACCOUNT],
            ));
        }
    };
    let text = out
        .content()
        .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
        .unwrap_or_default();
    let (Some(sha), Ok(report)) = (sha, credential_report::parse(&text)) else {
        let err = "MalformedResponse: the credential report content is not the documented CSV".to_owned();
        return reader.gap(gap(reader.collector, &reader.scope.clone(), OP, err, &[USER, ACCOUNT]));
    };
    for row in report.rows {
        if row.is_root() {
            state.root = Some(Cited::new(&sha, OP, row.fields()));
        } else {
            let user = state.users.entry(row.arn.clone()).or_default();
            user.0 = Some(Cited::new(&sha, OP, row));
        }
    }
    for t in [USER, ACCOUNT] {
        state.observed.entry(t).or_default().insert(sha.clone());
    }
}

async fn authorization_details(reader: &mut Reader, client: &Client, state: &mut IamAccount) {
    const OP: &str = "iam:GetAccountAuthorizationDetails";
    const TYPES: [&str; 4] = [USER, "aws.iam.group", "aws.iam.role", "aws.iam.policy"];
    // IAM pages go on while `IsTruncated`, from the `Marker` of the page before.
    let pages = reader
        .pages(
            OP,
            |marker| {
                client
                    .get_account_authorization_details()
                    .max_items(1000)
                    .set_marker(marker)
                    .send()
            },
            |out| out.marker().filter(|_| out.is_truncated()).map(str::to_owned),
        )
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(error) => return reader.gap(gap(reader.collector, &reader.scope.clone(), OP, error, &TYPES)),
    };
    let mut parsed = Vec::new();
    for (sha, out) in pages {
        let page = json!({
            "UserDetailList": out.user_detail_list().iter().map(|u| json!({
                "Path": u.path(), "UserName": u.user_name(), "UserId": u.user_id(), "Arn": u.arn(),
                "CreateDate": date(u.create_date()), "GroupList": u.group_list(),
                "AttachedManagedPolicies": attached(u.attached_managed_policies()),
                "UserPolicyList": inline(u.user_policy_list()), "Tags": tags(u.tags()),
                "PermissionsBoundary": u.permissions_boundary().map(|b| json!({"PermissionsBoundaryArn": b.permissions_boundary_arn()})),
            })).collect::<Vec<_>>(),
            "GroupDetailList": out.group_detail_list().iter().map(|g| json!({
                "Path": g.path(), "GroupName": g.group_name(), "GroupId": g.group_id(), "Arn": g.arn(),
                "CreateDate": date(g.create_date()), "AttachedManagedPolicies": attached(g.attached_managed_policies()),
                "GroupPolicyList": inline(g.group_policy_list()),
            })).collect::<Vec<_>>(),
            "RoleDetailList": out.role_detail_list().iter().map(|r| json!({
                "Path": r.path(), "RoleName": r.role_name(), "RoleId": r.role_id(), "Arn": r.arn(),
                "CreateDate": date(r.create_date()), "AssumeRolePolicyDocument": r.assume_role_policy_document(),
                "AttachedManagedPolicies": attached(r.attached_managed_policies()),
                "RolePolicyList": inline(r.role_policy_list()), "Tags": tags(r.tags()),
                "RoleLastUsed": r.role_last_used().map(|u| json!({"LastUsedDate": date(u.last_used_date()), "Region": u.region()})),
                "InstanceProfileList": r.instance_profile_list().iter().map(|p| json!({"InstanceProfileName": p.instance_profile_name()})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "Policies": out.policies().iter().map(|p| json!({
                "PolicyName": p.policy_name(), "PolicyId": p.policy_id(), "Arn": p.arn(), "Path": p.path(),
                "DefaultVersionId": p.default_version_id(), "AttachmentCount": p.attachment_count(),
                "IsAttachable": p.is_attachable(), "CreateDate": date(p.create_date()), "UpdateDate": date(p.update_date()),
                "PolicyVersionList": p.policy_version_list().iter().map(|v| json!({
                    "Document": v.document(), "VersionId": v.version_id(), "IsDefaultVersion": v.is_default_version(),
                    "CreateDate": date(v.create_date()),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        parsed.push((sha, page));
    }
    for (sha, page) in parsed {
        let details = match iam_details::parse(page) {
            Ok(details) => details,
            Err(e) => {
                let err = format!("MalformedResponse: {e}");
                return reader.gap(gap(reader.collector, &reader.scope.clone(), OP, err, &TYPES));
            }
        };
        for user in details.users {
            state.users.entry(user.arn.clone()).or_default().1 = Some(Cited::new(&sha, OP, user.properties));
        }
        for (kind, list) in [
            ("aws.iam.group", details.groups),
            ("aws.iam.role", details.roles),
            ("aws.iam.policy", details.policies),
        ] {
            for entity in list {
                state
                    .others
                    .push((kind, entity.arn.clone(), Cited::new(&sha, OP, entity.properties)));
            }
        }
        for t in TYPES {
            state.observed.entry(t).or_default().insert(sha.clone());
        }
    }
}

async fn password_policy(reader: &mut Reader, client: &Client, state: &mut IamAccount) {
    const OP: &str = "iam:GetAccountPasswordPolicy";
    reader.pace().await;
    let result = client.get_account_password_policy().send().await;
    let sha = reader.keep(OP).unwrap_or_default();
    let policy = match result {
        Ok(out) => out.password_policy().map(|p| {
            json!({
                "MinimumPasswordLength": p.minimum_password_length(), "RequireSymbols": p.require_symbols(),
                "RequireNumbers": p.require_numbers(), "RequireUppercaseCharacters": p.require_uppercase_characters(),
                "RequireLowercaseCharacters": p.require_lowercase_characters(),
                "AllowUsersToChangePassword": p.allow_users_to_change_password(), "ExpirePasswords": p.expire_passwords(),
                "MaxPasswordAge": p.max_password_age(), "PasswordReusePrevention": p.password_reuse_prevention(),
                "HardExpiry": p.hard_expiry(),
            })
        }),
        // No policy set: positive evidence (the error body is kept as such), not a gap.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => None,
        Err(e) => return reader.gap(gap(reader.collector, &reader.scope.clone(), OP, describe(&e), &[ACCOUNT])),
    };
    state.password_policy = Some(Cited::new(&sha, OP, policy));
    state.observed.entry(ACCOUNT).or_default().insert(sha);
}

async fn summary(reader: &mut Reader, client: &Client, state: &mut IamAccount) {
    const OP: &str = "iam:GetAccountSummary";
    reader.pace().await;
    let result = client.get_account_summary().send().await;
    let sha = reader.keep(OP).unwrap_or_default();
    match result {
        Ok(out) => {
            let map: serde_json::Map<String, Value> = out
                .summary_map()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                .collect();
            state.summary = Some(Cited::new(&sha, OP, Value::Object(map)));
            state.observed.entry(ACCOUNT).or_default().insert(sha);
        }
        Err(e) => reader.gap(gap(
            reader.collector,
            &reader.scope.clone(),
            OP,
            describe(&e),
            &[ACCOUNT],
        )),
    }
}

async fn virtual_mfa(reader: &mut Reader, client: &Client, state: &mut IamAccount) {
    const OP: &str = "iam:ListVirtualMFADevices";
    let pages = reader
        .pages(
            OP,
            |marker| {
                client
                    .list_virtual_mfa_devices()
                    .max_items(1000)
                    .set_marker(marker)
                    .send()
            },
            |out| out.marker().filter(|_| out.is_truncated()).map(str::to_owned),
        )
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(error) => return reader.gap(gap(reader.collector, &reader.scope.clone(), OP, error, &[ACCOUNT])),
    };
    let shas: BTreeSet<String> = pages
        .iter()
        .map(|(sha, _)| sha.clone())
        .filter(|s| !s.is_empty())
        .collect();
    // Serial number, owner and date only: the seed and QR code are secrets (and are
    // never returned by this call anyway).
    let devices: Vec<Value> = pages
        .iter()
        .flat_map(|(_, out)| out.virtual_mfa_devices())
        .map(|d| {
            json!({
                "SerialNumber": d.serial_number(),
                "User": d.user().map(|u| json!({"Arn": u.arn(), "UserName": u.user_name(), "UserId": u.user_id()})),
                "EnableDate": date(d.enable_date()),
            })
        })
        .collect();
    let sha = shas.iter().next().cloned().unwrap_or_default();
    state.virtual_mfa = Some(Cited::new(&sha, OP, devices));
    for sha in shas {
        state.observed.entry(ACCOUNT).or_default().insert(sha);
    }
}
