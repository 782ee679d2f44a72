//! Every integration test, in one test crate: a module per file, the shared helpers (`common`, `support`)
//! once, the browser tests under `browser`. One crate links the library once, where a test binary per file
//! linked it 28 times (issue 16). A test is named by its module: `cargo test --test it web_pages::` runs one
//! file's tests, `cargo test --test it browser::` the browser tests.
//!
//! The tests share one process: none may set environment variables, change the current directory or count the
//! process's own threads or descriptors; a setting goes to the child or the `Application` it is for (see
//! `common::TestEnv`), and tests sharing an external server tell their mail apart by their own addresses.

#[macro_use]
mod common;
mod support;

mod accounts;
mod actions;
mod api;
mod attack;
mod audit;
mod audit_erasure;
mod audit_log;
mod browser;
mod cli;
mod crash;
mod delivery;
mod faults;
mod fields;
mod fuzz;
mod inputs;
mod japanese;
mod layers;
mod outage;
mod realclock;
mod schedule_race;
mod secrets;
mod service;
mod takeover;
mod web;
mod web_auth;
mod web_campaign_edit;
mod web_dashboard;
mod web_e2e;
mod web_hardening;
mod web_ops;
mod web_pages;
mod web_staff;
