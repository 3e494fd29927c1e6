//! What the fuzz targets share: feeding one file through the files collector the way
//! `evidra collect --source files` does (recognise by content, parse, normalise).
//!
//! Each target first calls its own parser directly (so the fuzzer's feedback is about
//! that parser), then the whole import, so the normalisation of what that parser
//! accepted is fuzzed too. Errors are fine; a panic, a hang or a blow-up is a bug.

use std::path::PathBuf;

use evidra_collector_files::SourceFile;

/// A folder name that gives an AWS file its account, as users lay exports out.
pub const AWS_PATH: &str = "aws-111122223333/config/us-east-1/export.json";
/// A folder name that gives an Azure file its subscription.
pub const AZURE_PATH: &str = "azure-0b1f6471-1bf0-4dda-aec3-cb9272f09590/export.json";

/// Imports `bytes` as the one file at `path` of a folder.
pub fn import(path: &str, bytes: &[u8]) {
    let file = SourceFile {
        path: PathBuf::from(path),
        bytes: bytes.to_vec(),
    };
    let _ = evidra_collector_files::import("fuzz", &[file], "2026-11-20T00:00:00Z");
}

/// The input as JSON, as the files collector reads it (a leading BOM and white space
/// are allowed); None when it is not.
pub fn json(bytes: &[u8]) -> Option<serde_json::Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    serde_json::from_str(text.trim_start_matches('\u{feff}').trim_start()).ok()
}

/// The input as the text the files collector would see (after the BOM), None when not UTF-8.
pub fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .map(|t| t.trim_start_matches('\u{feff}').trim_start())
}

/// The body of the three Azure export targets (they differ only in their seeds): masks
/// secrets, which must keep a parsing document parsing (else a valid export would be
/// refused), recognises the export, then imports it as a file of a folder.
pub fn azure_export(data: &[u8]) {
    let masked = evidra_collector_files::azure::mask_json(data);
    if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&masked.bytes).is_ok(),
            "masking secrets broke a JSON document"
        );
    }
    if let (Some(text), Some(value)) = (self::text(data), self::json(data)) {
        let file = SourceFile {
            path: AZURE_PATH.into(),
            bytes: data.to_vec(),
        };
        let _ = evidra_collector_files::azure_export::detect(&file, text, &value);
    }
    import(AZURE_PATH, data);
}
