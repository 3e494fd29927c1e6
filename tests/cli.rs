//! The command line end to end, as a user runs it.

mod common;

use common::{evidra, json, stderr, stdout};

#[test]
fn demo_writes_reports_and_a_second_demo_appends_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = evidra(dir.path(), &["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("passing") && text.contains("failing") && text.contains("manual"),
        "{text}"
    );
    for f in ["soc2.html", "soc2.json", "iso27001.html", "iso27001.json"] {
        assert!(dir.path().join("evidra-out").join(f).exists(), "{f} written");
    }
    let out = evidra(dir.path(), &["demo"]);
    assert!(out.status.success());
    let runs = evidra(dir.path(), &["runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2, "the second demo appends a run");
    assert_eq!(runs[1]["prev_manifest"], runs[0]["manifest"]);
    let verify = evidra(dir.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

/// What the demo estate is built to show (see examples/demo/README.md).
#[test]
fn demo_findings_are_the_expected_ones() {
    let dir = tempfile::tempdir().unwrap();
    assert!(evidra(dir.path(), &["demo"]).status.success());
    let report = json(&dir.path().join("evidra-out/soc2.json"));
    assert_eq!(report["framework"], "soc2");
    assert_eq!(
        report["run"]["status"], "partial",
        "eu-west-1 has no Config recording: a gap"
    );
    let findings = report["findings"].as_array().unwrap();
    let status = |control: &str, resource_suffix: &str| -> String {
        let matching: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["control"] == control && f["resource"]["id"].as_str().unwrap().ends_with(resource_suffix))
            .collect();
        assert_eq!(matching.len(), 1, "{control} on *{resource_suffix}: {matching:?}");
        matching[0]["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(status("aws.iam.root_mfa", "111122223333"), "pass");
    assert_eq!(status("aws.iam.root_mfa", "444455556666"), "fail");
    assert_eq!(status("aws.iam.password_policy_min_length", "111122223333"), "fail");
    assert_eq!(status("aws.iam.password_policy_min_length", "444455556666"), "pass");
    for user in ["m.okafor", "p.sharma", "analyst.lopez", "u.adeyemi", "dev.beta"] {
        assert_eq!(
            status("aws.iam.user_console_mfa", &format!("/{user}")),
            "fail",
            "{user}"
        );
    }
    assert_eq!(
        status("aws.iam.user_console_mfa", "/finance.temp"),
        "waived",
        "examples/demo-exceptions.toml"
    );
    assert_eq!(status("aws.iam.user_console_mfa", "/etl-loader"), "not_applicable");
    for user in [
        "s.rivera",
        "g.lindqvist",
        "n.schmidt",
        "etl-loader",
        "legacy-reporting",
        "monitoring-exporter",
        "dev.beta",
        "experiment-bot",
    ] {
        assert_eq!(
            status("aws.iam.access_key_rotation", &format!("/{user}")),
            "fail",
            "{user}"
        );
    }
    assert_eq!(
        status("aws.iam.access_key_rotation", "/i.petrov"),
        "pass",
        "old key 1 is inactive, key 2 fresh"
    );
    for user in ["ops-admin", "legacy-reporting", "d.fischer", "k.osei", "experiment-bot"] {
        assert_eq!(
            status("aws.iam.no_user_attached_policies", &format!("/{user}")),
            "fail",
            "{user}"
        );
    }
    assert_eq!(
        status("aws.config.recorder_enabled", ":us-east-1:111122223333:"),
        "pass"
    );
    assert_eq!(
        status("aws.config.recorder_enabled", ":eu-west-1:111122223333:"),
        "fail"
    );
    let count = |s: &str| {
        findings
            .iter()
            .filter(|f| f["control"] == "aws.iam.user_console_mfa" && f["status"] == s)
            .count()
    };
    assert_eq!(count("fail"), 5);
    assert_eq!(status("aws.iam.root_hardware_mfa", "111122223333"), "pass");
    assert_eq!(status("aws.iam.root_hardware_mfa", "444455556666"), "fail");
    assert_eq!(
        status("aws.config.delivery_channel", ":us-east-1:111122223333:"),
        "pass"
    );
    let rules: Vec<&str> = findings
        .iter()
        .filter(|f| f["control"] == "aws.config.rules_compliant")
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules.iter().filter(|s| **s == "fail").count(),
        3,
        "versioning, encrypted volumes, RDS storage: {rules:?}"
    );
    assert_eq!(
        rules.iter().filter(|s| **s == "pass").count(),
        1,
        "root MFA rule: {rules:?}"
    );

    for f in findings {
        let evidence = f["evidence"].as_array().unwrap();
        assert!(!evidence.is_empty(), "every finding cites evidence: {f}");
        assert!(evidence.iter().all(|e| e.as_str().unwrap().len() == 64));
    }
    assert_eq!(report["gaps"][0]["scope"], "aws/111122223333/eu-west-1");
    let cc61 = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CC6.1")
        .unwrap();
    assert_eq!(cc61["status"], "fail");
    assert!(
        cc61["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "aws.iam.root_mfa")
    );
    let cc11 = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CC1.1")
        .unwrap();
    assert_eq!(cc11["status"], "manual", "no automated control covers CC1.1");
}

#[test]
fn json_reports_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    assert!(evidra(dir.path(), &["demo"]).status.success());
    let a = evidra(dir.path(), &["report", "--framework", "iso27001", "--format", "json"]);
    let b = evidra(dir.path(), &["report", "--framework", "iso27001", "--format", "json"]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let html = evidra(
        dir.path(),
        &["report", "--framework", "soc2", "--format", "html", "-o", "r.html"],
    );
    assert!(html.status.success());
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(
        html.contains("<style>") && !html.contains("<link") && !html.contains("src=\"http"),
        "self-contained"
    );
}

#[test]
fn verify_exits_4_after_an_evidence_byte_changes() {
    let dir = tempfile::tempdir().unwrap();
    assert!(evidra(dir.path(), &["demo"]).status.success());
    let conn = rusqlite::Connection::open(dir.path().join("evidra.db")).unwrap();
    conn.execute_batch("DROP TRIGGER blobs_no_update; UPDATE blobs SET bytes = CAST(bytes AS BLOB) || x'0a' WHERE sha256 = (SELECT min(sha256) FROM blobs);").unwrap();
    drop(conn);
    let out = evidra(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stdout(&out).contains("has changed"), "{}", stdout(&out));
}

#[test]
fn collect_from_files_prints_the_run_id_and_exits_by_status() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = common::fixtures("files");
    let out = evidra(
        dir.path(),
        &["collect", "--source", "files", "--path", fixtures.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    assert_eq!(id.len(), 36, "stdout is the run id: {id}");
    let report = evidra(
        dir.path(),
        &["report", "--framework", "soc2", "--format", "json", "--run", &id[..8]],
    );
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["run"]["id"], id);

    let demo = common::repo().join("examples/demo");
    let out = evidra(
        dir.path(),
        &["collect", "--source", "files", "--path", demo.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(3), "a run with gaps is partial: exit 3");
}

#[test]
fn a_malformed_export_is_exit_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = common::fixtures("malformed/truncated-json");
    let out = evidra(
        dir.path(),
        &["collect", "--source", "files", "--path", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("account-authorization-details.json") && err.contains("not valid JSON"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line, no backtrace: {err}");
}

#[test]
fn usage_errors_exit_2_and_missing_stores_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(evidra(dir.path(), &["collect"]).status.code(), Some(2));
    assert_eq!(
        evidra(dir.path(), &["report", "--framework", "soc2", "--format", "docx"])
            .status
            .code(),
        Some(2)
    );
    let out = evidra(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no evidence store"));
}

#[test]
fn controls_list_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let out = evidra(dir.path(), &["controls", "list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in [
        "aws.iam.root_mfa",
        "aws.iam.user_console_mfa",
        "aws.iam.password_policy_min_length",
        "aws.iam.access_key_rotation",
        "aws.iam.no_user_attached_policies",
        "aws.config.recorder_enabled",
    ] {
        assert!(ids.contains(&id), "{id} listed");
    }
    assert!(list[0]["rationale"].is_string() && list[0]["remediation"]["summary"].is_string());
    let out = evidra(dir.path(), &["controls", "test"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains(" passed, 0 failed"));
}
