//! The audit-period report and retention (prune), over several runs whose findings differ.

mod common;

use std::path::Path;
use std::process::Command;

fn evidra_at(dir: &Path, now: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_evidra"))
        .args(args)
        .current_dir(dir)
        .env("EVIDRA_NOW", now)
        .env_remove("EVIDRA_DB")
        .output()
        .unwrap()
}

/// Runs on Nov 1, 2 and 5 (no run on 3 and 4); the password policy is fixed before Nov 5.
fn three_runs(dir: &Path) -> std::path::PathBuf {
    let exports = dir.join("exports");
    std::fs::create_dir(&exports).unwrap();
    for entry in std::fs::read_dir(common::fixtures("files")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), exports.join(entry.file_name())).unwrap();
    }
    let path = exports.to_str().unwrap().to_owned();
    for day in ["2026-11-01", "2026-11-02"] {
        assert!(
            evidra_at(
                dir,
                &format!("{day}T08:00:00Z"),
                &["collect", "--source", "files", "--path", &path]
            )
            .status
            .success()
        );
    }
    let policy = std::fs::read_to_string(exports.join("password-policy.json")).unwrap();
    std::fs::write(
        exports.join("password-policy.json"),
        policy.replace("\"MinimumPasswordLength\": 12", "\"MinimumPasswordLength\": 14"),
    )
    .unwrap();
    assert!(
        evidra_at(
            dir,
            "2026-11-05T08:00:00Z",
            &["collect", "--source", "files", "--path", &path]
        )
        .status
        .success()
    );
    exports
}

