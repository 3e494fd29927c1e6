//! Scanner outputs as evidence: Prowler (OCSF JSON, CSV, ASFF), AWS Security Hub (ASFF)
//! and SARIF (Checkov, Trivy), imported by `collect --source files`, mapped onto SOC 2 /
//! ISO 27001, and followed across runs by `evidra findings`.
//!
//! The Prowler and Checkov fixtures are real outputs (Prowler 5.46.0 run against moto,
//! Checkov 3.3.30 run on a small Terraform folder); the Security Hub one is moto's
//! GetFindings answer to ASFF findings written to the published format; the Trivy one is
//! written to Trivy's SARIF layout. tests/fixtures/scanners/README.md says how.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{fixtures, json, stderr, stdout};
use evidra::store::Store;
use serde_json::Value;

const ACCOUNT: &str = "123456789012";

/// Runs evidra in `dir` with the evaluation time pinned to `now`.
fn evidra_at(dir: &Path, now: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evidra"))
        .args(args)
        .current_dir(dir)
        .env("EVIDRA_NOW", now)
        .env_remove("EVIDRA_DB")
        .output()
        .expect("run evidra")
}

/// A folder `name` under `dir` holding the named fixtures (paths under scanners/).
fn exports(dir: &Path, name: &str, files: &[&str]) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    for f in files {
        let from = fixtures("scanners").join(f);
        let to = out.join(Path::new(f).file_name().unwrap());
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    out
}

fn collect(dir: &Path, now: &str, folder: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["collect", "--source", "files", "--path", folder.to_str().unwrap()];
    args.extend_from_slice(extra);
    evidra_at(dir, now, &args)
}

fn collect_ok(dir: &Path, now: &str, folder: &Path) -> String {
    let out = collect(dir, now, folder, &[]);
    assert!(out.status.success(), "collect failed: {}", stderr(&out));
    stdout(&out).trim().to_owned()
}

/// The `scan.finding` records of a run, by resource ID.
fn records(dir: &Path, run: &str, resource_type: &str) -> Vec<evidra_collector_core::ResourceRecord> {
    let store = Store::open(&dir.join("evidra.db")).unwrap();
    store
        .run_data(run)
        .unwrap()
        .resources
        .into_iter()
        .filter(|r| r.resource_type == resource_type)
        .collect()
}

fn record<'a>(
    records: &'a [evidra_collector_core::ResourceRecord],
    id: &str,
) -> &'a evidra_collector_core::ResourceRecord {
    records.iter().find(|r| r.resource_id == id).unwrap_or_else(|| {
        panic!(
            "no record {id} in {:?}",
            records.iter().map(|r| &r.resource_id).collect::<Vec<_>>()
        )
    })
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

const ALICE: &str = "prowler/iam_user_mfa_enabled_console_access/arn:aws:iam::123456789012:user/alice";
const VERSIONING: &str = "prowler/s3_bucket_object_versioning/arn:aws:s3:::acme-audit-logs";
const TRANSPORT_WEB: &str = "prowler/s3_bucket_secure_transport_policy/arn:aws:s3:::acme-web-assets";

