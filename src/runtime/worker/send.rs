//! The call to the mail server (or the outbox) and the turn a mail waits for before it. No database
//! transaction is open here: the claim committed before, the outcome is committed after.

use std::sync::atomic::Ordering;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::domain::delivery::ClaimedDelivery;
use crate::mail::message::Composed;
use crate::mail::reply::Reply;

use super::Worker;

impl Worker {
    /// One of the `pool_size` permits for mails between the wire and their commit; `None` once the worker
    /// stops (or the permits are gone), and the delivery goes back unsent.
    pub(super) async fn send_permit<'a>(&self, unrecorded: &'a Semaphore) -> Option<SemaphorePermit<'a>> {
        tokio::select! {
            permit = unrecorded.acquire() => permit.ok(),
            _ = self.until_stopped() => None,
        }
    }

    /// Waits for the rate limit's turn; false when the worker stops first.
    pub(super) async fn rate_limit_lets_through(&self) -> bool {
        if let Some(limiter) = &self.limiter {
            tokio::select! {
                _ = limiter.until_ready() => {}
                _ = self.until_stopped() => return false,
            }
        }
        true
    }

    /// Puts the mail on the wire and returns what the server said (a reply is never an error here: see
    /// [`Reply`]).
    pub(super) async fn send_mail(&self, d: &ClaimedDelivery, composed: &Composed) -> Reply {
        let stem = format!("{}-{}", d.run_id, d.id);
        let reply = self.transport.send(&composed.envelope, &composed.bytes, &stem).await;
        self.note_server(&reply);
        reply
    }

    /// Once per outage: a mail server that cannot be reached is loud, and so is its return.
    fn note_server(&self, reply: &Reply) {
        if reply.is_unreachable() {
            if !self.smtp_down.swap(true, Ordering::SeqCst) {
                tracing::warn!(
                    reply = reply.text(),
                    "cannot reach the mail server; mail waits in the queue"
                );
            }
        } else if self.smtp_down.swap(false, Ordering::SeqCst) {
            tracing::warn!("the mail server answers again");
        }
    }
}
