//! `evidra.toml`, the user's settings (without `[[aws]]`/`[[azure]]`, whose types live
//! in the SDK collectors this build leaves out).
#![no_main]

use evidra::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(config) = Config::parse(std::path::Path::new("/etc/evidra/evidra.toml"), text)
        && let Some(deadlines) = &config.deadlines
    {
        for severity in ["critical", "high", "medium", "low", "info", "other"] {
            let _ = deadlines.days(severity);
        }
    }
});
