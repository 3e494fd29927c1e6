//! An AWS Config configuration snapshot (`.json`, or `.json.gz` as Config delivers it).
#![no_main]

use evidra_collector_files::aws_config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(value) = evidra_fuzz::json(data)
        && let Ok(snapshot) = aws_config::snapshot(value)
    {
        for item in &snapshot.items {
            let _ = (item.is_current(), aws_config::resource_type(&item.config_type));
        }
    }
    evidra_fuzz::import(evidra_fuzz::AWS_PATH, data);
});
