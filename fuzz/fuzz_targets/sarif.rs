//! SARIF 2.1.0 logs (Trivy, Checkov, Semgrep, CodeQL...).
#![no_main]

use evidra_collector_files::scanners::sarif;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(value) = evidra_fuzz::json(data) {
        let _ = sarif::looks_like(&value);
        let _ = sarif::parse(value);
    }
    evidra_fuzz::import("scans/results.sarif", data);
});
