//! Manual evidence: files attached to a requirement, each sealed into the chain by a
//! run of its own, so an attachment is as tamper-evident as collected evidence.

use evidra_collector_core::{Batch, Evidence, EvidenceSource};
use rusqlite::params;
use serde::Serialize;

use super::{Run, RunStatus, Store, StoreError};

/// The source name of runs that only seal attachments.
pub const MANUAL_SOURCE: &str = "manual";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Attachment {
    pub run_id: String,
    pub framework: String,
    pub requirement: String,
    pub sha256: String,
    pub file_name: String,
    pub note: Option<String>,
    pub added_by: String,
    pub added_at: String,
    pub size: i64,
}

/// What to attach.
pub struct NewAttachment<'a> {
    pub framework: &'a str,
    pub requirement: &'a str,
    pub file_name: &'a str,
    pub bytes: Vec<u8>,
    pub note: Option<&'a str>,
    pub added_by: &'a str,
}

impl Store {
    /// Stores the file content-addressed and seals it into the chain; returns the run.
    pub fn add_attachment(&self, new: NewAttachment<'_>, now: &str) -> Result<Run, StoreError> {
        self.recover_interrupted(now)?;
        let run = self.begin_run(now, now, &[MANUAL_SOURCE.to_owned()])?;
        let evidence = Evidence::new(
            EvidenceSource {
                collector: MANUAL_SOURCE.into(),
                operation: "evidra:evidence-add".into(),
                scope: format!("{}/{}/{}", new.framework, new.requirement, new.file_name),
            },
            now,
            media_type(new.file_name),
            new.bytes,
        );
        let sha = evidence.sha256.clone();
        self.write_batch(
            &run.id,
            &Batch {
                evidence: vec![evidence],
                ..Batch::default()
            },
            now,
        )?;
        self.conn().execute(
            "INSERT INTO attachments (run_id, framework, requirement, sha256, file_name, note, added_by, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![run.id, new.framework, new.requirement, sha, new.file_name, new.note, new.added_by, now],
        )?;
        self.finish_run(&run.id, RunStatus::Complete, now)
    }

    /// Attachments of `framework` sealed before `run` in the chain (all of them when
    /// `run` is None), oldest first.
    pub fn attachments(&self, framework: &str, run: Option<&Run>) -> Result<Vec<Attachment>, StoreError> {
        let conn = self.conn();
        let limit: i64 = match run {
            Some(run) => conn.query_row(
                "SELECT COALESCE(chain_pos, 9223372036854775807) FROM runs WHERE id = ?1",
                params![run.id],
                |r| r.get(0),
            )?,
            None => i64::MAX,
        };
        let mut stmt = conn.prepare(
            "SELECT a.run_id, a.framework, a.requirement, a.sha256, a.file_name, a.note, a.added_by, a.added_at, length(b.bytes) \
             FROM attachments a JOIN runs r ON r.id = a.run_id JOIN blobs b ON b.sha256 = a.sha256 \
             WHERE a.framework = ?1 AND r.chain_pos < ?2 ORDER BY r.chain_pos, a.requirement, a.file_name",
        )?;
        let rows = stmt
            .query_map(params![framework, limit], |r| {
                Ok(Attachment {
                    run_id: r.get(0)?,
                    framework: r.get(1)?,
                    requirement: r.get(2)?,
                    sha256: r.get(3)?,
                    file_name: r.get(4)?,
                    note: r.get(5)?,
                    added_by: r.get(6)?,
                    added_at: r.get(7)?,
                    size: r.get(8)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

fn media_type(file_name: &str) -> &'static str {
    match file_name.rsplit('.').next().map(str::to_ascii_lowercase).as_deref() {
        Some("pdf") => "application/pdf",
        Some("md" | "txt") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}
