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
        kill_after(dir.path(), &["collect", "--source", "files", "--path", demo], delay_ms);
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
    // A run killed while its findings were being written keeps none of them: never some
    // controls' findings and not others'.
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    for run in store.runs().unwrap() {
        if run.catalogue.is_none() {
            assert_eq!(
                store.findings(&run.id).unwrap(),
                [],
                "run {} was not evaluated to its end",
                run.id
            );
        }
    }
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

/// Starts `evidra args` in `dir` and kills it (SIGKILL) after `delay_ms`.
fn kill_after(dir: &Path, args: &[&str], delay_ms: u64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_evidra"))
        .args(args)
        .current_dir(dir)
        .env("EVIDRA_NOW", common::NOW)
        .env_remove("EVIDRA_DB")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let _ = child.kill(); // SIGKILL: no chance to clean up.
    let _ = child.wait();
}

fn runs(dir: &Path) -> Vec<Value> {
    let out = evidra(dir, &["runs", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn killing_an_import_leaves_the_run_absent_or_whole() {
    let source = tempfile::tempdir().unwrap();
    let demo = common::repo().join("examples/demo");
    evidra(
        source.path(),
        &["collect", "--source", "files", "--path", demo.to_str().unwrap()],
    );
    let out = evidra(source.path(), &["export", "-o", "bundle.zip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bundle = source.path().join("bundle.zip");
    let bundle = bundle.to_str().unwrap();
    let exported = runs(source.path()).pop().unwrap()["id"].clone();

    let dir = tempfile::tempdir().unwrap();
    let fixtures = common::fixtures("files");
    assert!(
        evidra(
            dir.path(),
            &["collect", "--source", "files", "--path", fixtures.to_str().unwrap()]
        )
        .status
        .success()
    );
    for delay_ms in [5u64, 30, 80, 150, 300] {
        kill_after(dir.path(), &["import", bundle], delay_ms);
        let verify = evidra(dir.path(), &["verify"]);
        assert_eq!(
            verify.status.code(),
            Some(0),
            "after a kill at {delay_ms} ms: {}",
            stdout(&verify)
        );
        let imported: Vec<Value> = runs(dir.path()).into_iter().filter(|r| r["id"] == exported).collect();
        assert!(
            imported.is_empty() || imported[0]["manifest"].is_string(),
            "after a kill at {delay_ms} ms the imported run is absent or sealed: {imported:?}"
        );
    }
    let out = evidra(dir.path(), &["import", bundle]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(runs(dir.path()).iter().filter(|r| r["id"] == exported).count(), 1);
    assert_eq!(evidra(dir.path(), &["verify"]).status.code(), Some(0));
}

#[test]
fn killing_a_prune_keeps_the_chain_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = common::fixtures("files");
    for _ in 0..4 {
        assert!(
            evidra(
                dir.path(),
                &["collect", "--source", "files", "--path", fixtures.to_str().unwrap()]
            )
            .status
            .success()
        );
    }
    let before = runs(dir.path());
    // Runs finish at wall-clock time: "before tomorrow" prunes all but the last collection.
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .date()
        .to_string();
    for delay_ms in [5u64, 20, 50, 100, 200] {
        kill_after(dir.path(), &["prune", "--before", &tomorrow], delay_ms);
        let verify = evidra(dir.path(), &["verify"]);
        assert_eq!(
            verify.status.code(),
            Some(0),
            "after a kill at {delay_ms} ms: {}",
            stdout(&verify)
        );
    }
    let out = evidra(dir.path(), &["prune", "--before", &tomorrow]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = runs(dir.path());
    assert!(
        after.iter().any(|r| r["id"] == before.last().unwrap()["id"]),
        "the last collection is kept"
    );
    assert!(
        !after.iter().any(|r| r["id"] == before[0]["id"]),
        "the oldest is pruned"
    );
    assert_eq!(evidra(dir.path(), &["verify"]).status.code(), Some(0));
}

/// Runs evidra with writes past `limit_kib` of any file refused (RLIMIT_FSIZE, with
/// SIGXFSZ ignored so the write fails with EFBIG): what a full disk looks like to SQLite.
fn evidra_with_file_limit(dir: &Path, limit_kib: u64, args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_evidra"));
    cmd.args(args)
        .current_dir(dir)
        .env("EVIDRA_NOW", common::NOW)
        .env_remove("EVIDRA_DB");
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: limit_kib * 1024,
                rlim_max: limit_kib * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    cmd.output().unwrap()
}

#[test]
fn a_full_disk_fails_the_run_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::repo().join("examples/demo");
    let demo = demo.to_str().unwrap();
    evidra(dir.path(), &["collect", "--source", "files", "--path", demo]);
    let first = runs(dir.path());
    // The WAL starts empty after a clean close: 64 KiB is far less than a demo run writes.
    let out = evidra_with_file_limit(dir.path(), 64, &["collect", "--source", "files", "--path", demo]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.starts_with("evidra: error:") && message.contains("store") && message.lines().count() == 1,
        "one line naming the store: {message}"
    );
    let after = runs(dir.path());
    assert_eq!(after[0], first[0], "the earlier run is untouched");
    for r in &after[1..] {
        assert_ne!(
            r["status"], "complete",
            "the run that hit the full disk is not complete: {r}"
        );
    }
    assert_eq!(evidra(dir.path(), &["verify"]).status.code(), Some(0));
    // With room again, the store takes the next run.
    let out = evidra(dir.path(), &["collect", "--source", "files", "--path", demo]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(evidra(dir.path(), &["verify"]).status.code(), Some(0));
}

/// Makes `file` (or a folder) read-only even for root: `chattr +i` when running as root
/// (CAP_LINUX_IMMUTABLE), else mode 0400 (0500 for a folder). Returns how to undo it, or
/// None when neither works here.
fn make_read_only(file: &Path) -> Option<Box<dyn Fn()>> {
    let path = file.to_path_buf();
    if unsafe { libc::geteuid() } == 0 {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        return ok.then(|| {
            Box::new(move || {
                std::process::Command::new("chattr")
                    .arg("-i")
                    .arg(&path)
                    .status()
                    .unwrap();
            }) as Box<dyn Fn()>
        });
    }
    use std::os::unix::fs::PermissionsExt;
    let (locked, open) = if path.is_dir() { (0o500, 0o700) } else { (0o400, 0o600) };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(locked)).unwrap();
    Some(Box::new(move || {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(open)).unwrap();
    }))
}

/// Regression: in a folder that cannot be written, every command, even `verify`, failed
/// with SQLite's bare "unable to open database file": a store handed over on read-only
/// media could not be checked. Now it reads, and writing says the store is read-only.
#[test]
fn a_store_in_a_read_only_folder_still_reads_and_refuses_writes_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = common::fixtures("files");
    let fixtures = fixtures.to_str().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    // `args` with the store in `store/`: the command, then `--db`, then the rest.
    let in_store = |args: &[&str]| {
        let mut all = vec![args[0], "--db", "store/evidra.db"];
        all.extend_from_slice(&args[1..]);
        evidra(dir.path(), &all)
    };
    assert!(
        in_store(&["collect", "--source", "files", "--path", fixtures])
            .status
            .success()
    );
    // No run lock is left beside a sealed store: in the read-only folder it cannot be made.
    assert!(!store.join("evidra.db.lock").exists());
    let before = runs(&store);
    let bytes = std::fs::read(store.join("evidra.db")).unwrap();
    let Some(undo) = make_read_only(&store) else {
        eprintln!("skipped: running as root without CAP_LINUX_IMMUTABLE, nothing can make a folder read-only");
        return;
    };
    let written = in_store(&["collect", "--source", "files", "--path", fixtures]);
    let verified = in_store(&["verify"]).status.code();
    let reported = in_store(&["report", "--framework", "soc2", "--format", "json"])
        .status
        .code();
    let listed = in_store(&["runs"]);
    undo();
    let message = stderr(&written);
    assert_eq!(written.status.code(), Some(1), "{message}");
    assert!(
        message.starts_with("evidra: error:") && message.contains("read-only") && message.lines().count() == 1,
        "one line saying the store is read-only: {message}"
    );
    assert_eq!((verified, reported), (Some(0), Some(0)));
    assert!(
        stdout(&listed).contains(before[0]["id"].as_str().unwrap()),
        "{}",
        stdout(&listed)
    );
    assert_eq!(
        std::fs::read(store.join("evidra.db")).unwrap(),
        bytes,
        "nothing changed"
    );
    assert_eq!(runs(&store), before, "nothing was added or lost");
}

#[test]
fn a_read_only_store_is_a_clear_error_and_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = common::fixtures("files");
    let fixtures = fixtures.to_str().unwrap();
    assert!(
        evidra(dir.path(), &["collect", "--source", "files", "--path", fixtures])
            .status
            .success()
    );
    let before = runs(dir.path());
    let Some(undo) = make_read_only(&dir.path().join("evidra.db")) else {
        eprintln!("skipped: running as root without CAP_LINUX_IMMUTABLE, nothing can make a file read-only");
        return;
    };
    let out = evidra(dir.path(), &["collect", "--source", "files", "--path", fixtures]);
    let message = stderr(&out);
    // Reading still works: verify and reports need no write.
    let verify = evidra(dir.path(), &["verify"]).status.code();
    let report = evidra(dir.path(), &["report", "--framework", "soc2", "--format", "json"])
        .status
        .code();
    let after = runs(dir.path());
    undo();
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert!(
        message.starts_with("evidra: error:") && message.contains("read-only") && message.lines().count() == 1,
        "one line saying the store is read-only: {message}"
    );
    assert_eq!((verify, report), (Some(0), Some(0)));
    assert_eq!(after, before, "nothing was added or lost");
}
