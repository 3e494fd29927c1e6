//! Evidence bundles: one run, self-contained, checkable with no database.
//!
//! A bundle is a zip (deflate only) holding:
//! - `manifest.json`: format `evidra-bundle/1`, the tool, the run (id, times, status,
//!   manifest hash, previous manifest, signature), the control catalogue's hash, and
//!   every other file with its SHA-256 and size (evidence files also with their source
//!   API, scope and collection time);
//! - `run-manifest.json`: the run's sealed manifest document (its SHA-256 is the run's
//!   manifest hash; the run's signature is over these bytes);
//! - `run.json`: the run's rows (resources, observations, gaps, findings, attachments)
//!   exactly as the manifest hashed them, so an importer can rebuild the run;
//! - `evidence/<sha256>`: every evidence blob, verbatim;
//! - `findings.json` and `reports/*`: for people;
//! - `manifest.json.sig` and `public-key` when signed (Ed25519 over manifest.json).
//!
//! `verify-bundle` checks every listed file's hash, that nothing is unlisted or missing,
//! the signatures, and that `run.json` and the evidence files are what
//! `run-manifest.json` names.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};
use std::path::Path;

use serde_json::{Value, json};

use crate::canonical;
use crate::signing::{self, Signer25519};
use crate::store::{ImportedRun, Run, Store, StoreError};

pub const FORMAT: &str = "evidra-bundle/1";
const MANIFEST: &str = "manifest.json";
const SIGNATURE: &str = "manifest.json.sig";
const PUBLIC_KEY: &str = "public-key";
const RUN_MANIFEST: &str = "run-manifest.json";
const RUN_ROWS: &str = "run.json";
/// A bundle entry larger than this is refused when reading: no zip bomb fills memory.
const MAX_ENTRY: u64 = 4 << 30;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a readable zip: {message}")]
    Zip { path: String, message: String },
    #[error("run {0} is not sealed (it has no manifest) and cannot be exported")]
    Unsealed(String),
    #[error("{0}")]
    Invalid(String),
}

fn zip_error(path: &Path, e: impl std::fmt::Display) -> BundleError {
    BundleError::Zip {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Writes the bundle of `run` to `out`. `reports` are (file name, bytes) put under `reports/`.
pub fn export(
    store: &Store,
    run: &Run,
    reports: Vec<(String, Vec<u8>)>,
    signer: Option<&Signer25519>,
    out: &Path,
) -> Result<usize, BundleError> {
    let doc = store
        .manifest_doc(&run.id)?
        .ok_or_else(|| BundleError::Unsealed(run.id.clone()))?;
    let mut files: BTreeMap<String, (Vec<u8>, Value)> = BTreeMap::new();
    for e in store.evidence(&run.id)? {
        let bytes = store
            .blob(&e.sha256)?
            .ok_or_else(|| BundleError::Invalid(format!("evidence {} is missing from the store", e.sha256)))?;
        let meta = json!({
            "media_type": e.media_type, "collected_at": e.collected_at,
            "source": {"collector": e.collector, "operation": e.operation, "scope": e.scope},
        });
        files.insert(format!("evidence/{}", e.sha256), (bytes, meta));
    }
    let rows = store.run_rows(&run.id)?;
    let run_json = json!({"run": run_record(run), "rows": rows});
    files.insert(
        RUN_ROWS.into(),
        (
            canonical::to_string(&run_json).into_bytes(),
            json!({"media_type": "application/json"}),
        ),
    );
    files.insert(RUN_MANIFEST.into(), (doc, json!({"media_type": "application/json"})));
    let mut findings =
        serde_json::to_vec_pretty(&store.findings(&run.id)?).map_err(|e| BundleError::Invalid(e.to_string()))?;
    findings.push(b'\n');
    files.insert(
        "findings.json".into(),
        (findings, json!({"media_type": "application/json"})),
    );
    for (name, bytes) in reports {
        files.insert(
            format!("reports/{name}"),
            (bytes, json!({"media_type": media_type(&name)})),
        );
    }
    let listed: Vec<Value> = files
        .iter()
        .map(|(path, (bytes, meta))| {
            let mut entry =
                json!({"path": path, "sha256": evidra_collector_core::sha256_hex(bytes), "size": bytes.len()});
            if let (Some(entry), Some(meta)) = (entry.as_object_mut(), meta.as_object()) {
                entry.extend(meta.clone());
            }
            entry
        })
        .collect();
    let manifest = json!({
        "format": FORMAT,
        "tool": {"name": "evidra", "version": crate::VERSION},
        "run": run_record(run),
        "catalogue": run.catalogue,
        "files": listed,
    });
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::Invalid(e.to_string()))?;
    manifest_bytes.push(b'\n');

    let file = std::fs::File::create(out).map_err(|source| BundleError::Io {
        path: out.display().to_string(),
        source,
    })?;
    let mut zip = zip::ZipWriter::new(file);
    // A fixed timestamp: the same run exports to the same bytes.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut put = |name: &str, bytes: &[u8]| -> Result<(), BundleError> {
        zip.start_file(name, options).map_err(|e| zip_error(out, e))?;
        zip.write_all(bytes).map_err(|source| BundleError::Io {
            path: out.display().to_string(),
            source,
        })
    };
    put(MANIFEST, &manifest_bytes)?;
    if let Some(signer) = signer {
        put(SIGNATURE, format!("{}\n", signer.sign(&manifest_bytes)).as_bytes())?;
        put(PUBLIC_KEY, format!("{}\n", signer.public_hex()).as_bytes())?;
    }
    for (path, (bytes, _)) in &files {
        put(path, bytes)?;
    }
    zip.finish().map_err(|e| zip_error(out, e))?;
    Ok(files.len())
}

