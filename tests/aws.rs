//! `evidra collect --source aws` against moto (and the stand-in for what moto lacks).

mod common;

use common::{evidra_aws, moto, moto_requests, seed, standin, stderr, stdout};
use serde_json::{Value, json};

fn report(dir: &std::path::Path) -> Value {
    let out = common::evidra(dir, &["report", "--framework", "soc2", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The status of `control` on the one resource whose id ends with `suffix`.
fn status(report: &Value, control: &str, suffix: &str) -> String {
    let found: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == control && f["resource"]["id"].as_str().unwrap().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{control} on *{suffix}: {found:#?}");
    found[0]["status"].as_str().unwrap().to_owned()
}

fn config_compliance_rules() -> Value {
    json!({"rules": [
        {"operation": "DescribeComplianceByConfigRule", "body": {"ComplianceByConfigRules": [
            {"ConfigRuleName": "s3-bucket-versioning-enabled",
             "Compliance": {"ComplianceType": "NON_COMPLIANT", "ComplianceContributorCount": {"CappedCount": 1, "CapExceeded": false}}}]}},
        {"operation": "DescribeConformancePacks", "body": {"ConformancePackDetails": [
            {"ConformancePackName": "operational-best-practices", "ConformancePackArn": "arn:aws:config:us-east-1:123456789012:conformance-pack/operational-best-practices/conformance-pack-abc",
             "ConformancePackId": "conformance-pack-abc"}]}},
        {"operation": "GetConformancePackComplianceSummary", "body": {"ConformancePackComplianceSummaryList": [
            {"ConformancePackName": "operational-best-practices", "ConformancePackComplianceStatus": "NON_COMPLIANT"}]}},
        {"operation": "BatchGetResourceConfig", "fix_timestamps": true}
    ]})
}

#[test]
fn a_seeded_estate_gives_the_expected_findings() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["estate"]);
    let standin = standin(dir.path(), &moto, &config_compliance_rules());
    std::fs::write(
        dir.path().join("evidra.toml"),
        "[[aws]]\nregions = [\"us-east-1\", \"eu-west-1\"]\n",
    )
    .unwrap();
    let out = evidra_aws(dir.path(), &standin.url(), &[], &["collect", "--source", "aws"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "eu-west-1 is not recording: a gap, partial run\n{}",
        stderr(&out)
    );

    let r = report(dir.path());
    assert_eq!(r["run"]["status"], "partial");
    let gaps = r["gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["scope"] == "aws/123456789012/eu-west-1"
            && g["error"] == "no configuration items: Config not recording"),
        "{gaps:#?}"
    );
    assert_eq!(gaps.len(), 1, "only the stopped region is a gap: {gaps:#?}");

    assert_eq!(status(&r, "aws.iam.root_mfa", "123456789012"), "fail");
    assert_eq!(status(&r, "aws.iam.user_console_mfa", "user/alice"), "pass");
    assert_eq!(status(&r, "aws.iam.user_console_mfa", "user/bob"), "fail");
    assert_eq!(status(&r, "aws.iam.user_console_mfa", "user/carol"), "not_applicable");
    assert_eq!(status(&r, "aws.iam.password_policy_min_length", "123456789012"), "fail");
    assert_eq!(status(&r, "aws.iam.access_key_rotation", "user/carol"), "pass");
    assert_eq!(
        status(&r, "aws.iam.access_key_rotation", "user/alice"),
        "not_applicable"
    );
    assert_eq!(status(&r, "aws.iam.no_user_attached_policies", "user/alice"), "pass");
    assert_eq!(status(&r, "aws.iam.no_user_attached_policies", "user/dave"), "fail");
    let dave = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["control"] == "aws.iam.no_user_attached_policies"
                && f["resource"]["id"].as_str().unwrap().ends_with("/dave")
        })
        .unwrap();
    assert!(
        dave["message"].as_str().unwrap().contains("admin-all (managed)")
            && dave["message"].as_str().unwrap().contains("scratch (inline)"),
        "{dave}"
    );
    assert_eq!(
        status(&r, "aws.config.recorder_enabled", ":us-east-1:123456789012:"),
        "pass"
    );
    assert_eq!(
        status(&r, "aws.config.recorder_enabled", ":eu-west-1:123456789012:"),
        "fail"
    );

    // Evidence is the raw responses: IAM's XML, Config's JSON, byte for byte.
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let evidence = store.evidence(&run.id).unwrap();
    let auth = evidence
        .iter()
        .find(|e| e.operation == "iam:GetAccountAuthorizationDetails")
        .expect("authorization details kept");
    let bytes = store.blob(&auth.sha256).unwrap().unwrap();
    assert!(
        bytes.starts_with(b"<") && String::from_utf8_lossy(&bytes).contains("<UserName>dave</UserName>"),
        "raw XML kept"
    );
    assert!(auth.media_type.contains("xml"), "{}", auth.media_type);
    for f in r["findings"].as_array().unwrap() {
        assert!(!f["evidence"].as_array().unwrap().is_empty(), "{f}");
    }

    // Config: the rule's compliance (from the stand-in) and the recorded resources.
    let data = store.run_data(&run.id).unwrap();
    let rule = data
        .resources
        .iter()
        .find(|r| r.resource_type == "aws.config.rule")
        .expect("the Config rule is a resource");
    assert_eq!(rule.properties["compliance"]["ComplianceType"], "NON_COMPLIANT");
    let compliance = evidence
        .iter()
        .find(|e| e.operation == "config:DescribeComplianceByConfigRule")
        .expect("compliance kept as evidence");
    assert!(rule.evidence.contains(&compliance.sha256));
    assert!(String::from_utf8_lossy(&store.blob(&compliance.sha256).unwrap().unwrap()).contains("NON_COMPLIANT"));
    let pack = data
        .resources
        .iter()
        .find(|r| r.resource_type == "aws.config.conformance_pack")
        .expect("the conformance pack is a resource");
    assert_eq!(
        pack.properties["compliance"]["ConformancePackComplianceStatus"],
        "NON_COMPLIANT"
    );
    let bucket = data
        .resources
        .iter()
        .find(|r| r.resource_type == "aws.s3.bucket")
        .expect("S3 bucket from Config");
    assert_eq!(bucket.region, "us-east-1");
    assert!(
        bucket.properties["configuration"].is_object(),
        "configuration parsed from its JSON string"
    );
    assert!(evidra::store::verify::verify(&store).unwrap().problems.is_empty());
}

