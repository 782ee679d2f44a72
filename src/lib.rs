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
pub mod cli;
