//! The Resource Manager client: the one place that speaks HTTP to Azure.
//!
//! It is our own, thin, over reqwest with rustls, rather than `azure_mgmt_resources`
//! (which the design first named), because that crate is frozen on azure_core 0.21 while
//! azure_identity 1.x is on azure_core 1.x, and because of what an audit tool needs from
//! a client: its paged list operations parse each page into typed 2020/2021 models and
//! drop the response bytes (the evidence must be the bytes), give no way to send the raw
//! request of a next page, drop ARM's error body from errors (a gap must say
//! `AuthorizationFailed: ...`), and cover four of the dozen API families read here. What
//! the collector needs is small: GET (and two read-only POSTs) on documented paths with
//! their api-version, `nextLink` paging, `Retry-After` on 429, ARM error bodies. Should a
//! maintained management SDK fit those needs later, it replaces this module alone:
//! the collector sees only [`ArmClient::send`] and [`Fetched`].

use std::time::Duration;

use evidra_collector_core::TokenBucket;
use reqwest::{Method, Url};
use serde_json::Value;

use crate::credential::{Audience, Credentials};

pub const ARM_ENDPOINT_ENV: &str = "EVIDRA_AZURE_ARM_ENDPOINT";
pub const GRAPH_ENDPOINT_ENV: &str = "EVIDRA_AZURE_GRAPH_ENDPOINT";
const ARM_ENDPOINT: &str = "https://management.azure.com";
const GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";

/// Attempts per call: throttling (429) and transient failures (5xx, connection) retry.
const MAX_ATTEMPTS: u32 = 6;
/// The longest single wait for `Retry-After`; ARM asks for seconds, rarely a minute.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One HTTP response as received.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// `METHOD /path?query` of the request (no host: the evidence names the API, not the
    /// endpoint it was reached on).
    pub operation: String,
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// An HTTP error with ARM's error body (`{"error": {"code", "message"}}`) read out.
    #[error("{code}: {message} (HTTP {status})")]
    Status {
        status: u16,
        code: String,
        message: String,
        response: Box<Fetched>,
    },
    #[error("ConnectionFailed: {0}")]
    Transport(String),
    #[error("CredentialUnavailable: {0}")]
    Credential(String),
    #[error("MalformedResponse: {0}")]
    Malformed(String),
    /// Anything else, already worded with its own code (`NoSubscription: ...`).
    #[error("{0}")]
    Other(String),
}

impl ArmError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error response, when there was one: it is evidence too.
    pub fn response(&self) -> Option<&Fetched> {
        match self {
            ArmError::Status { response, .. } => Some(response),
            _ => None,
        }
    }
}

pub struct ArmClient {
    http: reqwest::Client,
    arm: Url,
    graph: Url,
    credentials: Credentials,
}

impl ArmClient {
    /// Resource Manager at `EVIDRA_AZURE_ARM_ENDPOINT` (default: the public cloud's),
    /// Microsoft Graph at `EVIDRA_AZURE_GRAPH_ENDPOINT`.
    pub fn new(credentials: Credentials) -> Result<Self, ArmError> {
        let endpoint = |var: &str, default: &str| {
            let text = std::env::var(var).ok().filter(|v| !v.trim().is_empty());
            let text = text.as_deref().unwrap_or(default);
            Url::parse(text).map_err(|e| ArmError::Other(format!("{var}={text} is not a URL: {e}")))
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("evidra/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ArmError::Transport(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            arm: endpoint(ARM_ENDPOINT_ENV, ARM_ENDPOINT)?,
            graph: endpoint(GRAPH_ENDPOINT_ENV, GRAPH_ENDPOINT)?,
            credentials,
        })
    }

    pub fn credential_label(&self) -> &str {
        &self.credentials.label
    }

    /// `path` (absolute, e.g. `/subscriptions/S/resourcegroups`) on Resource Manager with
    /// its `api-version` and extra query parameters.
    pub fn arm_url(&self, path: &str, api_version: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.arm.clone();
        url.set_path(path);
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("api-version", api_version);
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        url
    }

    pub fn graph_url(&self, path: &str) -> Url {
        let mut url = self.graph.clone();
        url.set_path(path);
        url
    }

