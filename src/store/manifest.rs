//! The run manifest: one canonical JSON document naming everything a run holds, by
//! hash. Its SHA-256 is the run's manifest hash, and it includes the previous run's
//! manifest hash, so changing any stored byte of any run breaks the chain after it.
//!
//! Format `evidra-manifest/1` (keys sorted, no white space):
//! `run` (id, times, status, sources, catalogue hash), `prev_manifest`,
//! `evidence` (sha256, collector, operation, scope, collected_at, media_type; sorted),
//! and `resources`, `observations`, `gaps`, `findings`: the sorted SHA-256 of each
//! row's canonical JSON.

use rusqlite::{Connection, params};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::written::Section;
use super::{Store, StoreError};
use crate::canonical;

pub const FORMAT: &str = "evidra-manifest/1";

/// The manifest document of `run_id` as the store holds it now.
pub fn manifest_document(store: &Store, run_id: &str) -> Result<Value, StoreError> {
    document_in(&store.conn(), run_id, None)
}

/// [`document_bytes`] read back as a JSON value, to compare with a stored document.
pub(super) fn document_in(conn: &Connection, run_id: &str, status: Option<&str>) -> Result<Value, StoreError> {
    let bytes = document_bytes(conn, run_id, status, Written::default())?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(format!("run {run_id}'s manifest: {e}")))
}

/// The SHA-256 digest of a row's canonical JSON.
pub(super) type Digest = [u8; 32];

/// The sorted row digests of sections whose rows were hashed as they were written
/// ([`super::written`]); a section not given is read back from the store.
#[derive(Default)]
pub(super) struct Written {
    pub findings: Option<Vec<Digest>>,
    pub resources: Option<Vec<Digest>>,
}

/// The canonical bytes of `run_id`'s manifest document: what its hash and signature are
/// over. `status`, when given, stands for the stored one (a run is sealed with the
/// status it is given as it is sealed).
///
/// Written straight out rather than built as a JSON value first: a million findings'
/// hashes as values, then as text, then freed, were 0.35 s of the seal of a run of a
/// million findings (benches/scale.sh 100000).
pub(super) fn document_bytes(
    conn: &Connection,
    run_id: &str,
    status: Option<&str>,
    mut written: Written,
) -> Result<Vec<u8>, StoreError> {
    let run = conn.query_row(
        "SELECT id, started_at, evaluated_at, finished_at, status, sources, catalogue, prev_manifest FROM runs WHERE id = ?1",
        params![run_id],
        |r| {
            let sources: String = r.get(5)?;
            let stored_status: String = r.get(4)?;
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "started_at": r.get::<_, String>(1)?,
                "evaluated_at": r.get::<_, String>(2)?,
                "finished_at": r.get::<_, Option<String>>(3)?,
                "status": status.map(str::to_owned).unwrap_or(stored_status),
                "sources": serde_json::from_str::<Value>(&sources).unwrap_or(Value::Null),
                "catalogue": r.get::<_, Option<String>>(6)?,
                "prev_manifest": r.get::<_, Option<String>>(7)?,
            }))
        },
    )?;
    let prev = run["prev_manifest"].clone();
    let mut run = run;
    if let Some(object) = run.as_object_mut() {
        object.remove("prev_manifest");
    }

    let mut evidence: Vec<Value> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT sha256, collector, operation, scope, collected_at, media_type FROM evidence WHERE run_id = ?1 ORDER BY sha256, collector, operation, scope",
    )?;
    for row in stmt.query_map(params![run_id], |r| {
        Ok(json!({
            "sha256": r.get::<_, String>(0)?, "collector": r.get::<_, String>(1)?, "operation": r.get::<_, String>(2)?,
            "scope": r.get::<_, String>(3)?, "collected_at": r.get::<_, String>(4)?, "media_type": r.get::<_, String>(5)?,
        }))
    })? {
        evidence.push(row?);
    }
    let format = Value::from(FORMAT);
    let evidence = Value::Array(evidence);

    let mut sections = Vec::new();
    for (section, sql, names) in SECTIONS {
        let given = if section == Section::Findings.name() {
            written.findings.take()
        } else if section == Section::Resources.name() {
            written.resources.take()
        } else {
            None
        };
        let digests = match given {
            Some(digests) => digests,
            None => row_digests_in(conn, run_id, sql, names)?,
        };
        // Only runs that carry attachments name that section, so manifests sealed
        // before it existed recompute to the same bytes.
        if section != "attachments" || !digests.is_empty() {
            sections.push((section, digests));
        }
    }

    let mut members: Vec<(&str, Member<'_>)> = vec![
        ("format", Member::Value(&format)),
        ("run", Member::Value(&run)),
        ("prev_manifest", Member::Value(&prev)),
        ("evidence", Member::Value(&evidence)),
    ];
    members.extend(sections.iter().map(|(name, digests)| (*name, Member::Digests(digests))));
    members.sort_by(|a, b| a.0.cmp(b.0));
    let rows: usize = sections.iter().map(|(_, digests)| digests.len()).sum();
    let mut out = Vec::with_capacity(4096 + rows * 67);
    out.push(b'{');
    for (i, (name, member)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        canonical::string_to(name, &mut out);
        out.push(b':');
        match member {
            Member::Value(value) => canonical::write_to(value, &mut out),
            Member::Digests(digests) => hex_list_to(digests, &mut out),
        }
    }
    out.push(b'}');
    Ok(out)
}

