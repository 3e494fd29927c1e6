use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `bytes`: the identity of every evidence blob.
pub fn sha256_hex(bytes: &[u8]) -> String {
    // By table rather than `hex::encode`, whose character-by-character iterator took as
    // long as the hashing itself when sealing or verifying a million findings (perf on
    // `evidra verify`, benches/scale.sh).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(2 * digest.len());
    for byte in digest {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}

/// Where a control is evaluated: one AWS account and region (`global` for IAM), one
/// Azure subscription, and so on. Rules see one scope at a time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub provider: String,
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(provider: impl Into<String>, account: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            account: account.into(),
            region: region.into(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.provider, self.account, self.region)
    }
}

/// Which API call (or imported file) a blob came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EvidenceSource {
    /// The collector, dotted: `files`, `aws.iam`, `azure.arm`.
    pub collector: String,
    /// The API operation (`GetCredentialReport`) or, for imported files, the file's
    /// path relative to the imported folder.
    pub operation: String,
    /// The scope it was read in, as [`Scope`]'s display form, or a folder for files.
    pub scope: String,
}

/// One response body or imported file, kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub sha256: String,
    pub source: EvidenceSource,
    /// RFC 3339, UTC.
    pub collected_at: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl Evidence {
    /// Wraps `bytes` verbatim; the hash is computed here so it can never disagree with them.
    pub fn new(
        source: EvidenceSource,
        collected_at: impl Into<String>,
        media_type: impl Into<String>,
        bytes: Vec<u8>,
    ) -> Self {
        Self {
            sha256: sha256_hex(&bytes),
            source,
            collected_at: collected_at.into(),
            media_type: media_type.into(),
            bytes,
        }
    }
}

/// A resource normalised from evidence, e.g. one IAM user with the fields of its
/// credential report row and of the authorization details merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    pub provider: String,
    pub account: String,
    pub region: String,
    /// Dotted and lowercase: `aws.iam.user`, `aws.s3.bucket`, `azure.storage.account`.
    pub resource_type: String,
    /// The provider's own identifier (ARN, Azure resource ID).
    pub resource_id: String,
    pub properties: serde_json::Value,
    /// SHA-256 of every evidence blob this record was built from (sorted, unique).
    pub evidence: Vec<String>,
}

impl ResourceRecord {
    pub fn scope(&self) -> Scope {
        Scope::new(&self.provider, &self.account, &self.region)
    }
}

/// Positive evidence that the collector read the complete list of `resource_type` in
/// `scope`. Without it, "no resources" means "we do not know", never "none exist",
/// so a control can only be `not_applicable` where an observation says so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Observation {
    pub scope: Scope,
    pub resource_type: String,
    pub evidence: Vec<String>,
}

/// Something the collector tried to read and could not. The engine turns every
/// control finding that depends on it into `error`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gap {
    pub collector: String,
    pub scope: Scope,
    pub operation: String,
    pub error: String,
    /// The resource types the failed read would have produced: which controls it hurts.
    pub resource_types: Vec<String>,
}

/// What one collector hands the store in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub evidence: Vec<Evidence>,
    pub resources: Vec<ResourceRecord>,
    pub observations: Vec<Observation>,
    pub gaps: Vec<Gap>,
}

impl Batch {
    /// Moves everything of `other` into this batch.
    pub fn append(&mut self, mut other: Batch) {
        self.evidence.append(&mut other.evidence);
        self.resources.append(&mut other.resources);
        self.observations.append(&mut other.observations);
        self.gaps.append(&mut other.gaps);
    }

    pub fn is_empty(&self) -> bool {
        self.evidence.is_empty() && self.resources.is_empty() && self.observations.is_empty() && self.gaps.is_empty()
    }
}

#[cfg(test)]
mod tests {
    /// The published SHA-256 test vectors, in lowercase hex.
    #[test]
    fn sha256_hex_is_the_lowercase_hex_of_the_digest() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