#[test]
fn a_thousand_user_account_takes_at_most_30_requests() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["users", "1000"]);
    let before = moto_requests(&moto);
    let out = evidra_aws(dir.path(), &moto.url(), &[], &["collect", "--source", "aws"]);
    let requests = moto_requests(&moto) - before;
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(3),
        "{}",
        stderr(&out)
    );
    assert!(
        requests <= 30,
        "{requests} requests for a 1,000-user account (target: at most 30)"
    );
    let r = report(dir.path());
    let users = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == "aws.iam.user_console_mfa")
        .count();
    assert_eq!(users, 1000, "every user evaluated");
    assert!(stderr(&out).contains(&format!("{requests} requests")) || requests > 0);
}

#[test]
fn an_endpoint_that_refuses_connections_is_a_gap_and_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    let out = evidra_aws(dir.path(), &closed, &[], &["collect", "--source", "aws"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim().len(), 36, "the run id is still printed");
    let r = report(dir.path());
    assert_eq!(r["run"]["status"], "partial");
    assert!(
        r["gaps"][0]["error"].as_str().unwrap().contains("ConnectionFailed"),
        "{}",
        r["gaps"]
    );
    let findings = r["findings"].as_array().unwrap();
    assert!(
        !findings.is_empty(),
        "the unreadable account shows as errors, not as nothing"
    );
    for f in findings {
        assert_eq!(f["status"], "error", "{f}");
    }
}

fn query_error(code: &str, status: u16) -> Value {
    json!({"status": status, "content_type": "text/xml",
           "body": format!("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{code} from the stand-in</Message></Error><RequestId>1</RequestId></ErrorResponse>")})
}

#[test]
fn throttling_past_the_retry_budget_is_a_gap_and_the_controls_error() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["estate"]);
    let mut rule = query_error("Throttling", 400);
    rule["operation"] = json!("GetAccountAuthorizationDetails");
    let standin = standin(dir.path(), &moto, &json!({"rules": [rule]}));
    let out = evidra_aws(dir.path(), &standin.url(), &[], &["collect", "--source", "aws"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let r = report(dir.path());
    let gap = r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["operation"] == "iam:GetAccountAuthorizationDetails")
        .expect("a gap for the throttled call");
    assert!(gap["error"].as_str().unwrap().starts_with("Throttling"), "{gap}");
    // The SDK retried before giving up (adaptive retry: 5 attempts).
    for user in ["alice", "bob", "dave"] {
        assert_eq!(
            status(&r, "aws.iam.no_user_attached_policies", &format!("user/{user}")),
            "error"
        );
        assert_eq!(status(&r, "aws.iam.user_console_mfa", &format!("user/{user}")), "error");
    }
    assert_eq!(
        status(&r, "aws.iam.password_policy_min_length", "123456789012"),
        "fail",
        "unaffected reads still count"
    );
}

#[test]
fn access_denied_is_a_gap_and_the_controls_error() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["estate"]);
    let mut iam = query_error("AccessDenied", 403);
    iam["operation"] = json!("GetAccountSummary");
    let config = json!({"operation": "DescribeConfigurationRecorderStatus", "status": 400,
        "body": {"__type": "AccessDeniedException", "message": "not authorized to perform config:DescribeConfigurationRecorderStatus"}});
    let standin = standin(dir.path(), &moto, &json!({"rules": [iam, config]}));
    let out = evidra_aws(dir.path(), &standin.url(), &[], &["collect", "--source", "aws"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let r = report(dir.path());
    let ops: Vec<&str> = r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["operation"].as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"iam:GetAccountSummary") && ops.contains(&"config:DescribeConfigurationRecorderStatus"),
        "{ops:?}"
    );
    assert_eq!(status(&r, "aws.iam.root_mfa", "123456789012"), "error");
    assert_eq!(
        status(&r, "aws.config.recorder_enabled", ":us-east-1:123456789012:"),
        "error"
    );
    assert_eq!(
        status(&r, "aws.iam.user_console_mfa", "user/bob"),
        "fail",
        "unaffected controls still decide"
    );
}