/// A member of the manifest document: a value, or a section's sorted row digests.
enum Member<'a> {
    Value(&'a Value),
    Digests(&'a [Digest]),
}

/// `digests` as the canonical JSON array of their lowercase hex strings (which sort as
/// the digests do, so sorted digests make a sorted list).
fn hex_list_to(digests: &[Digest], out: &mut Vec<u8>) {
    let mut text = [0u8; 64];
    out.push(b'[');
    for (i, digest) in digests.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Fails only when the slice is not twice the digest's length, which it is.
        let _ = hex::encode_to_slice(digest, &mut text);
        out.push(b'"');
        out.extend_from_slice(&text);
        out.push(b'"');
    }
    out.push(b']');
}

/// The row sections of a manifest: name (also the table), query, and the names its
/// columns take in the row objects that are hashed (every value a string, as stored).
pub const SECTIONS: [(&str, &str, &[&str]); 5] = [
    (
        "resources",
        "SELECT provider, account, region, resource_type, resource_id, properties, evidence FROM resources WHERE run_id = ?1",
        &["provider", "account", "region", "type", "id", "properties", "evidence"],
    ),
    (
        "observations",
        "SELECT provider, account, region, resource_type, evidence FROM observations WHERE run_id = ?1",
        &["provider", "account", "region", "type", "evidence"],
    ),
    (
        "gaps",
        "SELECT collector, provider, account, region, operation, error, resource_types, evidence FROM gaps WHERE run_id = ?1",
        &[
            "collector",
            "provider",
            "account",
            "region",
            "operation",
            "error",
            "resource_types",
            "evidence",
        ],
    ),
    (
        "findings",
        "SELECT control, provider, account, region, resource_type, resource_id, status, message, evidence FROM findings WHERE run_id = ?1",
        &[
            "control", "provider", "account", "region", "type", "id", "status", "message", "evidence",
        ],
    ),
    (
        "attachments",
        "SELECT framework, requirement, sha256, file_name, COALESCE(note, ''), added_by, added_at FROM attachments WHERE run_id = ?1",
        &[
            "framework",
            "requirement",
            "sha256",
            "file_name",
            "note",
            "added_by",
            "added_at",
        ],
    ),
];

/// The sorted SHA-256 of each row object's canonical form.
pub fn hashes(rows: &[Value]) -> Vec<String> {
    let mut hashes: Vec<String> = rows.iter().map(canonical::sha256).collect();
    hashes.sort();
    hashes
}

/// How a section's rows are hashed: the object of its named columns (all text), keys
/// sorted, written column by column with the bytes `canonical::sha256(&row_object(..))`
/// hashes (a test holds the two equal). Shared by the seal and verify, which read rows
/// back, and by the store's writers, which hash rows as they store them.
pub(super) struct RowForm {
    /// (column, what comes before its value: `{` or `,`, then its name and `:`), by
    /// name. Written out once rather than for every row: a run of a million findings
    /// escaped nine million names otherwise.
    order: Vec<(usize, Vec<u8>)>,
    buffer: Vec<u8>,
}

