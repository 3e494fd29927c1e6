//! Credentials: `EVIDRA_AZURE_TOKEN` first, else azure_identity 1.x, adapted here (and
//! only here) to the one thing the ARM client needs: a bearer token for an audience.
//!
//! Swapping the identity library, or its major version, touches this module alone.

use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential};
use serde::Deserialize;

/// A bearer token used as-is for Resource Manager (what
/// `az account get-access-token --query accessToken -o tsv` prints).
pub const TOKEN_ENV: &str = "EVIDRA_AZURE_TOKEN";
/// A bearer token for Microsoft Graph, used with [`TOKEN_ENV`] to resolve principal names
/// (`az account get-access-token --resource-type ms-graph --query accessToken -o tsv`).
pub const GRAPH_TOKEN_ENV: &str = "EVIDRA_AZURE_GRAPH_TOKEN";

/// Which credential an `[[azure]]` entry uses (`credential = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// `EVIDRA_AZURE_TOKEN` (and `EVIDRA_AZURE_GRAPH_TOKEN`).
    Token,
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
    ClientSecret,
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` (AKS workload identity).
    WorkloadIdentity,
    /// The managed identity of the Azure host (`AZURE_CLIENT_ID` or `client_id` for a
    /// user-assigned one).
    ManagedIdentity,
    /// The Azure CLI's (or Azure Developer CLI's) signed-in account.
    AzureCli,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    ResourceManager,
    Graph,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CredentialError(pub String);

/// The credential of one `[[azure]]` entry.
pub struct Credentials {
    source: Source,
    /// What the user sees in messages: which credential, never its secret.
    pub label: String,
}

enum Source {
    Static {
        arm: String,
        graph: Option<String>,
    },
    /// azure_identity credentials, tried in order; the first that gives a token is kept.
    Identity {
        chain: Vec<(String, Arc<dyn TokenCredential>)>,
        chosen: std::sync::OnceLock<usize>,
        /// Tokens by scope, kept until shortly before they expire. Not every credential
        /// caches (the Azure CLI one runs `az` on every call), and a run reads many pages
        /// at once: the lock makes the first read fetch and the others wait for it.
        cache: tokio::sync::Mutex<std::collections::BTreeMap<String, AccessToken>>,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Credentials {
    /// The credential for `kind` (None: the default order). `tenant_id` and `client_id`
    /// override `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`.
    ///
    /// Default order: `EVIDRA_AZURE_TOKEN`; a client secret (`AZURE_CLIENT_SECRET`);
    /// workload identity (`AZURE_FEDERATED_TOKEN_FILE`); the managed identity of an App
    /// Service, Functions or Arc host (`IDENTITY_ENDPOINT`); else the Azure CLI, then the
    /// VM managed identity (IMDS).
    pub fn from_env(
        kind: Option<CredentialKind>,
        tenant_id: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<Self, CredentialError> {
        let tenant = tenant_id.map(str::to_owned).or_else(|| env("AZURE_TENANT_ID"));
        let client = client_id.map(str::to_owned).or_else(|| env("AZURE_CLIENT_ID"));
        let kind = match kind {
            Some(kind) => kind,
            None if env(TOKEN_ENV).is_some() => CredentialKind::Token,
            None if env("AZURE_CLIENT_SECRET").is_some() => CredentialKind::ClientSecret,
            None if env("AZURE_FEDERATED_TOKEN_FILE").is_some() => CredentialKind::WorkloadIdentity,
            None if env("IDENTITY_ENDPOINT").is_some() || env("MSI_ENDPOINT").is_some() => {
                CredentialKind::ManagedIdentity
            }
            None => {
                let cli = cli()?;
                let imds = managed(client.as_deref())?;
                return Ok(Self {
                    source: Source::identity(vec![("Azure CLI".into(), cli), ("managed identity".into(), imds)]),
                    label: "Azure CLI, then managed identity".into(),
                });
            }
        };
        let identity = |label: &str, credential: Arc<dyn TokenCredential>| Self {
            source: Source::identity(vec![(label.to_owned(), credential)]),
            label: label.to_owned(),
        };
        Ok(match kind {
            CredentialKind::Token => {
                let arm = env(TOKEN_ENV).ok_or_else(|| CredentialError(format!("{TOKEN_ENV} is not set")))?;
                Self {
                    source: Source::Static {
                        arm: arm.trim().to_owned(),
                        graph: env(GRAPH_TOKEN_ENV).map(|t| t.trim().to_owned()),
                    },
                    label: TOKEN_ENV.into(),
                }
            }
            CredentialKind::ClientSecret => {
                let need = |v: Option<String>, name: &str| {
                    v.ok_or_else(|| CredentialError(format!("the client secret credential needs {name}")))
                };
                let tenant = need(tenant, "AZURE_TENANT_ID")?;
                let client = need(client, "AZURE_CLIENT_ID")?;
                let secret = need(env("AZURE_CLIENT_SECRET"), "AZURE_CLIENT_SECRET")?;
                let credential = azure_identity::ClientSecretCredential::new(
                    &tenant,
                    client.clone(),
                    azure_core::credentials::Secret::new(secret),
                    None,
                )
                .map_err(|e| CredentialError(format!("client secret credential: {e}")))?;
                identity(&format!("client secret of application {client}"), credential)
            }
            CredentialKind::WorkloadIdentity => {
                let credential = azure_identity::WorkloadIdentityCredential::new(Some(
                    azure_identity::WorkloadIdentityCredentialOptions {
                        tenant_id: tenant,
                        client_id: client,
                        ..Default::default()
                    },
                ))
                .map_err(|e| CredentialError(format!("workload identity credential: {e}")))?;
                identity("workload identity", credential)
            }
            CredentialKind::ManagedIdentity => identity("managed identity", managed(client.as_deref())?),
            CredentialKind::AzureCli => identity("Azure CLI", cli()?),
        })
    }

    /// Bearer tokens given as they are: for Resource Manager, and optionally for Graph.
    pub fn static_tokens(arm: &str, graph: Option<&str>) -> Self {
        Self {
            source: Source::Static {
                arm: arm.to_owned(),
                graph: graph.map(str::to_owned),
            },
            label: "static token".into(),
        }
    }

    /// A bearer token for `audience`. None: this credential cannot give one (a static
    /// Resource Manager token is not valid for Graph), so the reads that need it are
    /// not made.
    pub async fn token(&self, audience: Audience, scope: &str) -> Result<Option<String>, CredentialError> {
        match &self.source {
            Source::Static { arm, graph } => Ok(match audience {
                Audience::ResourceManager => Some(arm.clone()),
                Audience::Graph => graph.clone(),
            }),
            Source::Identity { chain, chosen, cache } => {
                let mut cache = cache.lock().await;
                let fresh_until = azure_core::time::OffsetDateTime::now_utc() + TOKEN_MARGIN;
                if let Some(token) = cache.get(scope).filter(|t| t.expires_on > fresh_until) {
                    return Ok(Some(token.token.secret().to_owned()));
                }
                let token = if let Some(&i) = chosen.get() {
                    let (label, credential) = &chain[i];
                    get(label, credential.as_ref(), scope).await?
                } else {
                    let mut errors = Vec::new();
                    let mut found = None;
                    for (i, (label, credential)) in chain.iter().enumerate() {
                        match get(label, credential.as_ref(), scope).await {
                            Ok(token) => {
                                // Keep the first that works: later calls must not hop between identities.
                                let _ = chosen.set(i);
                                found = Some(token);
                                break;
                            }
                            Err(e) => errors.push(e.0),
                        }
                    }
                    found.ok_or_else(|| CredentialError(errors.join("; ")))?
                };
                let secret = token.token.secret().to_owned();
                cache.insert(scope.to_owned(), token);
                Ok(Some(secret))
            }
        }
    }
}

/// A cached token is used until this long before it expires, so that no read starts with
/// a token that lapses while it pages.
const TOKEN_MARGIN: azure_core::time::Duration = azure_core::time::Duration::minutes(5);

impl Source {
    fn identity(chain: Vec<(String, Arc<dyn TokenCredential>)>) -> Self {
        Source::Identity {
            chain,
            chosen: std::sync::OnceLock::new(),
            cache: tokio::sync::Mutex::new(std::collections::BTreeMap::new()),
        }
    }
}

async fn get(label: &str, credential: &dyn TokenCredential, scope: &str) -> Result<AccessToken, CredentialError> {
    credential
        .get_token(&[scope], None)
        .await
        // azure_identity's messages end in a troubleshooting link on its own line: one line here.
        .map_err(|e| CredentialError(format!("{label}: {}", e.to_string().lines().next().unwrap_or_default())))
}

fn cli() -> Result<Arc<dyn TokenCredential>, CredentialError> {
    Ok(azure_identity::DeveloperToolsCredential::new(None)
        .map_err(|e| CredentialError(format!("Azure CLI credential: {e}")))?)
}

fn managed(client_id: Option<&str>) -> Result<Arc<dyn TokenCredential>, CredentialError> {
    let options = azure_identity::ManagedIdentityCredentialOptions {
        user_assigned_id: client_id.map(|c| azure_identity::UserAssignedId::ClientId(c.to_owned())),
        ..Default::default()
    };
    Ok(azure_identity::ManagedIdentityCredential::new(Some(options))
        .map_err(|e| CredentialError(format!("managed identity credential: {e}")))?)
}
