//! What a reply, or a mail that could not be made, means: sent, deferred with backoff, failed, the member
//! suppressed, or the campaign paused for staff (see [`crate::mail::reply`] for the reading of the reply).

use std::sync::atomic::Ordering;

use rand::Rng;

use crate::domain::campaign::CampaignState;
use crate::domain::{Action, Actor};
use crate::mail::reply::{Refusal, Reply};
use crate::store::Transition;

use super::record::Tally;
use super::{Worker, WorkerError};

impl Worker {
    /// What a permanent refusal is about, with one more rule than the reply alone can give: the same mailbox
    /// refusal for `refusal_streak` recipients in a row is the server refusing us.
    pub(super) fn judge(&self, reply: &Reply) -> Refusal {
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

    /// retry_base × 2^(attempt−1), capped, plus up to 20% jitter so retries of one batch spread out.
    pub(super) fn backoff_ms(&self, attempt: i64) -> i64 {
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
    pub(super) async fn halt(&self, campaign_id: i64, reason: &str) -> Result<(), WorkerError> {
        if let Ok(mut halted) = self.halted.lock()
            && !halted.insert(campaign_id)
        {
            return Ok(());
        }
        self.pause(campaign_id, reason).await
    }

    async fn pause(&self, campaign_id: i64, reason: &str) -> Result<(), WorkerError> {
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
                Action::new(&Actor::Smtp, "campaign.pause", format!("campaign {campaign_id}")).with("reason", reason),
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
            let reason = format!(
                "paused automatically: {} of {} deliveries of run {run_id} failed ({:.0}% > {:.0}%)",
                failed,
                done,
                rate * 100.0,
                d.failure_rate_pause * 100.0
            );
            self.pause(campaign_id, &reason).await?;
        }
        Ok(())
    }
}
