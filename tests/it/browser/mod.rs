//! The pages in a real browser: headless Chromium over WebDriver (see `harness` for the helpers and what is
//! needed to run), with axe-core on every page visited. Members follow the links of mails that really went
//! through SMTP (`member`); staff sign in through the form (`staff`), create and preview a campaign
//! (`staff_campaigns`), send a run and watch it, then find what happened as auditors (`staff_runs`), check a
//! CSV file and meet the role checks (`staff_pages`).
//!
//! `.ci/run` requires every test of this module to have passed: add a new test's name to its `browser` count.

mod harness;
mod member;
mod staff;
mod staff_campaigns;
mod staff_dashboard;
mod staff_pages;
mod staff_runs;
mod tour;