#[test]
fn prowler_ocsf_csv_and_asff_of_one_scan_are_one_set_of_findings_mapped_onto_our_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(
        dir.path(),
        "scan",
        &[
            "prowler/scan1.ocsf.json",
            "prowler/scan1.csv",
            "prowler/scan1.asff.json",
        ],
    );
    let run = collect_ok(dir.path(), common::NOW, &folder);
    let findings = records(dir.path(), &run, "scan.finding");
    assert_eq!(
        findings.len(),
        7,
        "one record per Prowler result, whichever files state it"
    );

    let alice = record(&findings, ALICE);
    assert_eq!(
        (alice.provider.as_str(), alice.account.as_str(), alice.region.as_str()),
        ("aws", ACCOUNT, "us-east-1")
    );
    let p = &alice.properties;
    assert_eq!(p["control"], "scan.prowler.iam_user_mfa_enabled_console_access");
    assert_eq!(p["status"], "fail");
    assert_eq!(p["severity"], "high");
    assert_eq!(p["resource"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(
        p["message"],
        "User alice has Console Password enabled but MFA disabled."
    );
    assert_eq!(strings(&p["requirements"]["iso27001"]), ["A.5.15", "A.5.17", "A.8.5"]);
    assert!(
        p["requirements"].get("soc2").is_none(),
        "Prowler maps this check to no SOC 2 criterion"
    );
    assert_eq!(p["unmapped"], false);
    assert!(p["remediation"].as_str().unwrap().contains("MFA"));
    assert_eq!(alice.evidence.len(), 3, "cited by the OCSF, CSV and ASFF files alike");

    // Prowler's `cc_7_4`, `cc_a_1_1`, `cc_c_1_2`, `pi_1_5` are our CC7.4, A1.1, C1.2, PI1.5.
    let versioning = record(&findings, VERSIONING);
    assert_eq!(
        strings(&versioning.properties["requirements"]["soc2"]),
        ["A1.1", "C1.2", "CC7.4", "PI1.5"]
    );
    assert_eq!(
        strings(&versioning.properties["requirements"]["iso27001"]),
        ["A.8.10", "A.8.3"]
    );

    // Prowler maps s3_bucket_secure_transport_policy to neither framework: kept, unmapped.
    let transport = record(&findings, TRANSPORT_WEB);
    assert_eq!(transport.properties["unmapped"], true);
    assert_eq!(transport.properties["requirements"], serde_json::json!({}));

    // Each file is evidence, byte for byte.
    let store = Store::open(&dir.path().join("evidra.db")).unwrap();
    for name in ["scan1.ocsf.json", "scan1.csv", "scan1.asff.json"] {
        let bytes = std::fs::read(folder.join(name)).unwrap();
        let sha = evidra_collector_core::sha256_hex(&bytes);
        assert_eq!(store.blob(&sha).unwrap().as_deref(), Some(bytes.as_slice()), "{name}");
    }
    let media: Vec<(String, String)> = store
        .evidence(&run)
        .unwrap()
        .into_iter()
        .map(|e| (e.operation, e.media_type))
        .collect();
    assert!(media.contains(&("prowler:csv".into(), "text/csv".into())), "{media:?}");
    assert!(
        media.contains(&("prowler:json-ocsf".into(), "application/json".into())),
        "{media:?}"
    );

    // What the scan covered, for the follow-up: Prowler looked at this account and region.
    let reports = records(dir.path(), &run, "scan.report");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].resource_id, "prowler");
    assert_eq!(
        (reports[0].account.as_str(), reports[0].region.as_str()),
        (ACCOUNT, "us-east-1")
    );

    // The engine turns the records into findings under the scanner's controls.
    let stored = store.findings(&run).unwrap();
    let alice = stored.iter().find(|f| f.resource_id == ALICE).unwrap();
    assert_eq!(
        (alice.control.as_str(), alice.status.as_str()),
        ("scan.prowler.iam_user_mfa_enabled_console_access", "fail")
    );
    assert_eq!(alice.evidence.len(), 3);
}

#[test]
fn prowler_manual_checks_are_counted_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(dir.path(), "scan", &["prowler/scan2.csv"]);
    let run = collect_ok(dir.path(), common::NOW, &folder);
    let findings = records(dir.path(), &run, "scan.finding");
    assert_eq!(findings.len(), 7, "8 rows, one of them MANUAL");
    assert!(
        !findings
            .iter()
            .any(|r| r.resource_id.contains("account_maintain_current_contact_details"))
    );
    let reports = records(dir.path(), &run, "scan.report");
    assert_eq!(
        reports[0].properties["skipped"]["scan2.csv"]["manual"], 1,
        "{}",
        reports[0].properties
    );
}

#[test]
fn security_hub_asff_maps_only_what_names_our_frameworks() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(dir.path(), "hub", &["securityhub/get-findings.json"]);
    let run = collect_ok(dir.path(), common::NOW, &folder);
    let findings = records(dir.path(), &run, "scan.finding");
    assert_eq!(findings.len(), 4);

    let root = record(&findings, "securityhub/IAM.6/AWS::::Account:123456789012");
    assert_eq!(root.properties["control"], "scan.securityhub.iam_6");
    assert_eq!(root.properties["severity"], "critical");
    assert_eq!(root.properties["status"], "fail");
    assert_eq!(
        root.properties["unmapped"], true,
        "NIST and PCI requirements are not ours"
    );

    let passed = record(&findings, "securityhub/S3.5/arn:aws:s3:::acme-web-assets");
    assert_eq!(passed.properties["status"], "pass");

    let kms = findings
        .iter()
        .find(|r| r.properties["control"] == "scan.securityhub.acme_kms_audit_key_rotation")
        .expect("the partner finding");
    assert_eq!(strings(&kms.properties["requirements"]["iso27001"]), ["A.8.24"]);
    assert_eq!(strings(&kms.properties["requirements"]["soc2"]), ["CC6.1"]);
    assert_eq!(kms.properties["compliance_field"], "Compliance.RelatedRequirements");
}

