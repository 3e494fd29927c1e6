//! Reports in every format, from the demo store: what they must contain, that they are
//! reproducible to the byte, that OSCAL parses as OSCAL (compliance-trestle), and that
//! the customer audience names nothing of the estate.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{evidra, json, stderr};
use evidra::report::{self, Audience};

const FRAMEWORKS: [&str; 2] = ["soc2", "iso27001"];

/// One demo store for the whole file (the demo collects, evaluates and renders: seconds
/// each time), in cargo's scratch folder for integration tests.
fn demo() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("reports-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = evidra(&dir, &["demo"]);
        assert!(out.status.success(), "demo failed: {}", stderr(&out));
        dir
    })
}

/// `evidra report` into a file of the demo folder; returns its bytes.
fn report(framework: &str, format: &str, audience: &str, name: &str) -> Vec<u8> {
    let path = demo().join(name);
    let out = evidra(
        demo(),
        &[
            "report",
            "--framework",
            framework,
            "--format",
            format,
            "--audience",
            audience,
            "-o",
            path.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "report {framework} {format} {audience}: {}",
        stderr(&out)
    );
    std::fs::read(&path).unwrap()
}

fn requirement_ids(framework: &str) -> Vec<String> {
    let report = json(&demo().join(format!("evidra-out/{framework}.json")));
    report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The page texts typst laid out, through the library (no PDF parser needed).
fn typst_pages(framework: &str, audience: Audience) -> Vec<String> {
    let store = evidra::store::Store::open(&demo().join("evidra.db")).unwrap();
    let catalogue = evidra::catalogue::Catalogue::with_dirs(&[]).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let model = report::build(&store, &catalogue, &run, framework, None).unwrap();
    report::pdf::page_texts(&model, audience).unwrap()
}

/// The PDF's own text layer, when poppler's pdftotext is installed: pages split on form
/// feeds. `None` without it (the typst layout is checked either way).
fn pdftotext(pdf: &Path) -> Option<Vec<String>> {
    let out = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .ok()?;
    assert!(out.status.success(), "pdftotext failed on {}", pdf.display());
    let text = String::from_utf8_lossy(&out.stdout).replace('\u{200B}', "");
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Some(pages)
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_format_for_both_frameworks() {
    for framework in FRAMEWORKS {
        for format in ["html", "pdf", "json", "csv", "oscal"] {
            let bytes = report(framework, format, "auditor", &format!("all-{framework}.{format}"));
            assert!(bytes.len() > 1000, "{framework} {format} is nearly empty");
            match format {
                "html" => assert!(bytes.starts_with(b"<!DOCTYPE html>")),
                "pdf" => assert!(bytes.starts_with(b"%PDF-")),
                "csv" => assert!(bytes.starts_with(b"control,status,severity,requirements,")),
                _ => {
                    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap();
                }
            }
        }
        for format in ["html", "pdf", "json"] {
            let bytes = report(
                framework,
                format,
                "customer",
                &format!("all-customer-{framework}.{format}"),
            );
            assert!(bytes.len() > 1000, "customer {framework} {format} is nearly empty");
        }
    }
    // The demo writes HTML, PDF and JSON for both frameworks (DESIGN.md).
    for framework in FRAMEWORKS {
        for ext in ["html", "pdf", "json"] {
            assert!(demo().join(format!("evidra-out/{framework}.{ext}")).exists());
        }
    }
}

#[test]
fn the_customer_audience_refuses_csv_and_oscal() {
    for format in ["csv", "oscal"] {
        let out = evidra(
            demo(),
            &[
                "report",
                "--framework",
                "soc2",
                "--format",
                format,
                "--audience",
                "customer",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        assert!(stderr(&out).contains("customer audience"), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn csv_has_one_row_per_finding_in_order() {
    for framework in FRAMEWORKS {
        let bytes = report(framework, "csv", "auditor", &format!("rows-{framework}.csv"));
        let json = json(&demo().join(format!("evidra-out/{framework}.json")));
        let findings = json["findings"].as_array().unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            evidra::report::csv_report::HEADER
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), findings.len(), "{framework}: one row per finding");
        for (row, f) in rows.iter().zip(findings) {
            assert_eq!(&row[0], f["control"].as_str().unwrap());
            assert_eq!(&row[1], f["status"].as_str().unwrap());
            assert_eq!(&row[5], f["resource"]["account"].as_str().unwrap());
            assert_eq!(&row[8], f["resource"]["id"].as_str().unwrap());
            assert_eq!(&row[9], f["message"].as_str().unwrap());
            let requirements: Vec<&str> = f["requirements"][framework]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            assert_eq!(&row[3], requirements.join(" "));
            let evidence: Vec<&str> = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .collect();
            assert_eq!(&row[10], evidence.join(" "));
        }
        // CRLF line ends (RFC 4180), and messages with commas are quoted, not split.
        assert!(bytes.windows(2).any(|w| w == b"\r\n"));
    }
}

#[test]
fn oscal_is_assessment_results_that_trestle_loads() {
    for framework in FRAMEWORKS {
        let bytes = report(framework, "oscal", "auditor", &format!("{framework}.oscal.json"));
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let ar = &doc["assessment-results"];
        assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
        let report = json(&demo().join(format!("evidra-out/{framework}.json")));
        assert_eq!(ar["metadata"]["last-modified"], report["run"]["finished_at"]);
        let results = ar["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "one result per run");
        let result = &results[0];
        let observations = result["observations"].as_array().unwrap();
        assert_eq!(
            observations.len(),
            report["findings"].as_array().unwrap().len() + report["gaps"].as_array().unwrap().len(),
            "an observation per finding and per gap"
        );
        // Findings per requirement: every requirement, as an objective.
        let targets: Vec<&str> = result["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["target"]["target-id"].as_str().unwrap())
            .collect();
        assert_eq!(targets, requirement_ids(framework));
        for f in result["findings"].as_array().unwrap() {
            assert_eq!(f["target"]["type"], "objective-id");
            let state = f["target"]["status"]["state"].as_str().unwrap();
            assert!(state == "satisfied" || state == "not-satisfied");
        }
        // Every observation of a finding cites its evidence by SHA-256, as the JSON does.
        let cited: BTreeSet<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()))
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        for sha in &cited {
            assert!(text.contains(&format!("\"value\": \"{sha}\"")), "{sha} not cited");
        }

        let python = common::python();
        let script = "import pathlib, sys\n\
             from trestle.oscal.assessment_results import AssessmentResults\n\
             ar = AssessmentResults.oscal_read(pathlib.Path(sys.argv[1]))\n\
             r = ar.results[0]\n\
             print(len(r.observations or []), len(r.findings or []))\n";
        let path = demo().join(format!("{framework}.oscal.json"));
        let out = Command::new(&python)
            .args(["-c", script, path.to_str().unwrap()])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "compliance-trestle rejects the {framework} OSCAL (pip install -r scripts/test-requirements.txt): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let counts = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            counts.trim(),
            format!("{} {}", observations.len(), targets.len()),
            "trestle read what we wrote"
        );
    }
}

#[test]
fn pdf_is_multipage_has_every_requirement_and_page_numbers() {
    for framework in FRAMEWORKS {
        let ids = requirement_ids(framework);
        // As typst laid it out.
        let pages = typst_pages(framework, Audience::Auditor);
        assert!(pages.len() > 5, "{framework}: {} pages", pages.len());
        let n = pages.len();
        for (i, page) in pages.iter().enumerate() {
            let page = squash(page);
            assert!(
                page.contains(&format!("Page {} of {n}", i + 1)),
                "{framework} page {} has no page number: {page:.200}",
                i + 1
            );
        }
        let all = pages.join("\n");
        for id in &ids {
            assert!(
                all.contains(id.as_str()),
                "{framework}: requirement {id} missing from the PDF"
            );
        }
        for heading in [
            "Executive summary",
            "Requirement matrix",
            "Failing findings by requirement",
            "Exceptions register",
            "Manual evidence index",
            "Evidence appendix",
            "Contents",
        ] {
            assert!(all.contains(heading), "{framework}: no {heading}");
        }
        // The requirement matrix runs over several pages: its header is on each.
        let headed = pages
            .iter()
            .filter(|p| squash(p).contains("ID Requirement Status Controls and findings"))
            .count();
        assert!(headed >= 2, "{framework}: the matrix header repeats ({headed} pages)");

        // And in the PDF's own text layer, when poppler is there to read it.
        let path = demo().join(format!("evidra-out/{framework}.pdf"));
        if let Some(pdf_pages) = pdftotext(&path) {
            assert_eq!(pdf_pages.len(), n, "{framework}: the PDF has the pages typst laid out");
            let text = squash(&pdf_pages.join("\n"));
            assert!(text.contains(&format!("Page 1 of {n}")));
            for id in &ids {
                assert!(
                    text.contains(id.as_str()),
                    "{framework}: requirement {id} not in the PDF text"
                );
            }
        } else {
            eprintln!("note: pdftotext not installed; checked the typst layout only");
        }
    }
}

#[test]
fn every_report_is_identical_on_a_second_render() {
    for framework in FRAMEWORKS {
        for (format, audience) in [
            ("pdf", "auditor"),
            ("pdf", "customer"),
            ("html", "auditor"),
            ("html", "customer"),
            ("json", "auditor"),
            ("json", "customer"),
            ("csv", "auditor"),
            ("oscal", "auditor"),
        ] {
            let a = report(
                framework,
                format,
                audience,
                &format!("again-a-{framework}-{audience}.{format}"),
            );
            let b = report(
                framework,
                format,
                audience,
                &format!("again-b-{framework}-{audience}.{format}"),
            );
            assert!(a == b, "{framework} {format} ({audience}) differs between two renders");
        }
    }
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Every identifier of the estate the auditor's JSON shows: resource IDs, accounts, gap
/// scopes, and the words of resource IDs (user, bucket, trail names...).
///
/// A word of a resource ID is not counted when the customer report's own texts have it
/// regardless of the estate: its templates, the statements and notes in
/// src/report/customer.rs, and the framework's catalogue. A user called
/// `monitoring-exporter` makes "monitoring" an identifier, but the SOC 2 family
/// "Monitoring activities" is on every SOC 2 summary. Whole resource IDs, account IDs
/// and scopes are always counted; the providers' own words (ARN syntax, service and type
/// names) and the vendor's name (on the cover by design) never are.
fn estate_identifiers(framework: &str) -> BTreeSet<String> {
    let report = json(&demo().join(format!("evidra-out/{framework}.json")));
    let mut vocabulary: BTreeSet<String> = words(report["organisation"].as_str().unwrap_or_default()).collect();
    vocabulary.extend(["arn", "aws", "azure", "subscriptions", "resourcegroups", "providers"].map(String::from));
    for own in [
        "reports/html/customer.html".to_owned(),
        "reports/pdf/customer.typ".to_owned(),
        "src/report/customer.rs".to_owned(),
        format!("controls/frameworks/{framework}.toml"),
    ] {
        let text = std::fs::read_to_string(common::repo().join(own)).unwrap();
        vocabulary.extend(words(&text));
    }
    let mut ids = BTreeSet::new();
    for f in report["findings"].as_array().unwrap() {
        let r = &f["resource"];
        vocabulary.extend(words(r["type"].as_str().unwrap()));
        let id = r["id"].as_str().unwrap();
        ids.insert(id.to_owned());
        ids.insert(r["account"].as_str().unwrap().to_owned());
        for word in id.split(|c: char| !c.is_alphanumeric()) {
            ids.insert(word.to_owned());
        }
    }
    for g in report["gaps"].as_array().unwrap() {
        ids.insert(g["scope"].as_str().unwrap().to_owned());
    }
    ids.retain(|w| w.len() >= 3 && !vocabulary.contains(&w.to_lowercase()));
    ids
}

/// Whether `word` occurs in `text` as a whole word (case-insensitive): `user/alice`
/// must not match `malice`, and an account ID must not match inside a hash.
fn contains_word(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let word = word.to_lowercase();
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    text.match_indices(&word)
        .any(|(at, _)| boundary(text[..at].chars().next_back()) && boundary(text[at + word.len()..].chars().next()))
}

/// Dotted quads (IPv4 addresses and CIDRs).
fn ipv4s(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3)
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn customer_reports_name_nothing_of_the_estate() {
    for framework in FRAMEWORKS {
        let identifiers = estate_identifiers(framework);
        assert!(
            identifiers.len() > 50,
            "the scan has identifiers to look for ({})",
            identifiers.len()
        );
        let mut outputs: Vec<(String, String)> = ["html", "json"]
            .iter()
            .map(|format| {
                let bytes = report(framework, format, "customer", &format!("scan-{framework}.{format}"));
                (format.to_string(), String::from_utf8(bytes).unwrap())
            })
            .collect();
        report(framework, "pdf", "customer", &format!("scan-{framework}.pdf"));
        outputs.push((
            "pdf (typst layout)".into(),
            typst_pages(framework, Audience::Customer).join("\n"),
        ));
        if let Some(pages) = pdftotext(&demo().join(format!("scan-{framework}.pdf"))) {
            assert!((1..=3).contains(&pages.len()), "{framework}: {} pages", pages.len());
            outputs.push(("pdf (text layer)".into(), pages.join("\n")));
        }
        let pages = typst_pages(framework, Audience::Customer).len();
        assert!(
            (1..=3).contains(&pages),
            "{framework}: the customer PDF has {pages} pages"
        );

        for (what, text) in &outputs {
            let leaked: Vec<&String> = identifiers.iter().filter(|id| contains_word(text, id)).collect();
            assert!(
                leaked.is_empty(),
                "{framework} customer {what} names the estate: {leaked:?}"
            );
            assert_eq!(
                ipv4s(text),
                Vec::<String>::new(),
                "{framework} customer {what} has IP addresses"
            );
            assert!(!text.contains("arn:"), "{framework} customer {what} has an ARN");
        }
        // What it does say: the run's date and manifest, and every family.
        let report = json(&demo().join(format!("evidra-out/{framework}.json")));
        let manifest = report["run"]["manifest"].as_str().unwrap();
        let json_text = &outputs[1].1;
        assert!(json_text.contains(manifest));
        assert!(outputs[0].1.contains(manifest));
    }
}

#[test]
fn the_identifier_scan_would_catch_a_leak() {
    // The scan above is only as good as its matching: prove it finds what it must.
    let ids = estate_identifiers("soc2");
    let auditor = String::from_utf8(report("soc2", "html", "auditor", "scan-auditor.html")).unwrap();
    assert!(ids.iter().any(|id| contains_word(&auditor, id)));
    assert!(contains_word("user alice signed in", "alice"));
    assert!(!contains_word("malice", "alice"));
    assert_eq!(
        ipv4s("open to 0.0.0.0/0 and 10.1.2.3, version 0.1.0"),
        ["0.0.0.0", "10.1.2.3"]
    );
}

/// A writer that takes `room` bytes, then fails as a full disk does.
struct FullAfter {
    room: usize,
}

impl std::io::Write for FullAfter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
        let n = bytes.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The JSON report's findings are read on a second thread while this one writes them:
/// when the writing fails part way (a full disk), the report is that error, and the
/// reading stops rather than waiting forever to hand over its next findings.
#[test]
fn a_json_report_whose_writing_fails_part_way_is_that_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let catalogue = evidra::catalogue::Catalogue::with_dirs(&[]).unwrap();
    let run = store
        .begin_run(common::NOW, common::NOW, &["files".to_owned()])
        .unwrap();
    let findings: Vec<evidra::store::StoredFinding> = (0..20_000)
        .map(|i| evidra::store::StoredFinding {
            control: "aws.iam.user_console_mfa".into(),
            provider: "aws".into(),
            account: "123456789012".into(),
            region: "global".into(),
            resource_type: "aws.iam.user".into(),
            resource_id: format!("arn:aws:iam::123456789012:user/user{i:05}"),
            status: "pass".into(),
            message: "console password protected by MFA".into(),
            evidence: vec![],
        })
        .collect();
    store.write_findings(&run.id, &findings).unwrap();
    let run = store
        .finish_run(&run.id, evidra::store::RunStatus::Complete, common::NOW)
        .unwrap();

    let mut whole = Vec::new();
    report::write_json_streamed(&store, &catalogue, &run, "soc2", None, None, &mut whole).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&whole).unwrap();
    assert_eq!(parsed["findings"].as_array().unwrap().len(), 20_000);

    let mut full = FullAfter { room: whole.len() / 10 };
    let error = report::write_json_streamed(&store, &catalogue, &run, "soc2", None, None, &mut full)
        .expect_err("a full disk is an error");
    assert!(
        error.to_string().contains("No space left"),
        "the writing's own error, not the reader's: {error}"
    );
}
