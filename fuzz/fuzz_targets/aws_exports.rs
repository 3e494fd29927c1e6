//! The other AWS exports the files collector recognises: password policy, account
//! summary, Config recorders and their status, delivery channels, Config rules and
//! their compliance, virtual MFA devices.
#![no_main]

use evidra_collector_files::{aws_config, iam_account};
use libfuzzer_sys::fuzz_target;

const LISTS: [&str; 6] = [
    "ConfigurationRecorders",
    "ConfigurationRecordersStatus",
    "DeliveryChannels",
    "ConfigRules",
    "ComplianceByConfigRules",
    "VirtualMFADevices",
];

fuzz_target!(|data: &[u8]| {
    if let Some(value) = evidra_fuzz::json(data) {
        let _ = iam_account::password_policy(value.clone());
        let _ = iam_account::summary(value.clone());
        for key in LISTS {
            if value.get(key).is_some()
                && let Ok(list) = aws_config::list(value.clone(), key)
            {
                for entry in &list {
                    let _ = aws_config::name(entry);
                    let _ = aws_config::recorder(Some(entry), Some(entry));
                }
            }
        }
    }
    evidra_fuzz::import(evidra_fuzz::AWS_PATH, data);
});
