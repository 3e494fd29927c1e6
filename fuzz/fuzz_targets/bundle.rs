//! The evidence bundle reader: what `evidra verify-bundle bundle.zip` does, on the
//! zip's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evidra::bundle::verify_bytes(std::path::Path::new("bundle.zip"), data);
});
