//! Types and rules with no I/O. (The rest of the domain types move here as the layers are reshaped.)

pub mod action;

pub use action::{Action, ActionRecord, Actor};
