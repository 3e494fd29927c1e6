//! Prowler's OCSF JSON output (`-M json-ocsf`).
#![no_main]

use evidra_collector_files::scanners::prowler_ocsf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(value) = evidra_fuzz::json(data) {
        let _ = prowler_ocsf::looks_like(&value);
        let _ = prowler_ocsf::parse(&value);
    }
    evidra_fuzz::import("scans/prowler.ocsf.json", data);
});
