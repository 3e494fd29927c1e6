//! `az graph query` (Azure Resource Graph: `{"count", "data": [...], "skip_token"}` or a plain array).
//!
//! The body is shared by the three Azure export targets: `evidra_fuzz::azure_export`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| evidra_fuzz::azure_export(data));
