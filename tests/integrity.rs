//! Signatures, bundles, import and diff: evidence an auditor can trust over a period.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::{evidra, stderr, stdout};

/// A store with one signed demo run, in `dir`.
fn signed_demo(dir: &Path) {
    assert!(evidra(dir, &["keys", "generate", "."]).status.success());
    std::fs::write(dir.join("evidra.toml"), "signing_key = \"evidra-signing.key\"\n").unwrap();
    assert!(evidra(dir, &["demo"]).status.success());
}

/// A tampering: what it is, how entries change, what it adds, what the check must name.
type Case<'a> = (
    &'a str,
    Box<dyn Fn(&str, Vec<u8>) -> Option<Vec<u8>>>,
    Vec<(&'a str, &'a [u8])>,
    String,
);

/// Rewrites `from` into `to`, changing entries with `edit` (None drops the entry) and adding `extra`.
fn rewrite(from: &Path, to: &Path, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>, extra: &[(&str, &[u8])]) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if let Some(bytes) = edit(&name, bytes) {
            out.start_file(name, options).unwrap();
            out.write_all(&bytes).unwrap();
        }
    }
    for (name, bytes) in extra {
        out.start_file(*name, options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap();
}

#[test]
fn signed_runs_verify_and_a_forged_signature_is_named() {
    let dir = tempfile::tempdir().unwrap();
    signed_demo(dir.path());
    let runs = evidra(dir.path(), &["runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert!(
        runs[0]["signature"].as_str().is_some_and(|s| s.len() == 128),
        "{}",
        runs[0]
    );
    assert_eq!(evidra(dir.path(), &["verify"]).status.code(), Some(0));
    let conn = rusqlite::Connection::open(dir.path().join("evidra.db")).unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER runs_frozen; UPDATE runs SET signature = '{}'",
        "ab".repeat(64)
    ))
    .unwrap();
    drop(conn);
    let out = evidra(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stdout(&out).contains("signature"), "{}", stdout(&out));
}

