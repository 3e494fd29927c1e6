//! Prowler's CSV output (`-M csv`, `;`-separated).
#![no_main]

use evidra_collector_files::scanners::prowler_csv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = evidra_fuzz::text(data) {
        let _ = prowler_csv::looks_like(text);
        let _ = prowler_csv::parse(text);
    }
    evidra_fuzz::import("scans/prowler.csv", data);
});
