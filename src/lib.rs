//! evidra: compliance and audit evidence, from collection to auditor-ready reports.
//!
//! The flow (see DESIGN.md): collectors → [`store`] → [`engine`] → findings → [`report`].
//! `main.rs` is only the command line; everything it does is reachable from here.

pub mod bundle;
pub mod canonical;
pub mod catalogue;
pub mod collect;
pub mod config;
pub mod demo;
pub mod diff;
pub mod engine;
pub mod exceptions;
pub mod followup;
pub mod progress;
pub mod report;
pub mod scan;
pub mod signing;
pub mod store;
pub mod time_fmt;

/// The tool's version, as written into reports and manifests.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