#[test]
fn sarif_from_checkov_and_trivy() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(dir.path(), "code", &["sarif/checkov-1.sarif", "sarif/trivy.sarif"]);
    let run = collect_ok(dir.path(), common::NOW, &folder);
    let findings = records(dir.path(), &run, "scan.finding");
    assert_eq!(findings.len(), 5);

    let ssh = record(&findings, "checkov/CKV_AWS_24/infra/main.tf");
    assert_eq!(
        (ssh.provider.as_str(), ssh.account.as_str(), ssh.region.as_str()),
        ("scan", "scan", "global")
    );
    assert_eq!(ssh.properties["control"], "scan.sarif.checkov.ckv_aws_24");
    assert_eq!(ssh.properties["severity"], "high", "level error");
    assert_eq!(ssh.properties["status"], "fail");
    assert_eq!(ssh.properties["unmapped"], true);
    assert!(ssh.properties["message"].as_str().unwrap().starts_with("line 5: "));

    // Trivy's `security-severity` (a CVSS-like score) decides the severity.
    let open_sg = record(&findings, "trivy/AVD-AWS-0107/infra/main.tf");
    assert_eq!(open_sg.properties["control"], "scan.sarif.trivy.avd_aws_0107");
    assert_eq!(open_sg.properties["severity"], "critical");
    assert!(
        open_sg.properties["remediation"]
            .as_str()
            .unwrap()
            .contains("restrictive cidr")
    );

    let reports = records(dir.path(), &run, "scan.report");
    let ids: Vec<&str> = reports.iter().map(|r| r.resource_id.as_str()).collect();
    assert_eq!(ids, ["checkov", "trivy"], "each tool covers the scope on its own");

    let store = Store::open(&dir.path().join("evidra.db")).unwrap();
    assert!(
        store
            .evidence(&run)
            .unwrap()
            .iter()
            .any(|e| e.media_type == "application/sarif+json" && e.operation == "sarif:2.1.0")
    );
}

