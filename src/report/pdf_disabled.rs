//! The PDF report when evidra is built without the `pdf` feature (no typst): the same
//! entry points as `pdf.rs`, each an error, so the rest of the library needs no `cfg`.
//! Only the library is built this way (the fuzz targets); the `evidra` binary requires
//! the feature.

use super::ReportError;
use super::customer::CustomerView;
use super::model::ReportModel;

fn disabled(template: &str) -> ReportError {
    ReportError::Pdf {
        template: template.to_owned(),
        message: "this build of evidra has no PDF support (the `pdf` feature is off)".to_owned(),
    }
}

/// The auditor's PDF: unavailable in this build.
pub fn render(_model: &ReportModel) -> Result<Vec<u8>, ReportError> {
    Err(disabled("report.typ"))
}

/// The customer's PDF: unavailable in this build.
pub fn render_customer(_view: &CustomerView) -> Result<Vec<u8>, ReportError> {
    Err(disabled("customer.typ"))
}

/// The audit-period PDF: unavailable in this build.
pub fn render_period(_model: &super::period::PeriodModel) -> Result<Vec<u8>, ReportError> {
    Err(disabled("period.typ"))
}