impl RowForm {
    pub(super) fn new(names: &[&'static str]) -> Self {
        let mut named: Vec<(usize, &'static str)> = names.iter().copied().enumerate().collect();
        named.sort_by(|a, b| a.1.cmp(b.1));
        let order = named
            .into_iter()
            .enumerate()
            .map(|(n, (index, name))| {
                let mut key = vec![if n == 0 { b'{' } else { b',' }];
                canonical::string_to(name, &mut key);
                key.push(b':');
                (index, key)
            })
            .collect();
        Self {
            order,
            buffer: Vec::new(),
        }
    }

    /// The form of the section named `section` (one of [`SECTIONS`]).
    pub(super) fn of(section: &str) -> Self {
        let names = SECTIONS
            .iter()
            .find(|(name, _, _)| *name == section)
            .map(|(_, _, names)| *names)
            .unwrap_or_default();
        Self::new(names)
    }

    /// Appends the canonical row whose column `n` is `column(n)` to `out`.
    fn write_to<'v, E>(&self, mut column: impl FnMut(usize) -> Result<&'v str, E>, out: &mut Vec<u8>) -> Result<(), E> {
        if self.order.is_empty() {
            out.push(b'{');
        }
        for (index, key) in &self.order {
            out.extend_from_slice(key);
            canonical::string_to(column(*index)?, out);
        }
        out.push(b'}');
        Ok(())
    }

    /// The digest of the row whose columns, in the section's order, are `columns`.
    pub(super) fn digest(&mut self, columns: &[&str]) -> Digest {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let _ = self.write_to(
            |n| Ok::<_, std::convert::Infallible>(columns.get(n).copied().unwrap_or_default()),
            &mut buffer,
        );
        let digest = Sha256::digest(&buffer).into();
        self.buffer = buffer;
        digest
    }
}

/// The sorted digests of the rows of `sql`, each hashed as [`rows`] would give it. One
/// row at a time: a run of a million findings would otherwise hold a million JSON
/// objects just to hash them.
fn row_digests_in(
    conn: &Connection,
    run_id: &str,
    sql: &str,
    names: &[&'static str],
) -> Result<Vec<Digest>, StoreError> {
    let form = RowForm::new(names);
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params![run_id])?;
    // SQLite's reading and the hashing take about half the time each, so a second
    // thread hashes batches of rows while this one reads the next: `evidra verify` of a
    // run of a million findings (benches/scale.sh 100000) went from 3.9-4.4 s to
    // 3.2-4.0 s, and the seal with it.
    std::thread::scope(|s| {
        let (send, receive) = std::sync::mpsc::sync_channel::<RowBatch>(2);
        let hasher = s.spawn(move || {
            let mut digests: Vec<Digest> = Vec::new();
            for batch in receive {
                let mut start = 0;
                for end in batch.ends {
                    digests.push(Sha256::digest(&batch.bytes[start..end]).into());
                    start = end;
                }
            }
            digests.sort_unstable();
            digests
        });
        let mut batch = RowBatch::default();
        let read = (|| {
            while let Some(row) = rows.next()? {
                form.write_to(|column| super::runs::text(row, column), &mut batch.bytes)?;
                batch.ends.push(batch.bytes.len());
                if batch.ends.len() == ROWS_PER_HASH_BATCH && send.send(std::mem::take(&mut batch)).is_err() {
                    // The hasher is gone: it panicked, which joining it re-raises.
                    break;
                }
            }
            // A send fails only if the hasher panicked (see above).
            let _ = send.send(batch);
            Ok::<_, StoreError>(())
        })();
        drop(send);
        let digests = hasher.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        read.map(|()| digests)
    })
}

/// Rows handed to the hasher at a time: few enough to stay small (a few hundred KB),
/// many enough that passing them costs nothing next to hashing them.
const ROWS_PER_HASH_BATCH: usize = 1024;

/// The canonical texts of consecutive rows, one after another; row `i` ends at `ends[i]`.
#[derive(Default)]
struct RowBatch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

fn row_object(row: &rusqlite::Row<'_>, names: &[&str]) -> Result<Value, StoreError> {
    let mut object = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        object.insert((*name).to_owned(), Value::String(row.get::<_, String>(i)?));
    }
    Ok(Value::Object(object))
}