fn run_record(run: &Run) -> Value {
    json!({
        "id": run.id, "started_at": run.started_at, "evaluated_at": run.evaluated_at, "finished_at": run.finished_at,
        "status": run.status, "sources": run.sources, "catalogue": run.catalogue,
        "prev_manifest": run.prev_manifest, "manifest": run.manifest,
        "signature": run.signature, "public_key": run.public_key,
    })
}

fn media_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html",
        Some("pdf") => "application/pdf",
        Some("csv") => "text/csv",
        _ => "application/json",
    }
}

/// The outcome of checking a bundle.
#[derive(Debug, Default)]
pub struct BundleCheck {
    pub run_id: Option<String>,
    pub files: usize,
    /// The key that signed `manifest.json`, when the bundle is signed.
    pub signed_by: Option<String>,
    pub problems: Vec<String>,
    entries: BTreeMap<String, Vec<u8>>,
    manifest: Value,
}

/// `path` only names the bundle in errors; `reader` gives its bytes.
fn read_entries(path: &Path, reader: impl Read + Seek) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| zip_error(path, e))?;
    // Entries that share compressed bytes (a "non-recursive zip bomb") decompress the same
    // data once per entry: 64 entries over one deflated 64 MiB member, a 69 KB file, took
    // more than 2 GiB to verify, and more entries take any amount. evidra never writes
    // such a zip, so it is refused before anything is decompressed.
    if archive.has_overlapping_files().map_err(|e| zip_error(path, e))? {
        return Err(zip_error(
            path,
            "entries share their compressed data (overlapping entries)",
        ));
    }
    let mut entries = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| zip_error(path, e))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(|e| zip_error(path, e))?.into_owned();
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_ENTRY + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| zip_error(path, format!("{name}: {e}")))?;
        if bytes.len() as u64 > MAX_ENTRY {
            return Err(zip_error(path, format!("{name} is larger than 4 GiB")));
        }
        if entries.insert(name.clone(), bytes).is_some() {
            return Err(zip_error(path, format!("{name} appears twice")));
        }
    }
    Ok(entries)
}

/// Checks a bundle with no database: every problem found, in order.
pub fn verify(path: &Path) -> Result<BundleCheck, BundleError> {
    let file = std::fs::File::open(path).map_err(|source| BundleError::Io {
        path: path.display().to_string(),
        source,
    })?;
    verify_from(path, file)
}

/// [`verify`] of a bundle already in memory (`name` names it in errors); the fuzz
/// target calls this.
pub fn verify_bytes(name: &Path, bytes: &[u8]) -> Result<BundleCheck, BundleError> {
    verify_from(name, std::io::Cursor::new(bytes))
}

