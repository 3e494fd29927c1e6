//! Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found to crash, hang or blow up a
//! parser, minimised, each named after what it found. Each must now give a result or a
//! clear error, quickly and in bounded memory.

use std::io::Write;
use std::path::{Path, PathBuf};

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

/// A zip whose central directory lists `count` entries that all point at one local
/// entry: `size` zero bytes, deflated. Each listed entry decompresses the same bytes.
fn overlapping_zip(count: u16, size: u32) -> Vec<u8> {
    let zeros = vec![0u8; size as usize];
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(&zeros).unwrap();
    let compressed = deflate.finish().unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(&zeros);
    let (crc, compressed_size) = (crc.sum(), u32::try_from(compressed.len()).unwrap());
    let name = b"evidence/a";
    let mut zip = Vec::new();
    zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    for half in [20u16, 0, 8, 0, 0] {
        zip.extend_from_slice(&half.to_le_bytes()); // version, flags, deflate, time, date
    }
    for word in [crc, compressed_size, size] {
        zip.extend_from_slice(&word.to_le_bytes());
    }
    zip.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(name);
    zip.extend_from_slice(&compressed);
    let directory_start = u32::try_from(zip.len()).unwrap();
    for i in 0..count {
        let name = format!("evidence/{i:04}");
        zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        for half in [20u16, 20, 0, 8, 0, 0] {
            zip.extend_from_slice(&half.to_le_bytes()); // made by, needed, flags, deflate, time, date
        }
        for word in [crc, compressed_size, size] {
            zip.extend_from_slice(&word.to_le_bytes());
        }
        zip.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
        for half in [0u16, 0, 0, 0] {
            zip.extend_from_slice(&half.to_le_bytes()); // extra, comment, disk, internal attributes
        }
        zip.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        zip.extend_from_slice(&0u32.to_le_bytes()); // every entry's local header: offset 0
        zip.extend_from_slice(name.as_bytes());
    }
    let directory_size = u32::try_from(zip.len()).unwrap() - directory_start;
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for half in [0u16, 0, count, count] {
        zip.extend_from_slice(&half.to_le_bytes());
    }
    zip.extend_from_slice(&directory_size.to_le_bytes());
    zip.extend_from_slice(&directory_start.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

#[test]
fn bundle_entries_sharing_compressed_data_are_refused() {
    // verify-bundle read every listed entry into memory: 64 entries over one deflated
    // 64 MiB member (a 69 KB file) took more than 2 GiB, and more entries any amount.
    // Kept small here (64 x 1 MiB) so that a regression fails rather than exhausts memory.
    let zip = overlapping_zip(64, 1 << 20);
    assert!(zip.len() < 10 * 1024);
    let err = evidra::bundle::verify_bytes(Path::new("bomb.zip"), &zip).expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains("bomb.zip") && message.contains("overlapping"),
        "{message}"
    );
}

#[test]
fn bundle_with_one_entry_over_its_own_data_is_read() {
    // The same layout with one entry is an ordinary zip: only sharing is refused.
    let zip = overlapping_zip(1, 1 << 20);
    let check = evidra::bundle::verify_bytes(Path::new("one.zip"), &zip).expect("a readable zip");
    assert_eq!(check.problems, ["manifest.json is missing"]);
}

#[test]
fn rego_deeply_nested_brackets_are_refused_not_parsed_for_minutes() {
    // regorus's parser is exponential in bracket nesting: 20 nested `[` in a rule took
    // 30 to 45 s to load (the `control` target's timeout); 30 would take years.
    let frameworks = ["soc2", "iso27001"].map(|f| {
        let rel = format!("frameworks/{f}.toml");
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("controls").join(&rel)).unwrap();
        (rel, text)
    });
    let control =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("controls/aws/iam/root_mfa.toml")).unwrap();
    let rego = format!(
        "package controls.aws.iam.root_mfa\n\n# [[[[ in a comment and \"[[[[\" in a string do not count\nx if {{\n\tnot{} 1\n}}\n",
        "[".repeat(30)
    );
    let started = std::time::Instant::now();
    let err = evidra::catalogue::Catalogue::from_texts(frameworks.into_iter().chain([
        ("aws/iam/root_mfa.toml".to_owned(), control),
        ("aws/iam/root_mfa.rego".to_owned(), rego),
    ]))
    .expect_err("refused");
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
    assert_eq!(
        err.to_string(),
        "aws/iam/root_mfa.rego:5: brackets nested more than 12 deep"
    );
}
