//! Ed25519 signatures over run manifests and bundles.
//!
//! Keys are files of hex: `evidra-signing.key` holds the 32-byte secret seed (mode
//! 0600), `evidra-signing.pub` the 32-byte public key. A signature is over the exact
//! bytes of a manifest document, so anyone can check it with the public key and any
//! Ed25519 implementation (see README, "Evidence and the manifest").

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a signing key (expected 64 hex digits)")]
    BadKey { path: PathBuf },
    #[error("{0} already exists; refusing to overwrite a signing key")]
    Exists(PathBuf),
    #[error("the operating system gave no randomness: {0}")]
    Random(String),
}

/// A signing key and its hex public key.
#[derive(Clone)]
pub struct Signer25519 {
    key: SigningKey,
}

impl std::fmt::Debug for Signer25519 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer25519({})", self.public_hex())
    }
}

impl Signer25519 {
    pub fn load(path: &Path) -> Result<Self, SigningError> {
        let text = std::fs::read_to_string(path).map_err(|source| SigningError::Io {
            path: path.into(),
            source,
        })?;
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SigningError::BadKey { path: path.into() })?;
        Ok(Self {
            key: SigningKey::from_bytes(&bytes),
        })
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// Hex signature over `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> String {
        hex::encode(self.key.sign(bytes).to_bytes())
    }
}

/// Whether `signature` (hex) by `public_key` (hex) holds over `bytes`.
pub fn verify(public_key: &str, signature: &str, bytes: &[u8]) -> bool {
    let key: Option<[u8; 32]> = hex::decode(public_key).ok().and_then(|b| b.try_into().ok());
    let sig: Option<[u8; 64]> = hex::decode(signature).ok().and_then(|b| b.try_into().ok());
    match (key.and_then(|k| VerifyingKey::from_bytes(&k).ok()), sig) {
        (Some(key), Some(sig)) => key.verify(bytes, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok(),
        _ => false,
    }
}

/// Writes a new key pair into `dir`: `evidra-signing.key` (0600) and `.pub`.
pub fn generate(dir: &Path) -> Result<(PathBuf, PathBuf), SigningError> {
    let secret = dir.join("evidra-signing.key");
    let public = dir.join("evidra-signing.pub");
    for path in [&secret, &public] {
        if path.exists() {
            return Err(SigningError::Exists(path.clone()));
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| SigningError::Random(e.to_string()))?;
    let key = Signer25519 {
        key: SigningKey::from_bytes(&seed),
    };
    let io = |path: PathBuf| move |source| SigningError::Io { path, source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write as _;
    options
        .open(&secret)
        .and_then(|mut f| writeln!(f, "{}", hex::encode(seed)))
        .map_err(io(secret.clone()))?;
    std::fs::write(&public, format!("{}\n", key.public_hex())).map_err(io(public.clone()))?;
    Ok((secret, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip_and_tampering_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, public) = generate(dir.path()).unwrap();
        let signer = Signer25519::load(&secret).unwrap();
        let public = std::fs::read_to_string(public).unwrap();
        let sig = signer.sign(b"manifest");
        assert!(verify(public.trim(), &sig, b"manifest"));
        assert!(!verify(public.trim(), &sig, b"manifesT"));
        assert!(generate(dir.path()).is_err(), "never overwrites a key");
    }
}
