//! The files collector: imports what people really export from their clouds.
//!
//! Every file is recognised by its content (not its name), stored verbatim as
//! evidence, and normalised into resource records. A file that is not recognised or
//! does not parse stops the import with an error naming the file: an audit tool that
//! silently skips evidence would report passes it never checked.

mod assemble;
pub mod aws_config;
pub mod azure;
pub mod azure_export;
pub mod compact;
pub mod credential_report;
mod detect;
pub mod iam_account;
pub mod iam_details;
pub mod locate;
pub mod model;
pub mod policy_document;
pub mod scanners;

use std::path::{Path, PathBuf};

use evidra_collector_core::{Batch, BatchSink, BoxFuture, CollectContext, CollectError, Collector};

pub use detect::Kind;

/// Decompressed files larger than this are refused: a Config snapshot of a very large
/// account is a few hundred MiB, and a gzip bomb must not exhaust memory.
const MAX_FILE_BYTES: u64 = 2 << 30;

/// One file to import: its path relative to the imported folder, and its bytes.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Where the files come from.
enum Origin {
    Dir(PathBuf),
    Memory { label: String, files: Vec<SourceFile> },
}

pub struct FilesCollector {
    origin: Origin,
}

impl FilesCollector {
    /// Imports every file below `root` (recursively; hidden files and `README.md` are
    /// not evidence and are passed over).
    pub fn from_dir(root: impl Into<PathBuf>) -> Self {
        Self {
            origin: Origin::Dir(root.into()),
        }
    }

    /// Imports files already in memory (the demo estate embedded in the binary).
    pub fn from_files(label: impl Into<String>, files: Vec<SourceFile>) -> Self {
        Self {
            origin: Origin::Memory {
                label: label.into(),
                files,
            },
        }
    }
}

impl Collector for FilesCollector {
    fn name(&self) -> &str {
        "files"
    }

    fn collect<'a>(
        &'a self,
        ctx: &'a CollectContext,
        sink: &'a dyn BatchSink,
    ) -> BoxFuture<'a, Result<(), CollectError>> {
        Box::pin(async move {
            let mut write = |batch: &Batch| sink.write(batch).map_err(CollectError::from);
            match &self.origin {
                Origin::Dir(root) => {
                    let files = read_dir(root)?;
                    import_into(&root.display().to_string(), files, &ctx.started_at, &mut write)
                }
                Origin::Memory { label, files } => import_into(label, files.clone(), &ctx.started_at, &mut write),
            }
        })
    }
}

