//! `evidra demo`: the whole job on the demo estate embedded in the binary
//! (`examples/demo/`), with no cloud account.

use evidra_collector_files::{FilesCollector, SourceFile};

/// The demo estate's files, as embedded at build time.
pub fn files() -> Vec<SourceFile> {
    crate::catalogue::demo_files()
        .iter()
        .map(|(path, bytes)| SourceFile {
            path: (*path).into(),
            bytes: bytes.to_vec(),
        })
        .collect()
}

/// A files collector over the embedded demo estate.
pub fn collector() -> FilesCollector {
    FilesCollector::from_files(
        "examples/demo",
        files().into_iter().filter(|f| !f.path.ends_with("README.md")).collect(),
    )
}

/// The demo's exceptions file, applied when `evidra.toml` names none.
pub const EXCEPTIONS: &[u8] = include_bytes!("../examples/demo-exceptions.toml");

/// The demo's exceptions, parsed.
pub fn exceptions() -> Result<crate::collect::ExceptionsFile, crate::exceptions::ExceptionsError> {
    let path = "examples/demo-exceptions.toml";
    let exceptions = crate::exceptions::parse(path, &String::from_utf8_lossy(EXCEPTIONS))?;
    Ok(crate::collect::ExceptionsFile {
        path: path.into(),
        bytes: EXCEPTIONS.to_vec(),
        exceptions,
    })
}