#[test]
fn the_period_report_counts_runs_failures_and_days_without_a_run() {
    let dir = tempfile::tempdir().unwrap();
    three_runs(dir.path());
    let out = evidra_at(
        dir.path(),
        "2026-11-20T00:00:00Z",
        &[
            "report",
            "--framework",
            "soc2",
            "--format",
            "json",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-06",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let period: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let period = &period["period"];
    assert_eq!(period["runs"].as_array().unwrap().len(), 3);
    assert_eq!(
        period["days_without_run"],
        serde_json::json!(["2026-11-03", "2026-11-04", "2026-11-06"])
    );
    let control = period["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "aws.iam.password_policy_min_length")
        .unwrap();
    assert_eq!(control["runs"], 3);
    assert_eq!(control["runs_passing"], 1);
    assert_eq!(control["first_failure"], "2026-11-01");
    assert_eq!(control["last_failure"], "2026-11-02");
    assert_eq!(control["longest_failing_days"], 2);
    assert_eq!(control["open_at_end"], false);
    assert_eq!(
        control["failing_findings"][0]["failing_on"],
        serde_json::json!(["2026-11-01", "2026-11-02"])
    );
    let family = period["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CC6")
        .unwrap();
    let days: Vec<&str> = family["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(days[2], "no_run", "a day without a run is never a pass: {days:?}");
    assert_eq!(days.len(), 6);

    let html = evidra_at(
        dir.path(),
        "2026-11-20T00:00:00Z",
        &[
            "report",
            "--framework",
            "soc2",
            "--format",
            "html",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-06",
            "-o",
            "period.html",
        ],
    );
    assert!(html.status.success());
    let html = std::fs::read_to_string(dir.path().join("period.html")).unwrap();
    assert!(
        html.contains("<svg")
            && html.contains("no run that day")
            && html.contains("aws.iam.password_policy_min_length")
    );
}

#[test]
fn the_period_pdf_has_a_timeline_every_evaluated_requirement_and_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    three_runs(dir.path());
    let render = |name: &str| {
        let out = evidra_at(
            dir.path(),
            "2026-11-20T00:00:00Z",
            &[
                "report",
                "--framework",
                "soc2",
                "--format",
                "pdf",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-06",
                "-o",
                name,
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(dir.path().join(name)).unwrap()
    };
    let first = render("period-1.pdf");
    assert!(first.starts_with(b"%PDF-"));
    assert_eq!(
        first,
        render("period-2.pdf"),
        "the same period renders to the same bytes"
    );

    // The layout, through the library.
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let catalogue = evidra::catalogue::Catalogue::with_dirs(&[]).unwrap();
    let model = evidra::report::period::build(&store, &catalogue, "soc2", "2026-11-01", "2026-11-06", None).unwrap();
    let pages = evidra::report::pdf::period_page_texts(&model).unwrap();
    let text = pages.join("\n").replace('\u{200B}', "");
    let n = pages.len();
    assert!(n >= 3, "cover, contents, timeline...: {n} pages");
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("Page {} of {n}", i + 1)),
            "page {}: {page}",
            i + 1
        );
    }
    assert!(text.contains("Timeline by requirement family"));
    assert!(text.contains("No run that day (not a pass)"));
    assert!(text.contains("2026-11-03"), "the day without a run is named");
    for r in model.requirements.iter().filter(|r| r.held.runs > 0) {
        assert!(text.contains(&r.id), "{} missing", r.id);
    }
    assert!(text.contains("aws.iam.password_policy_min_length"));
}

#[test]
fn prune_leaves_a_tombstone_and_verify_still_holds() {
    let dir = tempfile::tempdir().unwrap();
    three_runs(dir.path());
    let before: serde_json::Value =
        serde_json::from_slice(&evidra_at(dir.path(), "2026-11-20T00:00:00Z", &["runs", "--format", "json"]).stdout)
            .unwrap();
    // Runs finish at wall-clock time: prune everything finished before tomorrow except the last.
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .date()
        .to_string();
    let out = evidra_at(dir.path(), "2026-11-20T00:00:00Z", &["prune", "--before", &tomorrow]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after: serde_json::Value =
        serde_json::from_slice(&evidra_at(dir.path(), "2026-11-20T00:00:00Z", &["runs", "--format", "json"]).stdout)
            .unwrap();
    let ids: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&before[0]["id"].as_str().unwrap()),
        "the oldest run is gone"
    );
    assert!(
        ids.contains(&before[2]["id"].as_str().unwrap()),
        "the last collection is kept"
    );
    assert_eq!(
        after.as_array().unwrap().last().unwrap()["sources"],
        serde_json::json!(["prune"]),
        "a tombstone sealed into the chain"
    );
    let verify = evidra_at(dir.path(), "2026-11-20T00:00:00Z", &["verify"]);
    let text = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(0), "{text}");
    assert!(text.contains("pruned 2 run(s)"), "{text}");
}

/// Regression: the run kept by a prune was simply the last of the chain, which after a
/// first prune is its tombstone, so a second prune with the same date removed the newest
/// collection and left a store with no evidence at all. (Found by the kill tests.)
#[test]
fn a_second_prune_keeps_the_newest_collection() {
    let dir = tempfile::tempdir().unwrap();
    three_runs(dir.path());
    let runs = |dir: &Path| -> Vec<serde_json::Value> {
        let out = evidra_at(dir, "2026-11-20T00:00:00Z", &["runs", "--format", "json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let newest = runs(dir.path()).last().unwrap()["id"].clone();
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .date()
        .to_string();
    for _ in 0..2 {
        let out = evidra_at(dir.path(), "2026-11-20T00:00:00Z", &["prune", "--before", &tomorrow]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            runs(dir.path()).iter().any(|r| r["id"] == newest),
            "the newest collection survives every prune"
        );
    }
    assert_eq!(
        evidra_at(dir.path(), "2026-11-20T00:00:00Z", &["verify"]).status.code(),
        Some(0)
    );
    let report = evidra_at(
        dir.path(),
        "2026-11-20T00:00:00Z",
        &["report", "--framework", "soc2", "--format", "json"],
    );
    assert!(report.status.success(), "the latest run still reports");
}