/// Reads every evidence file below `root`, sorted by path so imports are deterministic.
pub fn read_dir(root: &Path) -> Result<Vec<SourceFile>, CollectError> {
    let io = |path: &Path, source| CollectError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(root).map_err(|e| io(root, e))?;
    if !meta.is_dir() {
        return Err(CollectError::BadFile {
            path: root.to_path_buf(),
            what: "not a folder: --path takes the folder of exported files".into(),
        });
    }
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
                continue;
            }
            let kind = entry.file_type().map_err(|e| io(&path, e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
                let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                files.push(SourceFile { path: rel, bytes });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if files.is_empty() {
        return Err(CollectError::BadFile {
            path: root.to_path_buf(),
            what: "no exported files in this folder".into(),
        });
    }
    Ok(files)
}

/// Recognises, parses and normalises `files` (from the folder `label`) into one batch.
pub fn import(label: &str, files: &[SourceFile], collected_at: &str) -> Result<Batch, CollectError> {
    import_owned(label, files.to_vec(), collected_at)
}

/// [`import`] of files it may take apart: each file's bytes move into its evidence
/// record instead of being copied (a 100,000-user export is 94 MB).
pub fn import_owned(label: &str, files: Vec<SourceFile>, collected_at: &str) -> Result<Batch, CollectError> {
    assemble::batch(label, parse_all(files)?, collected_at)
}

/// [`import_owned`], handing the import to `sink` in batches (one transaction each in
/// the store) as its records are made, so a large import is never all records at once.
/// Every file is parsed and checked before the first batch goes out.
pub fn import_into(
    label: &str,
    files: Vec<SourceFile>,
    collected_at: &str,
    sink: &mut dyn FnMut(&Batch) -> Result<(), CollectError>,
) -> Result<(), CollectError> {
    let parsed = parse_all(files)?;
    // A second thread assembles the next batch while this one hands the last to the
    // sink: storing a batch (SQLite, canonical JSON) takes about twice as long as
    // making it, and one after the other they were most of the import's time. One
    // batch waiting at most: four in memory with the one being made, the one being
    // stored and the last one stored, on its way back to be freed by the assembling
    // thread.
    evidra_collector_core::pipelined(
        1,
        // A batch given back is dropped here, on the assembling thread; not reused: the
        // next one's records are moved in whole.
        move |hand_over| assemble::write(label, parsed, collected_at, &mut |batch| hand_over(batch).map(drop)),
        || CollectError::Sink(evidra_collector_core::SinkError("the store stopped".into())),
        sink,
    )
}

/// Parses every file, the largest on a thread of their own while this one parses the
/// rest: parsing an export of 100,000 users and 100,000 Config items took 1.0 s on one
/// core (0.6 s of it the Config snapshot) while the other had nothing to do yet. The
/// first error in path order is the one reported, as parsing them in turn would.
fn parse_all(files: Vec<SourceFile>) -> Result<Vec<(SourceFile, detect::Content)>, CollectError> {
    let parse = |file: SourceFile| detect::parse(&file).map(|content| (file, content));
    let largest = files
        .iter()
        .enumerate()
        .max_by_key(|(_, f)| f.bytes.len())
        .map(|(i, _)| i)
        .filter(|_| files.len() > 1 && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1));
    let Some(largest) = largest else {
        return files.into_iter().map(parse).collect();
    };
    let mut files = files;
    let alone = files.remove(largest);
    let (alone, mut rest) = std::thread::scope(|s| {
        let alone = s.spawn(|| parse(alone));
        let rest: Vec<_> = files.into_iter().map(parse).collect();
        let alone = alone.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (alone, rest)
    });
    rest.insert(largest, alone);
    rest.into_iter().collect()
}

/// A file of `text` at `path`, for tests.
#[cfg(test)]
pub(crate) fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.into(),
        bytes: text.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_path(result: Result<Vec<(SourceFile, detect::Content)>, CollectError>) -> PathBuf {
        match result {
            Err(CollectError::BadFile { path, .. }) => path,
            Err(other) => panic!("not a bad file: {other}"),
            Ok(_) => panic!("the bad files were accepted"),
        }
    }

    /// The largest file is parsed on a thread of its own: what is reported is still the
    /// first bad file in path order, whichever thread found it.
    #[test]
    fn parsing_in_parallel_reports_the_first_bad_file_in_path_order() {
        let summary = r#"{"SummaryMap": {"AccountMFAEnabled": 1}}"#;
        let large_and_bad = format!("{{\"not json\": {}", " ".repeat(10_000));
        for large_first in [true, false] {
            let (a, b) = if large_first {
                (large_and_bad.as_str(), "{ bad")
            } else {
                ("{ bad", large_and_bad.as_str())
            };
            let files = vec![file("a.json", a), file("b.json", b), file("c.json", summary)];
            assert_eq!(
                bad_path(parse_all(files)),
                PathBuf::from("a.json"),
                "large first: {large_first}"
            );
        }
        // All good: every file comes back, in its place.
        let files = vec![
            file("a.json", summary),
            file("b.json", &format!("{summary}{}", " ".repeat(10_000))),
            file("c.json", summary),
        ];
        let parsed = parse_all(files).unwrap();
        let paths: Vec<_> = parsed.iter().map(|(f, _)| f.path.clone()).collect();
        assert_eq!(paths, ["a.json", "b.json", "c.json"].map(PathBuf::from));
    }
}
