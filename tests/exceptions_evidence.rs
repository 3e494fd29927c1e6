//! Exceptions (waivers) and manual evidence, end to end through the command line.

mod common;

use common::{evidra, json, stderr, stdout};

fn finding<'a>(report: &'a serde_json::Value, control: &str, suffix: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == control && f["resource"]["id"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("{control} on *{suffix}"))
}

#[test]
fn an_active_exception_waives_an_expired_one_does_not_and_the_register_says_which() {
    let dir = tempfile::tempdir().unwrap();
    assert!(evidra(dir.path(), &["demo"]).status.success());
    let report = json(&dir.path().join("evidra-out/soc2.json"));

    let waived = finding(&report, "aws.iam.user_console_mfa", "user/finance.temp");
    assert_eq!(waived["status"], "waived");
    assert!(
        waived["message"].as_str().unwrap().contains("Dana Whitfield (CISO)"),
        "{waived}"
    );
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let exceptions = store
        .evidence(&run.id)
        .unwrap()
        .into_iter()
        .find(|e| e.operation == "evidra:exceptions")
        .expect("the exceptions file is evidence of the run");
    assert!(
        waived["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == &exceptions.sha256),
        "the waiver cites the approval"
    );

    let expired = finding(&report, "aws.iam.access_key_rotation", "user/service/legacy-reporting");
    assert_eq!(expired["status"], "fail", "an expired exception no longer waives");

    let catalogue = evidra::catalogue::Catalogue::builtin().unwrap();
    let model = evidra::report::build(&store, &catalogue, &run, "soc2", None).unwrap();
    let states: Vec<(&str, &str)> = model
        .exceptions
        .iter()
        .map(|e| (e.control.as_str(), e.state.as_str()))
        .collect();
    assert!(states.contains(&("aws.iam.user_console_mfa", "active")), "{states:?}");
    assert!(states.contains(&("aws.ec2.sg_no_public_ssh", "expiring")), "{states:?}");
    assert!(
        states.contains(&("aws.iam.access_key_rotation", "expired")),
        "{states:?}"
    );
    assert_eq!(
        model
            .exceptions
            .iter()
            .find(|e| e.control == "aws.iam.user_console_mfa")
            .unwrap()
            .waived,
        1
    );
}

#[test]
fn an_exception_without_an_approver_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("exceptions.toml"),
        "[[exception]]\ncontrol = \"aws.iam.root_mfa\"\nresource = \"*\"\njustification = \"x\"\napproved_on = 2026-01-01\nexpires = 2027-01-01\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("evidra.toml"), "exceptions = \"exceptions.toml\"\n").unwrap();
    let fixtures = common::fixtures("files");
    let out = evidra(
        dir.path(),
        &["collect", "--source", "files", "--path", fixtures.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("exceptions.toml") && err.contains("approved_by"), "{err}");
}

#[test]
fn manual_evidence_is_sealed_in_the_chain_and_shown_on_its_requirement() {
    let dir = tempfile::tempdir().unwrap();
    assert!(evidra(dir.path(), &["demo"]).status.success());
    std::fs::write(
        dir.path().join("security-policy.md"),
        "# Information security policy\nApproved by the board, 2026-09-01.\n",
    )
    .unwrap();
    let out = evidra(
        dir.path(),
        &[
            "evidence",
            "add",
            "--framework",
            "soc2",
            "--requirement",
            "CC1.1",
            "--file",
            "security-policy.md",
            "--note",
            "board-approved",
            "--by",
            "dana",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sealed = stdout(&out).trim().to_owned();

    let bad = evidra(
        dir.path(),
        &[
            "evidence",
            "add",
            "--framework",
            "soc2",
            "--requirement",
            "CC99.1",
            "--file",
            "security-policy.md",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("CC99.1"));

    // The attachment run does not count as the latest collection.
    let report = evidra(dir.path(), &["report", "--framework", "soc2", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_ne!(report["run"]["id"], sealed);

    // A later collection's report shows it on CC1.1.
    assert!(evidra(dir.path(), &["demo"]).status.success());
    let report = json(&dir.path().join("evidra-out/soc2.json"));
    let cc11 = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CC1.1")
        .unwrap();
    let sha = evidra_collector_core::sha256_hex(&std::fs::read(dir.path().join("security-policy.md")).unwrap());
    assert_eq!(cc11["attachments"], serde_json::json!([sha]));
    assert_eq!(cc11["status"], "manual");

    let listed = evidra(
        dir.path(),
        &["evidence", "list", "--framework", "soc2", "--format", "json"],
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["added_by"], "dana");
    assert_eq!(listed[0]["note"], "board-approved");
    let verify = evidra(dir.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn controls_show_and_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let out = evidra(dir.path(), &["controls", "show", "aws.iam.root_mfa"]);
    let text = stdout(&out);
    assert!(
        text.contains("Why it matters") && text.contains("package controls.aws.iam.root_mfa") && text.contains("CC6.1"),
        "{text}"
    );
    let out = evidra(
        dir.path(),
        &[
            "controls",
            "requirements",
            "--framework",
            "iso27001",
            "--format",
            "json",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 93);
    for r in rows {
        let automated = !r["controls"].as_array().unwrap().is_empty();
        assert_eq!(r["coverage"], if automated { "automated" } else { "manual" });
        assert!(automated || r["manual"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
    }
    let a85 = rows.iter().find(|r| r["id"] == "A.8.5").unwrap();
    assert!(
        a85["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "aws.iam.root_mfa")
    );
    assert_eq!(
        evidra(dir.path(), &["controls", "show", "aws.nope.nothing"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn at_least_sixty_controls_across_aws_and_azure() {
    let catalogue = evidra::catalogue::Catalogue::builtin().unwrap();
    let aws = catalogue.controls.iter().filter(|c| c.id.starts_with("aws.")).count();
    let azure = catalogue.controls.iter().filter(|c| c.id.starts_with("azure.")).count();
    assert!(aws + azure >= 60, "{aws} AWS + {azure} Azure controls");
    assert!(azure >= 14);
}
