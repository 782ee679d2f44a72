//! outreach: the Tokyo Chamber of Commerce and Industry's awareness duties as timed mail campaigns, with a
//! per-recipient ledger and a send log auditors can trust.

pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod export;
pub mod import;
pub mod mail;
pub mod runtime;
pub mod services;
pub mod store;
pub mod web;

pub use services::Application;

/// The log filter when `OUTREACH_LOG` is not set: the scheduler library's start-up chatter is left out.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tokio_cron_scheduler=warn";
pub mod cli;
