//! Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found to crash, hang or blow up a
//! parser, minimised, each named after what it found. Each must now give a result or a
//! clear error, quickly and in bounded memory.

use std::path::PathBuf;

use evidra_collector_files::scanners::sarif;
use evidra_collector_files::{SourceFile, import};
use serde_json::{Value, json};

/// A SARIF log of one result of rule `r`, whose message is the rule's message string
/// `m` (`template`) filled with `arguments`.
fn sarif_log(template: &str, arguments: Vec<String>) -> Value {
    json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "t", "rules": [{"id": "r", "messageStrings": {"m": {"text": template}}}]}},
            "results": [{"ruleId": "r", "message": {"id": "m", "arguments": arguments}}]
        }]
    })
}

#[test]
fn sarif_nested_message_arguments_do_not_blow_up() {
    // Argument i is `{i+1}{i+1}`: filling placeholders one argument after the other
    // used to expand each argument's placeholders again, doubling the message 40 times
    // (2^40 copies: terabytes) from a log of a few hundred bytes.
    let arguments: Vec<String> = (1..=40).map(|i| format!("{{{i}}}{{{i}}}")).collect();
    let scan = sarif::parse(sarif_log("{0}", arguments)).expect("a valid SARIF log");
    assert_eq!(scan.findings.len(), 1);
    assert_eq!(
        scan.findings[0].message, "{1}{1}",
        "an argument goes in verbatim, its own braces untouched"
    );
}

#[test]
fn sarif_many_placeholders_times_a_long_argument_are_bounded() {
    // 20,000 placeholders of one 100 KiB argument would be a 2 GB message.
    let template = "{0}".repeat(20_000);
    let scan = sarif::parse(sarif_log(&template, vec!["x".repeat(100 * 1024)])).expect("a valid SARIF log");
    let message = &scan.findings[0].message;
    assert!(message.len() < 70 * 1024, "message of {} bytes", message.len());
    assert!(message.ends_with("[message cut short by evidra]"), "says it was cut");
}

#[test]
fn sarif_message_placeholders_still_fill_as_before() {
    let arguments = vec!["a".to_owned(), "b".to_owned()];
    let scan = sarif::parse(sarif_log("{1} then {0}, {2} and {01} stay, {{0}} {", arguments)).unwrap();
    assert_eq!(scan.findings[0].message, "b then a, {2} and {01} stay, {a} {");
}

#[test]
fn sarif_nested_arguments_through_the_files_import() {
    // The same input as a file of a folder, as `evidra collect --source files` reads it.
    let arguments: Vec<String> = (1..=40).map(|i| format!("{{{i}}}{{{i}}}")).collect();
    let file = SourceFile {
        path: PathBuf::from("scans/results.sarif"),
        bytes: serde_json::to_vec(&sarif_log("{0}", arguments)).unwrap(),
    };
    let batch = import("exports", &[file], "2026-11-20T00:00:00Z").expect("imports");
    assert!(!batch.resources.is_empty());
}
