//! The exceptions file (accepted risks), then applying it: resource patterns are globs,
//! matched against findings' resource IDs.
#![no_main]

use evidra::exceptions;
use evidra::store::StoredFinding;
use libfuzzer_sys::fuzz_target;

fn finding(control: &str, resource_id: &str) -> StoredFinding {
    StoredFinding {
        control: control.to_owned(),
        provider: "aws".to_owned(),
        account: "111122223333".to_owned(),
        region: "global".to_owned(),
        resource_type: "aws.iam.user".to_owned(),
        resource_id: resource_id.to_owned(),
        status: "fail".to_owned(),
        message: "console password enabled and no MFA device".to_owned(),
        evidence: vec!["0".repeat(64)],
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(list) = exceptions::parse("exceptions.toml", text) else {
        return;
    };
    let mut findings = vec![
        finding("aws.iam.user_console_mfa", "arn:aws:iam::111122223333:user/break-glass"),
        finding(
            "aws.iam.user_console_mfa",
            &format!("arn:aws:iam::111122223333:user/{}", "a".repeat(200)),
        ),
    ];
    for e in &list {
        let _ = e.state_at("2027-01-01T00:00:00Z");
        let _ = exceptions::glob(&e.resource, &e.control);
    }
    exceptions::apply(&mut findings, &list, "2026-11-20T00:00:00Z", &"1".repeat(64));
});
