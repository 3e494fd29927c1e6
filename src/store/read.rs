//! Reading runs back: for evaluation (resources, observations, gaps) and for reports.

use evidra_collector_core::{Gap, Observation, ResourceRecord, Scope};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::runs::{RUN_COLUMNS, json_list, run_from_row, text, value};
use super::{Run, Store, StoreError, StoredFinding};

/// What the engine evaluates: everything collected in one run.
#[derive(Debug, Default)]
pub struct RunData {
    pub resources: Vec<ResourceRecord>,
    pub observations: Vec<Observation>,
    /// Each gap with the hash of its evidence record.
    pub gaps: Vec<(Gap, String)>,
}

/// A stored finding as its row's texts, borrowed from the store while it is read
/// ([`Store::finding_rows`]).
#[derive(Debug, Clone, Copy)]
pub struct FindingRow<'r> {
    pub control: &'r str,
    pub provider: &'r str,
    pub account: &'r str,
    pub region: &'r str,
    pub resource_type: &'r str,
    pub resource_id: &'r str,
    pub status: &'r str,
    pub message: &'r str,
    /// The evidence hashes as stored: a JSON list of texts ([`Self::evidence_into`]).
    evidence: &'r str,
}

impl FindingRow<'_> {
    /// The finding, owned.
    pub fn to_stored(&self) -> StoredFinding {
        let mut evidence = Vec::new();
        self.evidence_into(&mut evidence);
        StoredFinding {
            control: self.control.to_owned(),
            provider: self.provider.to_owned(),
            account: self.account.to_owned(),
            region: self.region.to_owned(),
            resource_type: self.resource_type.to_owned(),
            resource_id: self.resource_id.to_owned(),
            status: self.status.to_owned(),
            message: self.message.to_owned(),
            evidence,
        }
    }

    /// Puts the finding's evidence hashes in `into`, reusing its strings. A list that
    /// is not one of texts is no evidence, as [`Store::findings`] has always read it.
    pub fn evidence_into(&self, into: &mut Vec<String>) {
        // Borrowed from the row: hashes have no escapes. A text with one cannot be
        // borrowed, and is read as [`json_list`] reads it.
        let owned;
        let hashes: Vec<&str> = match serde_json::from_str(self.evidence) {
            Ok(borrowed) => borrowed,
            Err(_) => {
                owned = json_list(self.evidence);
                owned.iter().map(String::as_str).collect()
            }
        };
        into.truncate(hashes.len());
        for (i, hash) in hashes.into_iter().enumerate() {
            match into.get_mut(i) {
                Some(slot) => {
                    slot.clear();
                    slot.push_str(hash);
                }
                None => into.push(hash.to_owned()),
            }
        }
    }
}

/// An evidence record of a run, without its bytes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct EvidenceMeta {
    pub sha256: String,
    pub collector: String,
    pub operation: String,
    pub scope: String,
    pub collected_at: String,
    pub media_type: String,
    pub size: i64,
}

impl Store {
    pub fn run(&self, id: &str) -> Result<Run, StoreError> {
        let conn = self.conn();
        conn.query_row(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
            params![id],
            run_from_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::NoSuchRun(id.to_owned()))
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<Run>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY seq"))?;
        let runs = stmt.query_map([], run_from_row)?.collect::<Result<_, _>>()?;
        Ok(runs)
    }

