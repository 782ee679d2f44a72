//! The call to the mail server (or the outbox) and the turn a mail waits for before it. No database
//! transaction is open here: the claim committed before, the outcome is committed after.

use std::sync::atomic::Ordering;

use crate::mail::reply::Reply;

use super::Worker;

impl Worker {
    /// Once per outage: a mail server that cannot be reached is loud, and so is its return.
    pub(super) fn note_server(&self, reply: &Reply) {
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