#[test]
fn a_bundle_verifies_without_a_database_and_any_change_breaks_it() {
    let dir = tempfile::tempdir().unwrap();
    signed_demo(dir.path());
    let out = evidra(dir.path(), &["export", "--run", "latest", "-o", "bundle.zip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let auditor = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.zip");
    let ok = evidra(auditor.path(), &["verify-bundle", bundle.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("signed by key"));
    assert!(
        !auditor.path().join("evidra.db").exists(),
        "no database was needed or made"
    );

    let evidence_name = {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
        (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().name().unwrap().into_owned())
            .find(|n| n.starts_with("evidence/"))
            .unwrap()
    };
    let cases: Vec<Case> = vec![
        (
            "changed byte",
            Box::new({
                let target = evidence_name.clone();
                move |n: &str, mut b: Vec<u8>| {
                    if n == target {
                        b[0] ^= 1;
                    }
                    Some(b)
                }
            }),
            vec![],
            evidence_name.clone(),
        ),
        (
            "removed file",
            Box::new({
                let target = evidence_name.clone();
                move |n: &str, b: Vec<u8>| (n != target).then_some(b)
            }),
            vec![],
            evidence_name.clone(),
        ),
        (
            "added file",
            Box::new(|_: &str, b: Vec<u8>| Some(b)),
            vec![("evidence/extra", b"x".as_slice())],
            "evidence/extra".into(),
        ),
        (
            "forged manifest",
            Box::new(|n: &str, b: Vec<u8>| {
                Some(if n == "manifest.json" {
                    String::from_utf8(b)
                        .unwrap()
                        .replacen("partial", "complete", 1)
                        .into_bytes()
                } else {
                    b
                })
            }),
            vec![],
            "signature".into(),
        ),
    ];
    for (what, edit, extra, named) in cases {
        let tampered = dir.path().join("tampered.zip");
        rewrite(&bundle, &tampered, edit, &extra);
        let out = evidra(auditor.path(), &["verify-bundle", tampered.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(4), "{what}: {}", stdout(&out));
        assert!(stdout(&out).contains(&named), "{what}: names {named}: {}", stdout(&out));
    }
}

#[test]
fn import_adds_the_run_once_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    signed_demo(dir.path());
    assert!(evidra(dir.path(), &["export", "-o", "bundle.zip"]).status.success());
    let bundle = dir.path().join("bundle.zip");
    let other = tempfile::tempdir().unwrap();
    // The importing store already has a run of its own.
    let fixtures = common::fixtures("files");
    assert!(
        evidra(
            other.path(),
            &["collect", "--source", "files", "--path", fixtures.to_str().unwrap()]
        )
        .status
        .success()
    );
    let first = evidra(other.path(), &["import", bundle.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    let again = evidra(other.path(), &["import", bundle.to_str().unwrap()]);
    assert!(
        again.status.success() && stderr(&again).contains("already"),
        "{}",
        stderr(&again)
    );
    assert!(
        evidra(
            other.path(),
            &["collect", "--source", "files", "--path", fixtures.to_str().unwrap()]
        )
        .status
        .success()
    );
    let runs = evidra(other.path(), &["runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 3);
    assert_eq!(runs[1]["imported"], true);
    assert_eq!(
        runs[2]["prev_manifest"], runs[1]["manifest"],
        "the next run chains to the imported one"
    );
    let verify = evidra(other.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    // The imported run reports like a collected one.
    let report = evidra(
        other.path(),
        &[
            "report",
            "--framework",
            "soc2",
            "--format",
            "json",
            "--run",
            runs[1]["id"].as_str().unwrap(),
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(report["findings"].as_array().unwrap().len() > 100);

    let broken = dir.path().join("broken.zip");
    rewrite(&bundle, &broken, |n, b| (n != "run.json").then_some(b), &[]);
    let out = evidra(other.path(), &["import", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "a broken bundle is not imported");
}

/// Two runs of a fixture folder whose second export fixes the password policy and
/// breaks bob's MFA... as an InfoSec follow-up would see it.
#[test]
fn diff_and_fail_on_show_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    for entry in std::fs::read_dir(common::fixtures("files")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), exports.join(entry.file_name())).unwrap();
    }
    let path = exports.to_str().unwrap();
    let a = evidra(dir.path(), &["collect", "--source", "files", "--path", path]);
    let a_id = stdout(&a).trim().to_owned();
    let policy = std::fs::read_to_string(exports.join("password-policy.json")).unwrap();
    std::fs::write(
        exports.join("password-policy.json"),
        policy.replace("\"MinimumPasswordLength\": 12", "\"MinimumPasswordLength\": 16"),
    )
    .unwrap();
    let report = std::fs::read_to_string(exports.join("credential-report.csv")).unwrap();
    let alice_line = report.lines().find(|l| l.starts_with("alice,")).unwrap().to_owned();
    let mut cells: Vec<&str> = alice_line.split(',').collect();
    cells[7] = "false";
    std::fs::write(
        exports.join("credential-report.csv"),
        report.replace(&alice_line, &cells.join(",")),
    )
    .unwrap();

    let b = evidra(
        dir.path(),
        &["collect", "--source", "files", "--path", path, "--fail-on", "new"],
    );
    assert_eq!(b.status.code(), Some(5), "a new failure trips the gate: {}", stderr(&b));
    let b_id = stdout(&b).trim().to_owned();
    let diff = evidra(dir.path(), &["diff", &a_id, &b_id, "--format", "json"]);
    let diff: serde_json::Value = serde_json::from_slice(&diff.stdout).unwrap();
    let has = |list: &str, control: &str, suffix: &str| {
        diff[list]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["control"] == control && c["resource"].as_str().unwrap().ends_with(suffix))
    };
    assert!(
        has("fixed", "aws.iam.password_policy_min_length", "123456789012"),
        "{diff:#}"
    );
    assert!(
        has("new_failures", "aws.iam.user_console_mfa", "user/alice"),
        "{diff:#}"
    );
    let text = evidra(dir.path(), &["diff", &a_id, &b_id]);
    assert!(
        stdout(&text).contains("new failures (1)") || stdout(&text).contains("new failures"),
        "{}",
        stdout(&text)
    );

    let c = evidra(
        dir.path(),
        &["collect", "--source", "files", "--path", path, "--fail-on", "new"],
    );
    assert_eq!(
        c.status.code(),
        Some(0),
        "nothing new since the last run: {}",
        stderr(&c)
    );
    let d = evidra(
        dir.path(),
        &["collect", "--source", "files", "--path", path, "--fail-on", "fail"],
    );
    assert_eq!(d.status.code(), Some(5), "failures remain");
}
