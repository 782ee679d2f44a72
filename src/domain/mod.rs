//! Types and rules with no I/O: the plan, members, campaigns and their schedules, deliveries, actors.

pub mod account;
pub mod action;
pub mod audit;
pub mod campaign;
pub mod channel;
pub mod delivery;
pub mod field;
pub mod fiscal;
pub mod member;
pub mod plan;
pub mod problem;
pub mod refusal;
pub mod states;
pub mod text;

pub use action::{Action, ActionRecord, Actor};
pub use channel::Channel;
pub use delivery::Outcome;
pub use field::Field;
pub use problem::{FieldError, Invalid, Problem};
pub use refusal::{Refusal, RefusalKind};
pub use states::{MemberEventKind, MemberStatus, RunStatus, Trigger};