#[test]
fn reports_list_scanner_findings_under_mapped_requirements_and_unmapped_ones_too() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(
        dir.path(),
        "scan",
        &[
            "prowler/scan1.ocsf.json",
            "securityhub/get-findings.json",
            "sarif/checkov-1.sarif",
        ],
    );
    collect_ok(dir.path(), common::NOW, &folder);
    for framework in ["soc2", "iso27001"] {
        let out = dir.path().join(format!("{framework}.json"));
        let r = evidra_at(
            dir.path(),
            common::NOW,
            &[
                "report",
                "--framework",
                framework,
                "--format",
                "json",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert!(r.status.success(), "{}", stderr(&r));
        for format in ["html", "csv", "oscal", "pdf"] {
            let r = evidra_at(
                dir.path(),
                common::NOW,
                &["report", "--framework", framework, "--format", format],
            );
            assert!(r.status.success(), "{framework} {format}: {}", stderr(&r));
        }
    }

    let iso = json(&dir.path().join("iso27001.json"));
    let a85 = iso["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "A.8.5")
        .unwrap();
    assert!(
        strings(&a85["controls"]).contains(&"scan.prowler.iam_user_mfa_enabled_console_access"),
        "{a85}"
    );
    assert_eq!(a85["status"], "fail");
    let a824 = iso["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "A.8.24")
        .unwrap();
    assert!(strings(&a824["controls"]).contains(&"scan.securityhub.acme_kms_audit_key_rotation"));

    let soc2 = json(&dir.path().join("soc2.json"));
    let cc74 = soc2["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CC7.4")
        .unwrap();
    assert!(
        strings(&cc74["controls"]).contains(&"scan.prowler.s3_bucket_object_versioning"),
        "{cc74}"
    );
    let findings = soc2["findings"].as_array().unwrap();
    let alice = findings
        .iter()
        .find(|f| f["resource"]["id"] == ALICE)
        .expect("listed in the SOC 2 report");
    assert!(
        alice["requirements"].get("soc2").is_none(),
        "but under no SOC 2 requirement"
    );
    assert_eq!(alice["severity"], "high");
    let checkov = findings
        .iter()
        .find(|f| f["control"] == "scan.sarif.checkov.ckv_aws_24")
        .expect("unmapped SARIF findings are listed");
    assert_eq!(checkov["requirements"], serde_json::json!({}));
    let unmapped = findings
        .iter()
        .filter(|f| f["control"].as_str().unwrap().starts_with("scan.") && f["requirements"].get("soc2").is_none())
        .count();
    assert_eq!(soc2["unmapped_scan_findings"], unmapped);
    assert!(unmapped >= 8, "{unmapped}");
    assert!(
        soc2["findings"][0].get("overdue").is_none(),
        "no deadlines configured: no overdue flag"
    );
}

const SEPT: &str = "2026-09-01T00:00:00Z";
const NOV: &str = "2026-11-20T00:00:00Z";
const LATER: &str = "2026-11-25T00:00:00Z";
const DEADLINES: &str = "[deadlines]\ncritical = 7\nhigh = 30\nmedium = 60\nlow = 180\n";

fn tracked<'a>(list: &'a Value, control: &str, resource_suffix: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["control"] == control && t["resource"]["id"].as_str().unwrap().ends_with(resource_suffix))
        .unwrap_or_else(|| panic!("{control} on *{resource_suffix} in {list:#}"))
}

#[test]
fn follow_up_across_scans_fixed_overdue_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("evidra.toml"), DEADLINES).unwrap();
    let first = exports(
        dir.path(),
        "sept",
        &["prowler/scan1.ocsf.json", "prowler/scan1.csv", "sarif/checkov-1.sarif"],
    );
    let second = exports(
        dir.path(),
        "nov",
        &[
            "prowler/scan2.ocsf.json",
            "prowler/scan2.csv",
            "sarif/checkov-2.sarif",
            "sarif/trivy.sarif",
        ],
    );
    let run1 = collect_ok(dir.path(), SEPT, &first);
    let out = collect(dir.path(), NOV, &second, &["--fail-on", "overdue"]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "overdue findings trip the gate: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("scan.sarif.checkov.ckv_aws_24"),
        "{}",
        stderr(&out)
    );
    let run2 = stdout(&out).trim().to_owned();

    // diff: alice got MFA (fail → pass); Checkov no longer reports CKV_AWS_21 (versioning added).
    let diff = evidra_at(dir.path(), NOV, &["diff", &run1, &run2, "--format", "json"]);
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    let fixed: Vec<&str> = diff["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["resource"].as_str().unwrap())
        .collect();
    assert!(fixed.contains(&ALICE), "{fixed:?}");
    let gone: Vec<&str> = diff["disappeared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["control"].as_str().unwrap())
        .collect();
    assert!(gone.contains(&"scan.sarif.checkov.ckv_aws_21"), "{gone:?}");

    let list = evidra_at(dir.path(), NOV, &["findings", "--format", "json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();

    let alice = tracked(&list, "scan.prowler.iam_user_mfa_enabled_console_access", "user/alice");
    assert_eq!(alice["open"], false);
    assert_eq!(alice["status"], "pass");
    assert_eq!(alice["first_seen"]["run"], run1.as_str());
    assert_eq!(alice["closed"]["run"], run2.as_str());
    assert_eq!(alice["age_days"], 80, "open from 1 September to 20 November");
    assert_eq!(alice["overdue"], false);

    let versioning = tracked(&list, "scan.sarif.checkov.ckv_aws_21", "infra/main.tf");
    assert_eq!(versioning["open"], false);
    assert_eq!(versioning["status"], "absent", "the covering scan no longer reports it");

    let ssh = tracked(&list, "scan.sarif.checkov.ckv_aws_24", "infra/main.tf");
    assert_eq!(ssh["open"], true);
    assert_eq!(ssh["age_days"], 80);
    assert_eq!(ssh["deadline_days"], 30);
    assert_eq!(ssh["overdue"], true);
    assert_eq!(ssh["first_seen"]["at"], SEPT);
    assert_eq!(ssh["last_seen"]["run"], run2.as_str());

    let policy = tracked(
        &list,
        "scan.prowler.iam_password_policy_minimum_length_14",
        "password-policy",
    );
    assert_eq!(
        (policy["severity"].as_str(), policy["overdue"].as_bool()),
        (Some("medium"), Some(true))
    );

    let trivy = tracked(&list, "scan.sarif.trivy.avd_aws_0107", "infra/main.tf");
    assert_eq!(
        (trivy["age_days"].as_i64(), trivy["overdue"].as_bool()),
        (Some(0), Some(false))
    );

    // Oldest first.
    let opened: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["first_seen"]["at"].as_str().unwrap())
        .collect();
    let mut sorted = opened.clone();
    sorted.sort();
    assert_eq!(opened, sorted);

    // Filters.
    let open_high = evidra_at(
        dir.path(),
        NOV,
        &["findings", "--open", "--severity", "high", "--format", "json"],
    );
    let open_high: Value = serde_json::from_slice(&open_high.stdout).unwrap();
    assert!(
        open_high
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["open"] == true && matches!(t["severity"].as_str(), Some("high" | "critical"))),
        "{open_high:#}"
    );
    assert!(!open_high.as_array().unwrap().is_empty());
    let since = evidra_at(
        dir.path(),
        NOV,
        &["findings", "--since", "2026-10-01", "--format", "json"],
    );
    let since: Value = serde_json::from_slice(&since.stdout).unwrap();
    let controls: Vec<&str> = since
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["control"].as_str().unwrap())
        .collect();
    assert_eq!(
        controls,
        ["scan.sarif.trivy.avd_aws_0107", "scan.sarif.trivy.avd_aws_0132"]
    );
    let bad = evidra_at(dir.path(), NOV, &["findings", "--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));

    let text = evidra_at(dir.path(), NOV, &["findings", "--open"]);
    let text = stdout(&text);
    assert!(
        text.contains("OVERDUE") && text.contains("scan.sarif.checkov.ckv_aws_24"),
        "{text}"
    );
    let csv = evidra_at(dir.path(), NOV, &["findings", "--format", "csv"]);
    let csv = stdout(&csv);
    assert!(csv.starts_with("first_seen,first_seen_run,"), "{csv}");
    let rows = csv::Reader::from_reader(csv.as_bytes()).records().count();
    assert_eq!(
        rows,
        list.as_array().unwrap().len(),
        "messages with line breaks are quoted"
    );

    // The JSON report flags overdue findings when deadlines are configured.
    let report = evidra_at(dir.path(), NOV, &["report", "--framework", "soc2", "--format", "json"]);
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let finding = |control: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["control"] == control)
            .unwrap_or_else(|| panic!("{control}"))
            .clone()
    };
    assert_eq!(finding("scan.sarif.checkov.ckv_aws_24")["overdue"], true);
    assert_eq!(finding("scan.sarif.trivy.avd_aws_0107")["overdue"], false);

    // So do the HTML (a badge, and a filter), the CSV (a column) and the PDF (a badge).
    let html = evidra_at(dir.path(), NOV, &["report", "--framework", "soc2", "--format", "html"]);
    let html = stdout(&html);
    assert!(
        html.contains(r#"<span class="badge overdue""#),
        "no overdue badge in the HTML"
    );
    assert!(
        html.contains(r#"<option value="overdue">"#),
        "no overdue filter in the HTML"
    );
    let csv = evidra_at(dir.path(), NOV, &["report", "--framework", "soc2", "--format", "csv"]);
    let mut csv = csv::Reader::from_reader(csv.stdout.as_slice());
    let header = csv.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let overdue_by_control: Vec<(String, String)> = csv
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[column("control")].to_owned(), r[column("overdue")].to_owned()))
        .collect();
    assert!(overdue_by_control.contains(&("scan.sarif.checkov.ckv_aws_24".into(), "true".into())));
    assert!(overdue_by_control.contains(&("scan.sarif.trivy.avd_aws_0107".into(), "false".into())));
    let pdf = dir.path().join("soc2.pdf");
    let out = evidra_at(
        dir.path(),
        NOV,
        &[
            "report",
            "--framework",
            "soc2",
            "--format",
            "pdf",
            "-o",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    if let Ok(text) = Command::new("pdftotext").args([pdf.to_str().unwrap(), "-"]).output() {
        assert!(
            String::from_utf8_lossy(&text.stdout).contains("OVERDUE"),
            "no overdue badge in the PDF"
        );
    }

    // The audit-period report follows scanner controls like the catalogue's: Prowler's
    // MFA check (mapped by Prowler to ISO A.8.5) failed on 1 September, passed on 20 November.
    let period = evidra_at(
        dir.path(),
        NOV,
        &[
            "report",
            "--framework",
            "iso27001",
            "--from",
            "2026-09-01",
            "--to",
            "2026-11-20",
            "--format",
            "json",
        ],
    );
    assert!(period.status.success(), "{}", stderr(&period));
    let period: Value = serde_json::from_slice(&period.stdout).unwrap();
    let mfa = period["period"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "scan.prowler.iam_user_mfa_enabled_console_access")
        .unwrap_or_else(|| panic!("scanner control missing from the period report"));
    let failing_on: Vec<&Value> = mfa["failing_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"].as_str().is_some_and(|r| r.ends_with("user/alice")))
        .flat_map(|f| f["failing_on"].as_array().unwrap())
        .collect();
    assert_eq!(failing_on, [&Value::from("2026-09-01")], "{mfa:#}");

    // A later run with only Trivy covers the same scope for Trivy alone: Checkov's and
    // Prowler's findings stay open as last seen, they are not "fixed".
    let third = exports(dir.path(), "later", &["sarif/trivy.sarif"]);
    collect_ok(dir.path(), LATER, &third);
    let list = evidra_at(dir.path(), LATER, &["findings", "--format", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let ssh = tracked(&list, "scan.sarif.checkov.ckv_aws_24", "infra/main.tf");
    assert_eq!(
        (ssh["open"].as_bool(), ssh["age_days"].as_i64()),
        (Some(true), Some(85))
    );
    assert_eq!(ssh["last_seen"]["run"], run2.as_str());
    assert_eq!(
        tracked(&list, "scan.prowler.s3_bucket_object_versioning", "acme-audit-logs")["open"],
        true
    );
}

#[test]
fn fail_on_overdue_needs_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(dir.path(), "scan", &["sarif/checkov-1.sarif"]);
    let out = collect(dir.path(), NOV, &folder, &["--fail-on", "overdue"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("[deadlines]"), "{}", stderr(&out));
    assert!(
        !dir.path().join("evidra.db").exists(),
        "refused before collecting anything"
    );
}

#[test]
fn an_exception_waives_a_scanner_finding() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("exceptions.toml"),
        format!(
            "[[exception]]\ncontrol = \"scan.prowler.s3_bucket_secure_transport_policy\"\nresource = \"{TRANSPORT_WEB}\"\n\
             justification = \"Public website assets; HTTPS enforced at the CDN.\"\napproved_by = \"Dana Whitfield (CISO)\"\n\
             approved_on = 2026-08-01\nexpires = 2027-02-01\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("evidra.toml"),
        format!("exceptions = \"exceptions.toml\"\n{DEADLINES}"),
    )
    .unwrap();
    let first = exports(dir.path(), "sept", &["prowler/scan1.ocsf.json"]);
    let second = exports(dir.path(), "nov", &["prowler/scan2.ocsf.json"]);
    collect_ok(dir.path(), SEPT, &first);
    let run = collect_ok(dir.path(), NOV, &second);

    let store = Store::open(&dir.path().join("evidra.db")).unwrap();
    let findings = store.findings(&run).unwrap();
    let waived = findings.iter().find(|f| f.resource_id == TRANSPORT_WEB).unwrap();
    assert_eq!(waived.status, "waived");
    assert!(waived.message.contains("Dana Whitfield (CISO)"), "{}", waived.message);
    let other = findings
        .iter()
        .find(|f| f.resource_id == "prowler/s3_bucket_secure_transport_policy/arn:aws:s3:::acme-audit-logs")
        .unwrap();
    assert_eq!(other.status, "fail", "the exception names one bucket only");

    let list = evidra_at(dir.path(), NOV, &["findings", "--format", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let t = tracked(
        &list,
        "scan.prowler.s3_bucket_secure_transport_policy",
        "acme-web-assets",
    );
    assert_eq!(
        (t["status"].as_str(), t["open"].as_bool(), t["overdue"].as_bool()),
        (Some("waived"), Some(false), Some(false))
    );
    let t = tracked(
        &list,
        "scan.prowler.s3_bucket_secure_transport_policy",
        "acme-audit-logs",
    );
    assert_eq!((t["open"].as_bool(), t["overdue"].as_bool()), (Some(true), Some(true)));
}

#[test]
fn the_same_scans_give_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(
        dir.path(),
        "scan",
        &[
            "prowler/scan1.ocsf.json",
            "prowler/scan1.csv",
            "securityhub/get-findings.json",
            "sarif/trivy.sarif",
        ],
    );
    let a = collect_ok(dir.path(), NOV, &folder);
    let b = collect_ok(dir.path(), NOV, &folder);
    let store = Store::open(&dir.path().join("evidra.db")).unwrap();
    assert_eq!(store.findings(&a).unwrap(), store.findings(&b).unwrap());
    assert_eq!(
        store.run_data(&a).unwrap().resources,
        store.run_data(&b).unwrap().resources
    );
}

/// The auditor's JSON report is written as its findings are read from the store
/// (`write_json_streamed`); to the byte it must be the report built whole and rendered,
/// which holds the model's fields, a finding to a line:
/// with scanner findings mapped and unmapped, overdue flags, an organisation.
#[test]
fn the_streamed_json_report_is_the_built_one() {
    let dir = tempfile::tempdir().unwrap();
    let folder = exports(
        dir.path(),
        "scan",
        &[
            "prowler/scan1.ocsf.json",
            "securityhub/get-findings.json",
            "sarif/checkov-1.sarif",
            "sarif/trivy.sarif",
        ],
    );
    collect_ok(dir.path(), SEPT, &folder);
    collect_ok(dir.path(), NOV, &folder);
    let store = Store::open(&dir.path().join("evidra.db")).unwrap();
    let catalogue = evidra::catalogue::Catalogue::with_dirs(&[]).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let deadlines = evidra::config::Deadlines {
        critical: Some(7),
        high: Some(30),
        medium: Some(60),
        low: Some(180),
        info: None,
    };
    let overdue = evidra::followup::Overdue::of(&store, &catalogue, &deadlines, &run).unwrap();
    let mut flagged = 0;
    for framework in ["soc2", "iso27001"] {
        for (organisation, overdue) in [(None, None), (Some("Acme Ltd".to_owned()), Some(&overdue))] {
            let mut model = evidra::report::build(&store, &catalogue, &run, framework, organisation.clone()).unwrap();
            if let Some(overdue) = overdue {
                overdue.flag(&mut model);
                flagged += model.findings.iter().filter(|f| f.overdue == Some(true)).count();
            }
            assert!(model.unmapped_scan_findings > 0, "{framework}: the case is covered");
            let built = evidra::report::render(&model, evidra::report::Format::Json).unwrap();
            // Whatever its layout, the report holds exactly the model's fields, and each
            // finding is one line.
            let parsed: serde_json::Value = serde_json::from_slice(&built).unwrap();
            assert_eq!(parsed, serde_json::to_value(model.json()).unwrap(), "{framework}");
            let lines = String::from_utf8_lossy(&built)
                .lines()
                .filter(|line| line.starts_with("    {\"control\":"))
                .count();
            assert_eq!(lines, model.findings.len(), "{framework}: a line per finding");
            let mut streamed = Vec::new();
            evidra::report::write_json_streamed(
                &store,
                &catalogue,
                &run,
                framework,
                organisation,
                overdue,
                &mut streamed,
            )
            .unwrap();
            let (streamed, built) = (String::from_utf8(streamed).unwrap(), String::from_utf8(built).unwrap());
            let first_difference = streamed.lines().zip(built.lines()).position(|(s, b)| s != b);
            assert_eq!(first_difference, None, "{framework}: the first line that differs");
            assert_eq!(streamed.len(), built.len(), "{framework}");
        }
    }
    assert!(flagged > 0, "some finding is overdue: the flag is covered");
}

/// The streamed JSON report copies each finding into a batch it reuses, once batches
/// come back written: a field left over from the finding a slot held before (a longer
/// evidence list, an overdue flag, a message) must never show. Findings of several
/// batches, unlike one another in each field, in two runs so that some are overdue.
#[test]
fn a_streamed_json_report_of_many_batches_shows_nothing_of_a_slots_last_finding() {
    use evidra::store::{RunStatus, StoredFinding};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("evidra.db")).unwrap();
    let catalogue = evidra::catalogue::Catalogue::with_dirs(&[]).unwrap();
    let controls: Vec<&str> = catalogue
        .controls
        .iter()
        .filter(|c| c.requirements.iter().any(|m| m.framework == "soc2"))
        .map(|c| c.id.as_str())
        .take(3)
        .collect();
    let findings = |failing_from: usize| -> Vec<StoredFinding> {
        (0..3000)
            .map(|i| StoredFinding {
                control: controls[i % controls.len()].to_owned(),
                provider: "aws".into(),
                account: format!("{:012}", i % 7),
                region: ["global", "us-east-1", "eu-west-1"][i % 3].into(),
                resource_type: "aws.iam.user".into(),
                resource_id: format!("arn:aws:iam::{:012}:user/{}", i % 7, "u".repeat(1 + i % 40)) + &i.to_string(),
                status: if i >= failing_from && i % 2 == 0 {
                    "fail"
                } else {
                    ["pass", "error", "not_applicable"][i % 3]
                }
                .into(),
                message: "m".repeat(i % 97),
                evidence: (0..i % 4).map(|n| format!("{:064x}", i * 4 + n)).collect(),
            })
            .collect()
    };
    for (at, failing_from) in [(SEPT, 1500), (NOV, 0)] {
        let run = store.begin_run(at, at, &["files".to_owned()]).unwrap();
        store.write_findings(&run.id, &findings(failing_from)).unwrap();
        store.finish_run(&run.id, RunStatus::Complete, at).unwrap();
    }
    let run = store.resolve_run("latest").unwrap();
    let deadlines = evidra::config::Deadlines {
        critical: Some(7),
        high: Some(7),
        medium: Some(7),
        low: Some(7),
        info: Some(7),
    };
    let overdue = evidra::followup::Overdue::of(&store, &catalogue, &deadlines, &run).unwrap();
    let mut model = evidra::report::build(&store, &catalogue, &run, "soc2", None).unwrap();
    overdue.flag(&mut model);
    // The model's findings are the stored ones: both reports are made of them.
    let stored: Vec<_> = store
        .findings(&run.id)
        .unwrap()
        .into_iter()
        .map(|f| (f.control, f.resource_id, f.status, f.message, f.evidence))
        .collect();
    let in_model: Vec<_> = model
        .findings
        .iter()
        .map(|f| {
            let (control, id, status) = (f.control.clone(), f.resource.id.clone(), f.status.as_str().to_owned());
            (control, id, status, f.message.clone(), f.evidence.clone())
        })
        .collect();
    assert_eq!(in_model, stored);
    let flagged = model.findings.iter().filter(|f| f.overdue == Some(true)).count();
    assert!(
        flagged > 0 && flagged < 3000,
        "{flagged} overdue: both kinds are covered"
    );
    let built = String::from_utf8(evidra::report::render(&model, evidra::report::Format::Json).unwrap()).unwrap();
    let mut streamed = Vec::new();
    evidra::report::write_json_streamed(&store, &catalogue, &run, "soc2", None, Some(&overdue), &mut streamed).unwrap();
    let streamed = String::from_utf8(streamed).unwrap();
    let first_difference = streamed.lines().zip(built.lines()).position(|(s, b)| s != b);
    assert_eq!(first_difference, None, "the first line that differs");
    assert_eq!(streamed.len(), built.len());
}

/// A malformed scanner file stops the import with an error naming it (exit 1).
fn rejects(name: &str, content: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("scan");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(name), content).unwrap();
    let out = collect(dir.path(), NOV, &folder, &[]);
    assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(name) && err.contains(expected),
        "{name}: expected `{expected}` in: {err}"
    );
}

