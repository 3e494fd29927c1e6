//! Proof under faults: injected API failures never turn into passes, a killed
//! collection loses nothing earlier, and no secret reaches the store or a report.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{evidra, evidra_aws, moto, seed, standin, stderr, stdout};
use serde_json::{Value, json};

fn report(dir: &Path) -> Value {
    let out = evidra(dir, &["report", "--framework", "iso27001", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn statuses(report: &Value) -> BTreeMap<(String, String), String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["control"].as_str().unwrap().to_owned(),
                    f["resource"]["id"].as_str().unwrap().to_owned(),
                ),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn injected_faults_never_become_passes() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["estate"]);
    let fix = json!({"operation": "BatchGetResourceConfig", "fix_timestamps": true});
    let clean_peer = standin(dir.path(), &moto, &json!({"rules": [fix]}));
    let clean_dir = dir.path().join("clean");
    std::fs::create_dir(&clean_dir).unwrap();
    let out = evidra_aws(&clean_dir, &clean_peer.url(), &[], &["collect", "--source", "aws"]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let clean = report(&clean_dir);
    let clean_statuses = statuses(&clean);

    for seed_value in [3, 11] {
        let chaos_peer = standin(
            dir.path(),
            &moto,
            &json!({"rules": [fix], "chaos": {"rate": 0.3, "seed": seed_value}}),
        );
        let chaos_dir = dir.path().join(format!("chaos-{seed_value}"));
        std::fs::create_dir(&chaos_dir).unwrap();
        let out = evidra_aws(&chaos_dir, &chaos_peer.url(), &[], &["collect", "--source", "aws"]);
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "a faulty API is a partial run, never a crash: {}",
            stderr(&out)
        );
        let chaos = report(&chaos_dir);
        let gaps = chaos["gaps"].as_array().unwrap();
        for ((control, resource), status) in statuses(&chaos) {
            if status == "pass" {
                assert_eq!(
                    clean_statuses
                        .get(&(control.clone(), resource.clone()))
                        .map(String::as_str),
                    Some("pass"),
                    "seed {seed_value}: {control} on {resource} passed under faults but not in the clean run"
                );
            }
        }
        if gaps.is_empty() {
            assert_eq!(
                statuses(&chaos),
                clean_statuses,
                "seed {seed_value}: no gap, so the same evidence and findings"
            );
        } else {
            assert_eq!(chaos["run"]["status"], "partial", "seed {seed_value}");
            assert!(
                statuses(&chaos).values().any(|s| s == "error"),
                "seed {seed_value}: gaps show as errors"
            );
        }
        let verify = evidra(&chaos_dir, &["verify"]);
        assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    }
}

#[test]
fn killing_a_collection_loses_no_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::repo().join("examples/demo");
    let demo = demo.to_str().unwrap();
    assert!(matches!(
        evidra(dir.path(), &["collect", "--source", "files", "--path", demo])
            .status
            .code(),
        Some(3)
    ));
    // Deterministic "random" kill points, from the start to past the end of a run.
    for delay_ms in [5u64, 40, 90, 160, 260, 400, 700] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_evidra"))
            .args(["collect", "--source", "files", "--path", demo])
            .current_dir(dir.path())
            .env("EVIDRA_NOW", common::NOW)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no chance to clean up.
        let _ = child.wait();
        let verify = evidra(dir.path(), &["verify"]);
        assert_eq!(
            verify.status.code(),
            Some(0),
            "after a kill at {delay_ms} ms: {}",
            stdout(&verify)
        );
    }
    // The next collection seals whatever a killed run left as partial; all still verifies.
    let out = evidra(dir.path(), &["collect", "--source", "files", "--path", demo]);
    assert!(matches!(out.status.code(), Some(3)), "{}", stderr(&out));
    let runs: Value = serde_json::from_slice(&evidra(dir.path(), &["runs", "--format", "json"]).stdout).unwrap();
    for r in runs.as_array().unwrap() {
        assert_ne!(r["status"], "running", "no run is left open: {r}");
    }
    assert_eq!(evidra(dir.path(), &["verify"]).status.code(), Some(0));
}

#[test]
fn no_secret_reaches_the_store_or_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto(dir.path());
    seed(&moto, &["estate"]);
    // The one time AWS shows a secret access key: at creation. Make one and remember it.
    let script = "import boto3,sys; c=boto3.client('iam',endpoint_url=sys.argv[1],region_name='us-east-1',aws_access_key_id='testing',aws_secret_access_key='testing'); c.create_user(UserName='keyed'); print(c.create_access_key(UserName='keyed')['AccessKey']['SecretAccessKey'])";
    let out = std::process::Command::new(common::python())
        .args(["-c", script, &moto.url()])
        .output()
        .unwrap();
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.len() >= 30, "a secret key was made: {secret:?}");
    let fix = json!({"operation": "BatchGetResourceConfig", "fix_timestamps": true});
    let peer = standin(dir.path(), &moto, &json!({"rules": [fix]}));
    let out = evidra_aws(dir.path(), &peer.url(), &[], &["collect", "--source", "aws"]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    for (framework, format) in [("soc2", "json"), ("soc2", "html"), ("iso27001", "json")] {
        let out = evidra(
            dir.path(),
            &[
                "report",
                "--framework",
                framework,
                "--format",
                format,
                "-o",
                &format!("r-{framework}.{format}"),
            ],
        );
        assert!(out.status.success());
    }
    assert!(evidra(dir.path(), &["export", "-o", "bundle.zip"]).status.success());
    let mut looked = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("evidra.db") || name.starts_with("r-") || name == "bundle.zip" {
            let bytes = std::fs::read(&path).unwrap();
            looked += 1;
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{name} holds the secret access key"
            );
        }
    }
    assert!(looked >= 5);
    // The bundle's entries are compressed: look inside them too.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(dir.path().join("bundle.zip")).unwrap()).unwrap();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "bundle entry {} holds the secret",
            entry.name().unwrap()
        );
    }
}
