//! The control loader: control TOML files and their Rego rules (compiled), beside the
//! built-in frameworks they map to.
//!
//! Input: files separated by NUL bytes, each `<path relative to controls/>\n<text>`,
//! e.g. `aws/iam/root_mfa.toml\n...\0aws/iam/root_mfa.rego\n...` (make_seeds.py writes
//! every built-in control this way).
#![no_main]

use evidra::catalogue::Catalogue;
use libfuzzer_sys::fuzz_target;

const FRAMEWORKS: [(&str, &str); 2] = [
    (
        "frameworks/soc2.toml",
        include_str!("../../controls/frameworks/soc2.toml"),
    ),
    (
        "frameworks/iso27001.toml",
        include_str!("../../controls/frameworks/iso27001.toml"),
    ),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut files: Vec<(String, String)> = FRAMEWORKS
        .iter()
        .map(|(rel, text)| ((*rel).to_owned(), (*text).to_owned()))
        .collect();
    for part in text.split('\0') {
        let (rel, body) = part.split_once('\n').unwrap_or((part, ""));
        files.push((rel.to_owned(), body.to_owned()));
    }
    let _ = Catalogue::from_texts(files);
});
