//! `aws iam get-account-authorization-details` (users, groups, roles, policies with
//! their URL-encoded or inline documents).
#![no_main]

use evidra_collector_files::iam_details;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(value) = evidra_fuzz::json(data)
        && let Ok(details) = iam_details::parse(value)
    {
        let _ = details.accounts();
    }
    evidra_fuzz::import("aws-111122223333/iam/account-authorization-details.json", data);
});