    /// A page's `nextLink`, followed only to the endpoint the first page came from: the
    /// request carries our bearer token, which must never go to another host.
    pub fn next_url(&self, audience: Audience, next_link: &str) -> Result<Url, ArmError> {
        let base = match audience {
            Audience::ResourceManager => &self.arm,
            Audience::Graph => &self.graph,
        };
        let url = base
            .join(next_link)
            .map_err(|e| ArmError::Malformed(format!("nextLink {next_link:?} is not a URL: {e}")))?;
        if url.origin() != base.origin() {
            return Err(ArmError::Malformed(format!(
                "nextLink points to {} instead of {}: not followed",
                url.origin().ascii_serialization(),
                base.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    /// Sends one read, paced by `limiter` (the subscription's read budget), retrying
    /// throttling (after `Retry-After`) and transient failures (with backoff). A 2xx
    /// response is returned as received; anything else is an [`ArmError`].
    /// `Ok(None)`: the credential gives no token for `audience`, nothing was sent.
    pub async fn send(
        &self,
        limiter: &TokenBucket,
        audience: Audience,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Option<Fetched>, ArmError> {
        let base = match audience {
            Audience::ResourceManager => &self.arm,
            Audience::Graph => &self.graph,
        };
        // The token's audience is the endpoint itself (sovereign clouds have their own).
        let scope = format!("{}/.default", base.origin().ascii_serialization());
        let operation = operation_of(&method, &url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let wait = limiter.take();
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let token = match self.credentials.token(audience, &scope).await {
                Ok(Some(token)) => token,
                Ok(None) => return Ok(None),
                Err(e) => return Err(ArmError::Credential(format!("{} ({})", e.0, self.credentials.label))),
            };
            let mut request = self.http.request(method.clone(), url.clone()).bearer_auth(token);
            request = match body {
                Some(body) => request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string()),
                // ARM's read-only POSTs (policy states summarize) take no body, but a
                // POST must say so.
                None if method == Method::POST => request.header(reqwest::header::CONTENT_LENGTH, "0"),
                None => request,
            };
            let response = match request.send().await {
                Ok(response) => response,
                Err(_) if attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(ArmError::Transport(chain(&e))),
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = match response.bytes().await {
                Ok(bytes) => bytes.to_vec(),
                Err(_) if attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(ArmError::Transport(chain(&e))),
            };
            let fetched = Fetched {
                operation: operation.clone(),
                status,
                content_type,
                body: bytes,
            };
            let transient = status == 429 || matches!(status, 500 | 502 | 503 | 504);
            if transient && attempt < MAX_ATTEMPTS {
                let wait = retry_after.unwrap_or_else(|| backoff(attempt)).min(MAX_RETRY_AFTER);
                tokio::time::sleep(wait).await;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok(Some(fetched));
            }
            let (code, message) = error_body(&fetched.body);
            let message = if transient {
                format!("{message} (still failing after {attempt} attempts)")
            } else {
                message
            };
            return Err(ArmError::Status {
                status,
                code,
                message,
                response: Box::new(fetched),
            });
        }
    }
}

/// What evidence and gaps call a request: `METHOD /path?query`, without the host.
pub fn operation_of(method: &Method, url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{method} {}?{q}", url.path()),
        None => format!("{method} {}", url.path()),
    }
}

/// 0.5 s, 1 s, 2 s, 4 s... capped at 16 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(16))
}

/// `Retry-After`: delay-seconds, or an HTTP date (RFC 7231).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let left = when - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

/// ARM's error body, `{"error": {"code", "message"}}` (Graph uses the same shape);
/// otherwise the start of whatever the body is.
fn error_body(body: &[u8]) -> (String, String) {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        let error = value.get("error").unwrap_or(&value);
        let code = error.get("code").and_then(Value::as_str);
        let message = error.get("message").and_then(Value::as_str);
        if code.is_some() || message.is_some() {
            return (
                code.unwrap_or("Error").to_owned(),
                message.unwrap_or_default().to_owned(),
            );
        }
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text.chars().take(200).collect();
    ("HttpError".into(), text.trim().to_owned())
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("17"), Some(Duration::from_secs(17)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn arm_error_bodies_are_read() {
        let body =
            br#"{"error":{"code":"AuthorizationFailed","message":"The client 'x' does not have authorization"}}"#;
        assert_eq!(
            error_body(body),
            (
                "AuthorizationFailed".to_owned(),
                "The client 'x' does not have authorization".to_owned()
            )
        );
        assert_eq!(
            error_body(b"<html>Bad gateway</html>"),
            ("HttpError".to_owned(), "<html>Bad gateway</html>".to_owned())
        );
    }

    #[test]
    fn next_links_are_followed_to_the_same_endpoint_only() {
        let client = ArmClient::new(Credentials::static_tokens("t", None)).unwrap();
        let next = client
            .next_url(
                Audience::ResourceManager,
                "https://management.azure.com/subscriptions/s/resourcegroups?api-version=2021-04-01&%24skiptoken=x",
            )
            .unwrap();
        assert_eq!(next.query(), Some("api-version=2021-04-01&%24skiptoken=x"));
        let elsewhere = client.next_url(Audience::ResourceManager, "https://attacker.example/steal?x=1");
        assert!(matches!(elsewhere, Err(ArmError::Malformed(_))), "{elsewhere:?}");
        let url = client.arm_url("/subscriptions/s/resources", "2021-04-01", &[("$filter", "a eq 'b'")]);
        assert_eq!(
            operation_of(&Method::GET, &url),
            "GET /subscriptions/s/resources?api-version=2021-04-01&%24filter=a+eq+%27b%27"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(9), Duration::from_secs(16));
    }
}