#[test]
fn malformed_scanner_files_are_errors_naming_the_file() {
    let ocsf = std::fs::read_to_string(fixtures("scanners/prowler/scan1.ocsf.json")).unwrap();
    rejects("truncated.ocsf.json", &ocsf[..ocsf.len() / 2], "not valid JSON");
    rejects(
        "bad-status.ocsf.json",
        &ocsf.replacen("\"status_code\": \"FAIL\"", "\"status_code\": \"MAYBE\"", 1),
        "MAYBE",
    );

    let csv = std::fs::read_to_string(fixtures("scanners/prowler/scan1.csv")).unwrap();
    rejects("bad-severity.csv", &csv.replacen(";high;", ";urgent;", 1), "SEVERITY");
    let header = csv.lines().next().unwrap();
    rejects("header-only.csv", &format!("{header}\n"), "no rows");

    let hub = std::fs::read_to_string(fixtures("scanners/securityhub/get-findings.json")).unwrap();
    rejects(
        "no-generator.json",
        &hub.replacen("\"GeneratorId\"", "\"Generator\"", 1),
        "GeneratorId",
    );
    rejects("empty-findings.json", "{\"Findings\": []}", "empty `Findings`");

    let sarif = std::fs::read_to_string(fixtures("scanners/sarif/trivy.sarif")).unwrap();
    rejects(
        "old.sarif",
        &sarif.replacen("\"2.1.0\"", "\"2.0.0\"", 1),
        "only SARIF 2.1.0",
    );
    rejects(
        "no-message.sarif",
        &sarif.replacen(
            "\"message\": {\n            \"text\"",
            "\"note\": {\n            \"text\"",
            1,
        ),
        "message",
    );
}

#[test]
fn catalogue_findings_are_followed_too() {
    let dir = tempfile::tempdir().unwrap();
    let exports = fixtures("files");
    let run1 = collect_ok(dir.path(), SEPT, &exports);
    collect_ok(dir.path(), NOV, &exports);
    let list = evidra_at(dir.path(), NOV, &["findings", "--open", "--format", "json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let aws: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["control"].as_str().unwrap().starts_with("aws."))
        .collect();
    assert!(!aws.is_empty(), "{list:#}");
    for t in aws {
        assert_eq!(
            (t["first_seen"]["run"].as_str(), t["age_days"].as_i64()),
            (Some(run1.as_str()), Some(80)),
            "{t}"
        );
        assert!(
            !t["title"].as_str().unwrap().is_empty() && t["severity"] != "unknown",
            "{t}"
        );
    }
}
