//! Failed reads become gaps: which operation, in which scope, failed how.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use evidra_collector_core::{Gap, Scope};

/// The error code (`AccessDenied`, `Throttling`, `NoSuchEntity`) or the failure kind.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::ServiceError(service) => service.err().code().unwrap_or("ServiceError").to_owned(),
        SdkError::TimeoutError(_) => "Timeout".into(),
        SdkError::DispatchFailure(_) => "ConnectionFailed".into(),
        SdkError::ResponseError(_) => "MalformedResponse".into(),
        SdkError::ConstructionFailure(_) => "RequestNotBuilt".into(),
        _ => "Unknown".into(),
    }
}

/// A one-line description: code and message, or the transport failure.
pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = code(err);
    let detail = match err {
        SdkError::ServiceError(service) => service.err().message().map(str::to_owned),
        other => Some(chain(other)),
    };
    match detail {
        Some(detail) if !detail.is_empty() => format!("{code}: {detail}"),
        _ => code,
    }
}

/// An error and its sources, joined: the SDK's top-level messages ("dispatch failure")
/// say little, the cause is at the end of the chain.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let message = e.to_string();
        // Some layers repeat their source's message; say it once.
        if !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = e.source();
    }
    text
}

pub fn gap(collector: &str, scope: &Scope, operation: &str, error: String, types: &[&str]) -> Gap {
    Gap {
        collector: collector.into(),
        scope: scope.clone(),
        operation: operation.into(),
        error,
        resource_types: types.iter().map(|t| (*t).to_owned()).collect(),
    }
}