fn verify_from(path: &Path, reader: impl Read + Seek) -> Result<BundleCheck, BundleError> {
    let entries = read_entries(path, reader)?;
    let mut check = BundleCheck::default();
    let Some(manifest_bytes) = entries.get(MANIFEST) else {
        check.problems.push(format!("{MANIFEST} is missing"));
        return Ok(check);
    };
    let manifest: Value = match serde_json::from_slice(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            check.problems.push(format!("{MANIFEST} is not JSON: {e}"));
            return Ok(check);
        }
    };
    if manifest["format"] != FORMAT {
        check
            .problems
            .push(format!("{MANIFEST}: format {} is not {FORMAT}", manifest["format"]));
    }
    check.run_id = manifest["run"]["id"].as_str().map(str::to_owned);
    match (entries.get(SIGNATURE), entries.get(PUBLIC_KEY)) {
        (Some(sig), Some(key)) => {
            let (sig, key) = (
                String::from_utf8_lossy(sig).trim().to_owned(),
                String::from_utf8_lossy(key).trim().to_owned(),
            );
            if signing::verify(&key, &sig, manifest_bytes) {
                check.signed_by = Some(key);
            } else {
                check
                    .problems
                    .push(format!("{SIGNATURE}: the signature does not hold over {MANIFEST}"));
            }
        }
        (None, None) => {}
        _ => check
            .problems
            .push(format!("{SIGNATURE} and {PUBLIC_KEY} must come together")),
    }
    let listed: Vec<&Value> = manifest["files"]
        .as_array()
        .map(|f| f.iter().collect())
        .unwrap_or_default();
    let mut names = BTreeSet::new();
    for file in &listed {
        let Some(name) = file["path"].as_str() else {
            check.problems.push(format!("{MANIFEST}: a file entry has no path"));
            continue;
        };
        names.insert(name.to_owned());
        match entries.get(name) {
            None => check.problems.push(format!("{name}: listed in {MANIFEST} but missing")),
            Some(bytes) if Some(evidra_collector_core::sha256_hex(bytes).as_str()) != file["sha256"].as_str() => {
                check
                    .problems
                    .push(format!("{name}: its SHA-256 does not match {MANIFEST}"));
            }
            Some(_) => check.files += 1,
        }
    }
    for name in entries.keys() {
        if !names.contains(name) && ![MANIFEST, SIGNATURE, PUBLIC_KEY].contains(&name.as_str()) {
            check
                .problems
                .push(format!("{name}: present but not listed in {MANIFEST}"));
        }
    }
    check_run(&entries, &manifest, &mut check.problems);
    check.entries = entries;
    check.manifest = manifest;
    Ok(check)
}

/// Ties the files to the sealed run: the run manifest's hash and signature, the rows,
/// the evidence files.
fn check_run(entries: &BTreeMap<String, Vec<u8>>, manifest: &Value, problems: &mut Vec<String>) {
    let (Some(doc_bytes), Some(rows_bytes)) = (entries.get(RUN_MANIFEST), entries.get(RUN_ROWS)) else {
        problems.push(format!("{RUN_MANIFEST} or {RUN_ROWS} is missing"));
        return;
    };
    let run = &manifest["run"];
    if run["manifest"].as_str() != Some(evidra_collector_core::sha256_hex(doc_bytes).as_str()) {
        problems.push(format!("{RUN_MANIFEST}: its SHA-256 is not the run's manifest hash"));
    }
    if let (Some(sig), Some(key)) = (run["signature"].as_str(), run["public_key"].as_str())
        && !signing::verify(key, sig, doc_bytes)
    {
        problems.push(format!("{RUN_MANIFEST}: the run's signature does not hold"));
    }
    let (Ok(doc), Ok(rows)) = (
        serde_json::from_slice::<Value>(doc_bytes),
        serde_json::from_slice::<Value>(rows_bytes),
    ) else {
        problems.push(format!("{RUN_MANIFEST} or {RUN_ROWS} is not JSON"));
        return;
    };
    for (section, _, _) in crate::store::SECTIONS {
        let recomputed =
            crate::store::row_hashes(rows["rows"][section].as_array().map(Vec::as_slice).unwrap_or_default());
        let sealed: Vec<String> = doc[section]
            .as_array()
            .map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if recomputed != sealed {
            problems.push(format!(
                "{RUN_ROWS}: its {section} are not those sealed in {RUN_MANIFEST}"
            ));
        }
    }
    for record in doc["evidence"].as_array().into_iter().flatten() {
        let name = format!("evidence/{}", record["sha256"].as_str().unwrap_or_default());
        if !entries.contains_key(&name) {
            problems.push(format!("{name}: sealed in {RUN_MANIFEST} but missing"));
        }
    }
}

/// Verifies, then adds the bundle's run to `store`. `Ok(None)`: it was already there.
pub fn import(store: &Store, path: &Path) -> Result<(BundleCheck, Option<Run>), BundleError> {
    let check = verify(path)?;
    if !check.problems.is_empty() {
        return Ok((check, None));
    }
    let doc: Value =
        serde_json::from_slice(&check.entries[RUN_MANIFEST]).map_err(|e| BundleError::Invalid(e.to_string()))?;
    let rows: Value =
        serde_json::from_slice(&check.entries[RUN_ROWS]).map_err(|e| BundleError::Invalid(e.to_string()))?;
    let evidence: Vec<(&Value, &[u8])> = doc["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let name = format!("evidence/{}", r["sha256"].as_str()?);
            Some((r, check.entries.get(&name)?.as_slice()))
        })
        .collect();
    let empty = serde_json::Map::new();
    let imported = ImportedRun {
        run: &rows["run"],
        manifest_doc: &check.entries[RUN_MANIFEST],
        evidence,
        rows: rows["rows"].as_object().unwrap_or(&empty),
    };
    let run = store.import_run(imported)?;
    Ok((check, run))
}
