//! `az role assignment list --all --include-inherited` (the CLI's flattened rows).
//!
//! The body is shared by the three Azure export targets: `evidra_fuzz::azure_export`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| evidra_fuzz::azure_export(data));
