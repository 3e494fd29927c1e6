//! The evidence store: round trip, append-only, and `verify` catching tampering.

mod common;

use evidra::catalogue::Catalogue;
use evidra::store::{RunStatus, Store, verify};
use evidra_collector_files::FilesCollector;
use rusqlite::Connection;

fn collected_store(dir: &std::path::Path) -> (Store, String) {
    let store = Store::open(&dir.join("evidra.db")).unwrap();
    let catalogue = Catalogue::builtin().unwrap();
    let collectors: Vec<Box<dyn evidra_collector_core::Collector>> =
        vec![Box::new(FilesCollector::from_dir(common::fixtures("files")))];
    let rt = tokio::runtime::Runtime::new().unwrap();
    let outcome = rt
        .block_on(evidra::collect::run(
            &store,
            &catalogue,
            &collectors,
            Some(common::NOW.into()),
        ))
        .unwrap();
    (store, outcome.run.id)
}

/// Tampering the way an attacker with the file would: around the triggers.
fn tamper(dir: &std::path::Path, sql: &str) {
    let conn = Connection::open(dir.join("evidra.db")).unwrap();
    conn.execute_batch("DROP TRIGGER IF EXISTS blobs_no_update; DROP TRIGGER IF EXISTS findings_no_delete; DROP TRIGGER IF EXISTS runs_frozen;").unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn round_trip_keeps_evidence_verbatim_and_every_finding_cites_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = collected_store(dir.path());
    let run = store.run(&run).unwrap();
    assert_eq!(run.status, RunStatus::Complete);
    assert_eq!(run.evaluated_at, common::NOW);
    let evidence = store.evidence(&run.id).unwrap();
    assert_eq!(evidence.len(), 7);
    for e in &evidence {
        let bytes = store.blob(&e.sha256).unwrap().unwrap();
        assert_eq!(evidra_collector_core::sha256_hex(&bytes), e.sha256);
    }
    let findings = store.findings(&run.id).unwrap();
    assert!(!findings.is_empty());
    for f in &findings {
        assert!(
            !f.evidence.is_empty(),
            "{} on {} cites evidence",
            f.control,
            f.resource_id
        );
        for sha in &f.evidence {
            assert!(store.blob(sha).unwrap().is_some(), "cited blob {sha} is stored");
        }
    }
    assert!(verify::verify(&store).unwrap().problems.is_empty());
}

#[test]
fn the_store_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    collected_store(dir.path());
    let mode = std::fs::metadata(dir.path().join("evidra.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn finished_runs_refuse_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, run) = collected_store(dir.path());
    let conn = Connection::open(dir.path().join("evidra.db")).unwrap();
    assert!(conn.execute("DELETE FROM findings WHERE run_id = ?1", [&run]).is_err());
    assert!(
        conn.execute("UPDATE runs SET status = 'complete' WHERE id = ?1", [&run])
            .is_err()
    );
    assert!(conn.execute("UPDATE blobs SET bytes = x'00'", []).is_err());
}

#[test]
fn verify_names_a_changed_evidence_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = collected_store(dir.path());
    let sha = store.evidence(&store.resolve_run("latest").unwrap().id).unwrap()[0]
        .sha256
        .clone();
    drop(store);
    tamper(
        dir.path(),
        &format!("UPDATE blobs SET bytes = CAST(bytes AS BLOB) || x'20' WHERE sha256 = '{sha}'"),
    );
    let report = verify::verify(&Store::open(&dir.path().join("evidra.db")).unwrap()).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.what.contains(&sha) && p.what.contains("changed")),
        "{:?}",
        report.problems
    );
}

#[test]
fn verify_names_a_deleted_finding() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = collected_store(dir.path());
    drop(store);
    tamper(
        dir.path(),
        &format!("DELETE FROM findings WHERE run_id = '{run}' AND control = 'aws.iam.root_mfa'"),
    );
    let report = verify::verify(&Store::open(&dir.path().join("evidra.db")).unwrap()).unwrap();
    let problem = report
        .problems
        .iter()
        .find(|p| p.run.as_deref() == Some(run.as_str()))
        .expect("the run is named");
    assert!(problem.what.contains("finding(s) deleted"), "{problem}");
}

#[test]
fn verify_names_findings_citing_missing_or_no_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = collected_store(dir.path());
    drop(store);
    let conn = Connection::open(dir.path().join("evidra.db")).unwrap();
    conn.execute_batch("DROP TRIGGER IF EXISTS findings_no_update;")
        .unwrap();
    let missing = "0".repeat(64);
    conn.execute_batch(&format!(
        "UPDATE findings SET evidence = '[\"{missing}\"]' WHERE run_id = '{run}' AND control = 'aws.iam.root_mfa';
         UPDATE findings SET evidence = '[]' WHERE run_id = '{run}' AND control = 'aws.iam.password_policy_min_length';"
    ))
    .unwrap();
    drop(conn);
    let report = verify::verify(&Store::open(&dir.path().join("evidra.db")).unwrap()).unwrap();
    let said = |text: &str| {
        report
            .problems
            .iter()
            .any(|p| p.run.as_deref() == Some(run.as_str()) && p.what.contains(text))
    };
    assert!(said("aws.iam.root_mfa on"), "{:?}", report.problems);
    assert!(
        said(&format!("cites evidence {missing}, which is not in the store")),
        "{:?}",
        report.problems
    );
    assert!(said("aws.iam.password_policy_min_length on"), "{:?}", report.problems);
    assert!(said("cites no evidence"), "{:?}", report.problems);
}

#[test]
fn verify_names_a_broken_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _first) = collected_store(dir.path());
    drop(store);
    let (store, second) = collected_store(dir.path());
    assert_eq!(store.runs().unwrap().len(), 2);
    assert_eq!(
        store.run(&second).unwrap().prev_manifest,
        store.runs().unwrap()[0].manifest
    );
    drop(store);
    tamper(
        dir.path(),
        &format!(
            "UPDATE runs SET prev_manifest = '{}' WHERE id = '{second}'",
            "0".repeat(64)
        ),
    );
    let report = verify::verify(&Store::open(&dir.path().join("evidra.db")).unwrap()).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.run.as_deref() == Some(second.as_str()) && p.what.contains("chain broken")),
        "{:?}",
        report.problems
    );
}

#[test]
fn an_interrupted_run_is_sealed_partial_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidra.db");
    {
        let store = Store::open(&path).unwrap();
        store
            .begin_run("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", &["files".into()])
            .unwrap();
        // The process dies here: the run stays `running`.
    }
    let (store, _) = collected_store(dir.path());
    let runs = store.runs().unwrap();
    assert_eq!(runs[0].status, RunStatus::Partial);
    assert!(runs[0].manifest.is_some());
    assert!(verify::verify(&store).unwrap().problems.is_empty());
}

#[test]
fn a_store_from_a_newer_evidra_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    collected_store(dir.path());
    Connection::open(dir.path().join("evidra.db"))
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(&dir.path().join("evidra.db")).err().unwrap();
    assert!(err.to_string().contains("newer evidra"), "{err}");
}

#[test]
fn same_evidence_and_controls_give_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (store, a) = collected_store(dir.path());
    drop(store);
    let (store, b) = collected_store(dir.path());
    assert_eq!(store.findings(&a).unwrap(), store.findings(&b).unwrap());
}
