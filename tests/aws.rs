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

/// The stand-in's answer to account:ListRegions (REST-JSON), in two pages.
fn list_regions_rules() -> Vec<Value> {
    vec![
        json!({"operation": "ListRegions", "times": 1, "content_type": "application/json", "body": {
            "Regions": [{"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
                        {"RegionName": "af-south-1", "RegionOptStatus": "DISABLED"}],
            "NextToken": "page-2"}}),
        json!({"operation": "ListRegions", "content_type": "application/json", "body": {
            "Regions": [{"RegionName": "eu-west-1", "RegionOptStatus": "ENABLED"},
                        {"RegionName": "ap-east-1", "RegionOptStatus": "ENABLING"}]}}),
    ]
}

/// Scopes (`aws/ACCOUNT/REGION`) of the findings of `control`.
fn scopes_of(report: &Value, control: &str) -> Vec<String> {
    let mut scopes: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == control)
        .map(|f| {
            format!(
                "aws/{}/{}",
                f["resource"]["account"].as_str().unwrap(),
                f["resource"]["region"].as_str().unwrap()
            )
        })
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

#[test]
fn regions_all_reads_every_enabled_region_and_keeps_the_listing() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["estate"]);
    let mut rules = config_compliance_rules();
    rules["rules"].as_array_mut().unwrap().extend(list_regions_rules());
    let standin = standin(dir.path(), &moto, &rules);
    std::fs::write(dir.path().join("evidra.toml"), "[[aws]]\nregions = \"all\"\n").unwrap();
    let out = evidra_aws(dir.path(), &standin.url(), &[], &["collect", "--source", "aws"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "eu-west-1 is not recording\n{}",
        stderr(&out)
    );

    let r = report(dir.path());
    assert_eq!(
        scopes_of(&r, "aws.config.recorder_enabled"),
        ["aws/123456789012/eu-west-1", "aws/123456789012/us-east-1"],
        "enabled regions only: not the disabled af-south-1, not ap-east-1 still enabling"
    );
    assert_eq!(
        status(&r, "aws.config.recorder_enabled", ":us-east-1:123456789012:"),
        "pass"
    );
    assert_eq!(
        status(&r, "aws.config.recorder_enabled", ":eu-west-1:123456789012:"),
        "fail"
    );
    let gaps = r["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "only the stopped region: {gaps:#?}");

    // Both pages of the listing are evidence, byte for byte.
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let listing: Vec<_> = store
        .evidence(&run.id)
        .unwrap()
        .into_iter()
        .filter(|e| e.operation == "account:ListRegions")
        .collect();
    assert_eq!(listing.len(), 2, "one evidence record per page");
    let bodies: Vec<String> = listing
        .iter()
        .map(|e| String::from_utf8(store.blob(&e.sha256).unwrap().unwrap()).unwrap())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("\"af-south-1\"") && b.contains("DISABLED")),
        "{bodies:?}"
    );
    assert!(bodies.iter().any(|b| b.contains("\"eu-west-1\"")), "{bodies:?}");
}

#[test]
fn a_region_listing_that_fails_is_a_gap_not_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["estate"]);
    let mut rules = config_compliance_rules();
    rules["rules"].as_array_mut().unwrap().push(json!({
        "operation": "ListRegions", "status": 403, "content_type": "application/json",
        "headers": {"x-amzn-ErrorType": "AccessDeniedException"},
        "body": {"message": "not authorized to perform account:ListRegions"}}));
    let standin = standin(dir.path(), &moto, &rules);
    std::fs::write(dir.path().join("evidra.toml"), "[[aws]]\nregions = \"all\"\n").unwrap();
    let out = evidra_aws(dir.path(), &standin.url(), &[], &["collect", "--source", "aws"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    let r = report(dir.path());
    assert_eq!(r["run"]["status"], "partial");
    let gaps = r["gaps"].as_array().unwrap();
    let gap = gaps
        .iter()
        .find(|g| g["operation"] == "account:ListRegions")
        .unwrap_or_else(|| panic!("a gap for the listing: {gaps:#?}"));
    assert_eq!(gap["scope"], "aws/123456789012/*");
    assert!(gap["error"].as_str().unwrap().starts_with("AccessDenied"), "{gap}");
    // No region was guessed: AWS_REGION's us-east-1 was not read instead.
    let config_findings: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == "aws.config.recorder_enabled")
        .collect();
    assert!(!config_findings.is_empty(), "the unknown regions show as errors");
    for f in config_findings {
        assert_eq!(f["status"], "error", "{f}");
        assert_eq!(f["resource"]["region"], "*", "{f}");
    }
    assert_eq!(
        status(&r, "aws.iam.user_console_mfa", "user/bob"),
        "fail",
        "IAM is global and still decides"
    );
}