    /// `latest` (the last finished run), a full run id, or a unique prefix of one.
    pub fn resolve_run(&self, spec: &str) -> Result<Run, StoreError> {
        let runs = self.runs()?;
        if spec == "latest" {
            // The last finished collection: runs that only seal attachments are not one.
            return runs
                .into_iter()
                .rev()
                .find(|r| r.manifest.is_some() && r.sources.iter().any(|s| s != super::MANUAL_SOURCE))
                .ok_or(StoreError::Empty);
        }
        let matching: Vec<Run> = runs.into_iter().filter(|r| r.id.starts_with(spec)).collect();
        match matching.len() {
            0 => Err(StoreError::NoSuchRun(spec.to_owned())),
            1 => Ok(matching
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::NoSuchRun(spec.to_owned()))?),
            _ => matching
                .iter()
                .find(|r| r.id == spec)
                .cloned()
                .ok_or_else(|| StoreError::AmbiguousRun(spec.to_owned())),
        }
    }

    pub fn run_data(&self, run_id: &str) -> Result<RunData, StoreError> {
        let (data, _) = self.run_data_with(run_id, |record, properties| record.properties = value(properties))?;
        Ok(data)
    }

    /// [`Store::run_data`], handing each record's properties to `convert` as their stored
    /// JSON text instead of parsing them into the record (which `convert` may still do):
    /// what `convert` returns comes back in the records' order. The engine builds its
    /// own input values this way; parsing every record first held a second copy of the
    /// whole run in memory (0.4 GB at 200,000 records).
    pub fn run_data_with<T>(
        &self,
        run_id: &str,
        mut convert: impl FnMut(&mut ResourceRecord, &str) -> T,
    ) -> Result<(RunData, Vec<T>), StoreError> {
        let conn = self.conn();
        let mut data = RunData::default();
        let mut converted = Vec::new();
        let mut stmt = conn.prepare(
            "SELECT provider, account, region, resource_type, resource_id, properties, evidence FROM resources WHERE run_id = ?1 ORDER BY resource_type, provider, account, region, resource_id",
        )?;
        let mut rows = stmt.query(params![run_id])?;
        while let Some(r) = rows.next()? {
            let mut record = ResourceRecord {
                provider: r.get(0)?,
                account: r.get(1)?,
                region: r.get(2)?,
                resource_type: r.get(3)?,
                resource_id: r.get(4)?,
                properties: serde_json::Value::Null,
                evidence: json_list(text(r, 6)?),
            };
            converted.push(convert(&mut record, text(r, 5)?));
            data.resources.push(record);
        }
        let mut stmt = conn.prepare(
            "SELECT provider, account, region, resource_type, evidence FROM observations WHERE run_id = ?1 ORDER BY provider, account, region, resource_type",
        )?;
        for row in stmt.query_map(params![run_id], |r| {
            Ok(Observation {
                scope: Scope::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                resource_type: r.get(3)?,
                evidence: json_list(&r.get::<_, String>(4)?),
            })
        })? {
            data.observations.push(row?);
        }
        data.gaps = self.gaps_in(&conn, run_id)?;
        Ok((data, converted))
    }

    pub fn gaps(&self, run_id: &str) -> Result<Vec<(Gap, String)>, StoreError> {
        let conn = self.conn();
        self.gaps_in(&conn, run_id)
    }

    fn gaps_in(&self, conn: &rusqlite::Connection, run_id: &str) -> Result<Vec<(Gap, String)>, StoreError> {
        let mut stmt = conn.prepare(
            "SELECT collector, provider, account, region, operation, error, resource_types, evidence FROM gaps WHERE run_id = ?1",
        )?;
        let mut gaps = stmt
            .query_map(params![run_id], |r| {
                Ok((
                    Gap {
                        collector: r.get(0)?,
                        scope: Scope::new(r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                        operation: r.get(4)?,
                        error: r.get(5)?,
                        resource_types: json_list(&r.get::<_, String>(6)?),
                    },
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        gaps.sort();
        Ok(gaps)
    }

    /// The run's findings, sorted (control, resource).
    pub fn findings(&self, run_id: &str) -> Result<Vec<StoredFinding>, StoreError> {
        let mut findings = Vec::new();
        self.findings_each(run_id, |f| findings.push(f))?;
        Ok(findings)
    }

    /// Hands the run's findings to `each` one at a time, sorted (control, resource), so
    /// that a caller keeping something else of them never holds the stored list too.
    pub fn findings_each(&self, run_id: &str, mut each: impl FnMut(StoredFinding)) -> Result<(), StoreError> {
        self.finding_rows(run_id, |row| each(row.to_stored()))
    }

    /// [`Self::findings_each`], each finding lent as its row's texts: a caller that
    /// copies them into what it already holds allocates nothing per finding, where
    /// making each one's ten strings was a fifth of a large JSON report's reading.
    pub fn finding_rows(&self, run_id: &str, mut each: impl FnMut(&FindingRow<'_>)) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT control, provider, account, region, resource_type, resource_id, status, message, evidence FROM findings WHERE run_id = ?1 \
             ORDER BY control, provider, account, region, resource_type, resource_id",
        )?;
        let mut rows = stmt.query(params![run_id])?;
        while let Some(r) = rows.next()? {
            each(&FindingRow {
                control: text(r, 0)?,
                provider: text(r, 1)?,
                account: text(r, 2)?,
                region: text(r, 3)?,
                resource_type: text(r, 4)?,
                resource_id: text(r, 5)?,
                status: text(r, 6)?,
                message: text(r, 7)?,
                evidence: text(r, 8)?,
            });
        }
        Ok(())
    }

    /// How many findings the run has (a scan of them all: for sizing what holds them).
    pub fn finding_count(&self, run_id: &str) -> Result<usize, StoreError> {
        let count: i64 = self.conn().query_row(
            "SELECT count(*) FROM findings WHERE run_id = ?1",
            params![run_id],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(count).unwrap_or_default())
    }

    /// Whether any finding of the run has a control ID starting with `prefix` (those of
    /// scanner imports).
    pub fn has_findings_of(&self, run_id: &str, prefix: &str) -> Result<bool, StoreError> {
        // A range over the primary key (IDs with the prefix sort between it and the prefix
        // with its last character incremented): a seek, not a scan of every finding.
        let mut after = prefix.to_owned();
        if let Some(last) = after.pop() {
            after.push(char::from_u32(u32::from(last) + 1).unwrap_or(char::MAX));
        }
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM findings WHERE run_id = ?1 AND control >= ?2 AND control < ?3)",
            params![run_id, prefix, after],
            |r| r.get(0),
        )?)
    }

    /// The run's evidence records (no bytes), sorted by hash.
    pub fn evidence(&self, run_id: &str) -> Result<Vec<EvidenceMeta>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT e.sha256, e.collector, e.operation, e.scope, e.collected_at, e.media_type, COALESCE(length(b.bytes), -1) \
             FROM evidence e LEFT JOIN blobs b ON b.sha256 = e.sha256 WHERE e.run_id = ?1 ORDER BY e.sha256, e.collector, e.operation, e.scope",
        )?;
        let evidence = stmt
            .query_map(params![run_id], |r| {
                Ok(EvidenceMeta {
                    sha256: r.get(0)?,
                    collector: r.get(1)?,
                    operation: r.get(2)?,
                    scope: r.get(3)?,
                    collected_at: r.get(4)?,
                    media_type: r.get(5)?,
                    size: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(evidence)
    }

    /// The bytes of one blob, exactly as collected.
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", params![sha256], |r| {
                r.get(0)
            })
            .optional()?)
    }
}
