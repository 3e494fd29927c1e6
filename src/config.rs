//! `evidra.toml`: the user's settings. Every key is documented here, where it is
//! declared; unknown keys are errors (a typo must not silently disable a setting).

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The organisation named on report covers.
    pub organisation: Option<String>,
    /// Remediation deadlines by severity, in days (`[deadlines]`: `critical = 7`,
    /// `high = 30`, `medium = 90`, `low = 180`, `info`). An open finding older than its
    /// severity's deadline is overdue: `evidra findings` and the JSON report flag it, and
    /// `collect --fail-on overdue` exits 5. A severity without a key has no deadline.
    pub deadlines: Option<Deadlines>,
    /// Folders of the user's own controls, loaded beside the built-in catalogue.
    /// Relative paths are relative to the config file.
    #[serde(default)]
    pub controls: Vec<PathBuf>,
    /// The Ed25519 signing key (`evidra keys generate`); with it, every sealed run and
    /// every exported bundle is signed. Relative to the config file.
    pub signing_key: Option<PathBuf>,
    /// The exceptions file (accepted risks; see `evidra::exceptions`), relative to the
    /// config file.
    pub exceptions: Option<PathBuf>,
    /// AWS accounts to collect (`[[aws]]`: `profile`, `role_arn`, `external_id`,
    /// `regions` (a list or `"all"`), `max_requests_per_second`; and for AWS
    /// Organizations mode `organization = true`, `member_role_name`,
    /// `member_external_id`, `accounts`, `exclude_accounts`). None: the standard
    /// credential chain and region of the environment.
    #[cfg(feature = "aws")]
    #[serde(default)]
    pub aws: Vec<evidra_collector_aws::AwsTarget>,
    /// Azure credentials and subscriptions to collect (`[[azure]]`: `subscriptions`,
    /// `credential`, `tenant_id`, `client_id`, `max_requests_per_second`, `burst`). None:
    /// the default credential (`EVIDRA_AZURE_TOKEN`, else azure_identity's) and every
    /// subscription it can see.
    #[cfg(feature = "azure")]
    #[serde(default)]
    pub azure: Vec<evidra_collector_azure::AzureTarget>,
}

/// `[deadlines]`: days allowed to fix an open finding, by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    pub critical: Option<u32>,
    pub high: Option<u32>,
    pub medium: Option<u32>,
    pub low: Option<u32>,
    pub info: Option<u32>,
}

impl Deadlines {
    /// The deadline for `severity` (`critical` ... `info`), in days.
    pub fn days(&self, severity: &str) -> Option<i64> {
        match severity {
            "critical" => self.critical,
            "high" => self.high,
            "medium" => self.medium,
            "low" => self.low,
            "info" => self.info,
            _ => None,
        }
        .map(i64::from)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Reads `path`; with no path, `./evidra.toml` if it exists, else the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("evidra.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        Self::parse(&path, &text)
    }

    /// Parses the text of the config file at `path` (named in errors; relative paths
    /// in it are made relative to its folder). The fuzz target calls this directly.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let path = path.to_path_buf();
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        #[cfg(feature = "aws")]
        for target in &config.aws {
            target.validate().map_err(|message| ConfigError::Parse {
                path: path.clone(),
                message,
            })?;
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for dir in config
            .controls
            .iter_mut()
            .chain(config.exceptions.iter_mut())
            .chain(config.signing_key.iter_mut())
        {
            if dir.is_relative() {
                *dir = base.join(&*dir);
            }
        }
        Ok(config)
    }
}