/// Organizations: moto with an organisation (management, prod, dev, a closed account)
/// and the stand-in in front for what moto lacks (conformance packs), plus the rules
/// `extra` makes from the seeded account IDs.
fn organization(
    dir: &std::path::Path,
    extra: impl Fn(&Value) -> Vec<Value>,
) -> (common::Server, common::Server, Value) {
    let moto = moto(dir);
    let printed = seed(&moto, &["org"]);
    let ids: Value = serde_json::from_str(printed.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let mut rules = vec![
        json!({"operation": "DescribeConformancePacks", "body": {"ConformancePackDetails": []}}),
        json!({"operation": "BatchGetResourceConfig", "fix_timestamps": true}),
    ];
    rules.extend(extra(&ids));
    let standin = standin(dir, &moto, &json!({ "rules": rules }));
    (moto, standin, ids)
}

#[test]
fn organization_mode_collects_every_active_account() {
    let dir = tempfile::tempdir().unwrap();
    let (moto, standin, ids) = organization(dir.path(), |_| vec![]);
    std::fs::write(
        dir.path().join("evidra.toml"),
        "[[aws]]\norganization = true\nregions = [\"us-east-1\"]\n",
    )
    .unwrap();
    let before = moto_requests(&moto);
    let out = evidra_aws(dir.path(), &standin.url(), &[], &["collect", "--source", "aws"]);
    let requests = moto_requests(&moto) - before;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    eprintln!("organization of 3 active accounts: {requests} requests reached moto");

    let r = report(dir.path());
    assert_eq!(r["run"]["status"], "complete", "{}", r["gaps"]);
    for (name, id) in [
        ("management", &ids["management"]),
        ("prod", &ids["prod"]),
        ("dev", &ids["dev"]),
    ] {
        let id = id.as_str().unwrap();
        assert_eq!(status(&r, "aws.iam.root_mfa", id), "fail", "{name}");
        assert_eq!(
            status(&r, "aws.iam.user_console_mfa", &format!(":{id}:user/{name}-admin")),
            "fail",
            "{name}: its own users, read with its own credentials"
        );
        assert_eq!(
            status(&r, "aws.config.recorder_enabled", &format!(":us-east-1:{id}:")),
            "pass",
            "{name}"
        );
    }
    let closed = ids["closed"].as_str().unwrap();
    assert!(
        !r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["resource"]["account"] == closed),
        "a suspended account is not read"
    );

    // Every account of the organisation is on record, the suspended one too.
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let data = store.run_data(&run.id).unwrap();
    let mut accounts: Vec<(String, String)> = data
        .resources
        .iter()
        .filter(|r| r.resource_type == "aws.organizations.account")
        .map(|r| (r.account.clone(), r.properties["State"].as_str().unwrap().to_owned()))
        .collect();
    accounts.sort();
    let mut expected: Vec<(String, String)> = ["management", "prod", "dev", "closed"]
        .iter()
        .map(|n| {
            let state = if *n == "closed" { "SUSPENDED" } else { "ACTIVE" };
            (ids[n].as_str().unwrap().to_owned(), state.to_owned())
        })
        .collect();
    expected.sort();
    assert_eq!(accounts, expected);
    let evidence = store.evidence(&run.id).unwrap();
    assert!(evidence.iter().any(|e| e.operation == "organizations:ListAccounts"));
    // The AssumeRole answers hold secret keys: never kept.
    for e in &evidence {
        let blob = store.blob(&e.sha256).unwrap().unwrap();
        assert!(
            !String::from_utf8_lossy(&blob).contains("SecretAccessKey"),
            "{} kept a secret",
            e.operation
        );
    }
}

#[test]
fn an_account_whose_role_cannot_be_assumed_is_a_gap_and_its_controls_error() {
    let dir = tempfile::tempdir().unwrap();
    // moto lets any role be assumed; the stand-in denies dev's, as AWS does when the
    // role is missing or does not trust the management account.
    let (_moto, standin, ids) = organization(dir.path(), |ids| {
        let dev = ids["dev"].as_str().unwrap();
        let role = format!("arn:aws:iam::{dev}:role/audit-reader");
        vec![
            json!({"operation": "AssumeRole", "match": role, "status": 403, "content_type": "text/xml",
            "body": format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/moto is not authorized to perform: sts:AssumeRole on resource: {role}</Message></Error><RequestId>1</RequestId></ErrorResponse>")}),
        ]
    });
    let dev = ids["dev"].as_str().unwrap().to_owned();
    std::fs::write(
        dir.path().join("evidra.toml"),
        "[[aws]]\norganization = true\nmember_role_name = \"audit-reader\"\nregions = [\"us-east-1\"]\n",
    )
    .unwrap();
    let out = evidra_aws(dir.path(), &standin.url(), &[], &["collect", "--source", "aws"]);
    assert_eq!(out.status.code(), Some(3), "a partial run exits 3\n{}", stderr(&out));

    let r = report(dir.path());
    assert_eq!(r["run"]["status"], "partial");
    let gaps = r["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["operation"], "sts:AssumeRole");
    assert_eq!(gaps[0]["scope"], format!("aws/{dev}/*"));
    let error = gaps[0]["error"].as_str().unwrap();
    assert!(
        error.contains("AccessDenied") && error.contains(&format!("arn:aws:iam::{dev}:role/audit-reader")),
        "{error}"
    );
    let dev_findings: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["account"] == dev.as_str())
        .collect();
    assert!(!dev_findings.is_empty(), "the unreadable account shows, as errors");
    for f in dev_findings {
        assert_eq!(f["status"], "error", "{f}");
    }
    // The other accounts are read as usual.
    let prod = ids["prod"].as_str().unwrap();
    assert_eq!(
        status(&r, "aws.iam.user_console_mfa", &format!(":{prod}:user/prod-admin")),
        "fail"
    );
    assert_eq!(
        status(
            &r,
            "aws.config.recorder_enabled",
            &format!(":us-east-1:{}:", ids["management"].as_str().unwrap())
        ),
        "pass"
    );
}
