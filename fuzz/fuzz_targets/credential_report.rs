//! The IAM credential report (CSV), as `aws iam get-credential-report` gives it decoded.
#![no_main]

use evidra_collector_files::credential_report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = evidra_fuzz::text(data) {
        let _ = credential_report::looks_like(text);
        if let Ok(report) = credential_report::parse(text) {
            for row in &report.rows {
                let _ = (row.is_root(), row.account(), row.fields());
            }
        }
    }
    evidra_fuzz::import("aws-111122223333/iam/credential-report.csv", data);
});
