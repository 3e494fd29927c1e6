//! `az resource list` (and any JSON array of ARM objects with `id` and `type`).
//!
//! Secrets are masked in the bytes before they are parsed again: masking a document
//! that parses must give one that parses, else a valid export would be refused.
#![no_main]

use evidra_collector_files::{SourceFile, azure, azure_export};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let masked = azure::mask_json(data);
    if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&masked.bytes).is_ok(),
            "masking secrets broke a JSON document"
        );
    }
    if let (Some(text), Some(value)) = (evidra_fuzz::text(data), evidra_fuzz::json(data)) {
        let file = SourceFile {
            path: evidra_fuzz::AZURE_PATH.into(),
            bytes: data.to_vec(),
        };
        let _ = azure_export::detect(&file, text, &value);
    }
    evidra_fuzz::import(evidra_fuzz::AZURE_PATH, data);
});
