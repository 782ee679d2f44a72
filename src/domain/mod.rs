//! Types and rules with no I/O. (The rest of the domain types move here as the layers are reshaped.)

pub mod action;
pub mod channel;
pub mod delivery;
pub mod states;

pub use action::{Action, ActionRecord, Actor};
pub use channel::Channel;
pub use delivery::Outcome;
pub use states::{MemberStatus, RunStatus, Trigger};
