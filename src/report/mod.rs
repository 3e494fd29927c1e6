//! Reports: read-only views over one run's findings, for one framework.
//!
//! [`model::build`] computes everything a report shows (requirement statuses, findings
//! with their requirements, gaps, evidence); each format only lays it out, so JSON,
//! HTML and the rest can never disagree.

pub mod html;
pub mod model;

pub use model::{ReportModel, build};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("unknown framework `{0}` (the catalogue has: {1})")]
    UnknownFramework(String, String),
    #[error("cannot render the HTML report: {0}")]
    Html(#[from] askama::Error),
    #[error("cannot write the JSON report: {0}")]
    Json(#[from] serde_json::Error),
}

/// Output formats of `evidra report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// Renders `model` in `format`.
pub fn render(model: &ReportModel, format: Format) -> Result<Vec<u8>, ReportError> {
    Ok(match format {
        Format::Json => {
            let mut bytes = serde_json::to_vec_pretty(&model.json())?;
            bytes.push(b'\n');
            bytes
        }
        Format::Html => html::render(model)?.into_bytes(),
    })
}