/// Each row of `sql` as a JSON object of its text columns, named by `names`.
pub(super) fn rows(conn: &Connection, run_id: &str, sql: &str, names: &[&str]) -> Result<Vec<Value>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut out = Vec::new();
    let mut rows = stmt.query(params![run_id])?;
    while let Some(row) = rows.next()? {
        out.push(row_object(row, names)?);
    }
    Ok(out)
}

impl Store {
    /// The rows of each manifest section of a run, as hashed in its manifest.
    pub fn run_rows(&self, run_id: &str) -> Result<std::collections::BTreeMap<String, Vec<Value>>, StoreError> {
        let conn = self.conn();
        let mut out = std::collections::BTreeMap::new();
        for (section, sql, names) in SECTIONS {
            out.insert(section.to_owned(), rows(&conn, run_id, sql, names)?);
        }
        Ok(out)
    }

    /// The sealed manifest document of a run, as stored (the bytes its hash and
    /// signature are over).
    pub fn manifest_doc(&self, run_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.conn();
        Ok(
            conn.query_row("SELECT manifest_doc FROM runs WHERE id = ?1", params![run_id], |r| {
                r.get(0)
            })?,
        )
    }
}

/// The table columns a section's row names come from, in the same order.
pub(super) fn columns(section: &str) -> Vec<&'static str> {
    match section {
        // The stored columns after `run_id`.
        "resources" => super::runs::RESOURCE_COLUMNS[1..].to_vec(),
        "observations" => vec!["provider", "account", "region", "resource_type", "evidence"],
        "gaps" => vec![
            "collector",
            "provider",
            "account",
            "region",
            "operation",
            "error",
            "resource_types",
            "evidence",
        ],
        "findings" => super::runs::FINDING_COLUMNS[1..].to_vec(),
        _ => vec![
            "framework",
            "requirement",
            "sha256",
            "file_name",
            "note",
            "added_by",
            "added_at",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(digests: Vec<Digest>) -> Vec<String> {
        digests.iter().map(hex::encode).collect()
    }

    /// The streaming row hash (sealing a run) and the hash of the row as an object
    /// (verifying a bundle) must agree byte for byte, escapes included.
    #[test]
    fn streamed_row_hashes_equal_the_hashes_of_row_objects() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (run_id TEXT, b TEXT, a TEXT, c TEXT)")
            .unwrap();
        for (b, a, c) in [
            ("x", "y", "z"),
            ("quote \" and \\", "tab\t new\nline \u{1}", "é ✓ \u{2028}"),
            ("", "[\"list\"]", "{\"k\": 1}"),
        ] {
            conn.execute("INSERT INTO t VALUES ('r', ?1, ?2, ?3)", params![b, a, c])
                .unwrap();
        }
        let sql = "SELECT b, a, c FROM t WHERE run_id = ?1";
        let names = ["b", "a", "c"];
        let streamed = hex(row_digests_in(&conn, "r", sql, &names).unwrap());
        let objects = hashes(&rows(&conn, "r", sql, &names).unwrap());
        assert_eq!(streamed, objects);
        assert_eq!(streamed.len(), 3);
    }

    /// Rows are hashed on a second thread in batches: none lost or doubled at a batch's
    /// edge, a full last batch included.
    #[test]
    fn row_hashes_cover_every_row_across_hashing_batches() {
        for count in [ROWS_PER_HASH_BATCH, 2 * ROWS_PER_HASH_BATCH + 3] {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("CREATE TABLE t (run_id TEXT, a TEXT)").unwrap();
            for i in 0..count {
                conn.execute("INSERT INTO t VALUES ('r', ?1)", params![format!("row {i}")])
                    .unwrap();
            }
            let sql = "SELECT a FROM t WHERE run_id = ?1";
            let streamed = hex(row_digests_in(&conn, "r", sql, &["a"]).unwrap());
            assert_eq!(streamed.len(), count);
            assert_eq!(streamed, hashes(&rows(&conn, "r", sql, &["a"]).unwrap()));
        }
    }
}
