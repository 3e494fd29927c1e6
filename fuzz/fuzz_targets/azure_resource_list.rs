//! `az resource list` (and any JSON array of ARM objects with `id` and `type`).
//!
//! The body is shared by the three Azure export targets: `evidra_fuzz::azure_export`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| evidra_fuzz::azure_export(data));
