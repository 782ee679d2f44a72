//! Delivery: the worker that claims due deliveries, renders and sends them, and records every attempt.

pub use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};

pub mod message;
pub mod reply;
pub mod transport;
mod worker;

pub use worker::{BatchSummary, Step, Worker, WorkerError, WorkerParts};
