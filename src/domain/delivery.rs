//! A delivery as the queue hands it out, and an attempt as the send log records it.

use serde::Serialize;

/// A delivery claimed by one worker, with what is needed to render it.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub run_id: i64,
    pub campaign_id: i64,
    pub scheduled_for: i64,
    /// The number of this attempt (1 for the first): the claim counted it. With the owner, it fences the
    /// outcome: a worker that lost the delivery to another cannot overwrite the new owner's state.
    pub attempt: i64,
    pub email: String,
    pub recipient_kind: String,
    pub recipient_id: Option<i64>,
    pub name: String,
    pub company: String,
    pub branch: String,
    /// The member's language (`ja` for advisors and the editorial desk).
    pub locale: crate::domain::member::Locale,
    /// False when the recipient left after the run froze its audience (unsubscribed, suppressed, deactivated).
    pub still_wanted: bool,
}

super::states::text_enum! {
    /// How one attempt ended.
    Outcome {
        Sent => "sent",
        /// A temporary failure: tried again later.
        Deferred => "deferred",
        Failed => "failed",
        /// Not sent: the recipient left after the run started.
        Skipped => "skipped",
    }
}

/// One attempt, as recorded: the delivery's new state and the send-log row.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub owner: String,
    pub at: i64,
    /// 1 for the first attempt.
    pub attempt: i64,
    pub outcome: Outcome,
    /// For a deferred attempt: when to try again.
    pub next_attempt_at: i64,
    pub smtp_code: Option<i64>,
    pub smtp_reply: String,
    /// Suppress the member behind the address (the server said it does not exist).
    pub suppress_member: Option<i64>,
    pub run_id: i64,
    pub campaign_id: i64,
    pub theme_slug: String,
    pub duty: String,
    pub channel: String,
    pub recipient: String,
    pub message_id: String,
    pub template: String,
    pub content_sha256: String,
}
