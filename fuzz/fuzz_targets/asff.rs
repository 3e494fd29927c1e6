//! AWS Security Hub findings in ASFF (`aws securityhub get-findings`, Prowler `-M json-asff`).
#![no_main]

use evidra_collector_files::scanners::asff;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(value) = evidra_fuzz::json(data) {
        let _ = asff::looks_like(&value);
        let _ = asff::parse(&value);
    }
    evidra_fuzz::import("scans/get-findings.json", data);
});
