//! What a reply, or a mail that could not be made, means: sent, deferred with backoff, failed, the member
//! suppressed, or the campaign paused for staff (see [`crate::mail::reply`] for the reading of the reply).

use std::sync::atomic::Ordering;

use rand::Rng;
use tokio::sync::mpsc;

use crate::domain::campaign::{CampaignState, StateReason};
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::domain::{Action, Actor};
use crate::mail::reply::{Refusal, Reply};
use crate::store::Transition;

use super::record::{Attempted, Commit, Tally, record_via};
use super::render::Unprepared;
use super::{Worker, WorkerError};

impl Worker {
    /// Writes what the server answered into the record and decides the outcome.
    pub(super) async fn judge_reply(
        &self,
        d: &ClaimedDelivery,
        reply: &Reply,
        record: &mut AttemptRecord,
    ) -> Result<(), WorkerError> {
        record.at = self.clock.now_ms();
        record.smtp_code = reply.code().map(i64::from);
        record.smtp_reply = reply.text().to_owned();
        record.outcome = match reply {
            Reply::Accepted { .. } => {
                // A mail accepted ends a streak of mailbox refusals: the server takes our mail (see `judge`).
                self.refusals_in_a_row.store(0, Ordering::SeqCst);
                Outcome::Sent
            }
            Reply::Transient { .. } => self.retry_or_fail(d.attempt, record),
            Reply::Permanent { .. } => self.refused(d, reply, record).await?,
        };
        Ok(())
    }

    /// A temporary failure is tried again after a backoff, until `max_attempts` attempts have been made.
    fn retry_or_fail(&self, attempt: i64, record: &mut AttemptRecord) -> Outcome {
        if attempt < i64::from(self.settings.delivery.max_attempts) {
            record.next_attempt_at = record.at + self.backoff_ms(attempt);
            Outcome::Deferred
        } else {
            Outcome::Failed
        }
    }

    /// A permanent refusal fails the delivery, and suppresses a member whose mailbox refuses; one that is the
    /// server refusing us pauses the campaign and leaves the delivery in the queue as it was.
    async fn refused(
        &self,
        d: &ClaimedDelivery,
        reply: &Reply,
        record: &mut AttemptRecord,
    ) -> Result<Outcome, WorkerError> {
        Ok(match self.judge(reply) {
            Refusal::Mailbox => {
                if d.recipient_kind == "member" {
                    record.suppress_member = d.recipient_id;
                }
                Outcome::Failed
            }
            Refusal::Message => Outcome::Failed,
            Refusal::Transport => {
                let reason = StateReason::ServerRefusesSending {
                    code: reply.code(),
                    reply: reply.text().to_owned(),
                };
                self.halt(record.campaign_id, &reason).await?;
                // Back to the queue as it was: the attempt is logged, the campaign waits for staff.
                record.next_attempt_at = record.at;
                Outcome::Deferred
            }
        })
    }

    /// What a permanent refusal is about, with one more rule than the reply alone can give: the same mailbox
    /// refusal for `refusal_streak` recipients in a row is the server refusing us.
    fn judge(&self, reply: &Reply) -> Refusal {
        match reply.refusal() {
            Some(Refusal::Mailbox) => {
                let in_a_row = self.refusals_in_a_row.fetch_add(1, Ordering::SeqCst).saturating_add(1);
                if in_a_row >= self.settings.delivery.refusal_streak {
                    Refusal::Transport
                } else {
                    Refusal::Mailbox
                }
            }
            Some(other) => other,
            None => Refusal::Message,
        }
    }

    /// A mail that could not be made: our template holds the campaign, a bad address fails the delivery.
    pub(super) async fn unprepared(
        &self,
        d: &ClaimedDelivery,
        why: Unprepared,
        mut record: AttemptRecord,
        commits: &mpsc::Sender<Commit>,
    ) -> Result<Attempted, WorkerError> {
        match why {
            Unprepared::Render(reason) => {
                // Nobody is failed for our own template: the campaign waits until it is fixed and resumed.
                self.halt(record.campaign_id, &StateReason::DoesNotRender { error: reason })
                    .await?;
                self.give_back(d.id).await
            }
            Unprepared::Address(reason) => {
                // The record's outcome is already Failed; nothing went on the wire, so a lost record here does
                // not stop the step from sending (see `record_sent`).
                record.at = self.clock.now_ms();
                record.smtp_reply = reason;
                record_via(commits, record).await?;
                Ok(Attempted::recorded(d, Outcome::Failed, false))
            }
        }
    }

    /// retry_base × 2^(attempt−1), capped, plus up to 20% jitter so retries of one batch spread out.
    fn backoff_ms(&self, attempt: i64) -> i64 {
        let base = self.settings.delivery.retry_base_secs.saturating_mul(1000);
        let exp = base.saturating_mul(1u64 << (attempt - 1).clamp(0, 30));
        let capped = exp.min(self.settings.delivery.retry_max_secs.saturating_mul(1000));
        let jitter = rand::rng().random_range(0..=capped / 5);
        i64::try_from(capped + jitter).unwrap_or(i64::MAX)
    }

    pub(super) fn is_halted(&self, campaign_id: i64) -> bool {
        self.halted.lock().is_ok_and(|h| h.contains(&campaign_id))
    }

    /// Pauses a campaign with the reason staff will read, and stops this step from sending more of it.
    async fn halt(&self, campaign_id: i64, reason: &StateReason) -> Result<(), WorkerError> {
        if let Ok(mut halted) = self.halted.lock()
            && !halted.insert(campaign_id)
        {
            return Ok(());
        }
        self.pause(campaign_id, reason).await
    }

    async fn pause(&self, campaign_id: i64, reason: &StateReason) -> Result<(), WorkerError> {
        let now = self.clock.now_ms();
        if self
            .store
            .transition(
                campaign_id,
                &Transition {
                    from: CampaignState::Paused.reachable_by(&Actor::Smtp),
                    to: CampaignState::Paused,
                    reason,
                    settled_ms: None,
                },
                now,
                Action::new(&Actor::Smtp, "campaign.pause", format!("campaign {campaign_id}"))
                    .with("reason", reason.to_string()),
            )
            .await?
        {
            tracing::warn!(campaign = campaign_id, "{reason}");
        }
        Ok(())
    }

    /// After a step: a run whose recorded outcomes fail more often than `failure_rate_pause` (once there are
    /// `failure_min_sample` of them) pauses its campaign.
    pub(super) async fn pause_if_failing(&self, run_id: i64, campaign_id: i64) -> Result<(), WorkerError> {
        let Some(Tally { done, failed }) = self.tallies.lock().ok().and_then(|t| t.get(&run_id).copied()) else {
            return Ok(());
        };
        let d = &self.settings.delivery;
        if done < u64::from(d.failure_min_sample) || done == 0 {
            return Ok(());
        }
        let rate = failed as f64 / done as f64;
        if rate > d.failure_rate_pause {
            let reason = StateReason::FailureRate {
                failed,
                done,
                run: run_id,
                rate,
                limit: d.failure_rate_pause,
            };
            self.pause(campaign_id, &reason).await?;
        }
        Ok(())
    }
}
