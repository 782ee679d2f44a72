//! Leases and fencing: what this worker holds, for how long it surely holds it, and when a claimed delivery
//! must go back to the queue unsent rather than risk a second copy from another instance.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::record::Attempted;
use super::{Worker, WorkerError};
use crate::domain::delivery::ClaimedDelivery;

impl Worker {
    /// Takes the next batch of due deliveries, with the database time it was claimed at.
    pub(super) async fn claim_batch(&self) -> Result<(i64, Vec<ClaimedDelivery>), WorkerError> {
        // Between steps this worker holds nothing: whatever a failed step left leased is given back first.
        self.store.release(&self.owner, None, self.clock.now_ms()).await?;
        // A dead process of this machine is known dead now, not once its heartbeat has gone stale.
        crate::runtime::process::find_gone_neighbours(&self.store, &self.owner, self.lease.instance_timeout_ms).await?;
        let now = self.clock.now_ms();
        let lease = self.lease;
        // Taken before the claim is sent: the lease runs from the database's clock at the claim, which is later,
        // so it holds at least a lease from here.
        let claimed_at = Instant::now();
        let claimed = self.store.claim(&self.owner, now, lease, self.claim_size()).await?;
        if let Ok(mut until) = self.leases_until.lock() {
            *until = claimed_at + self.lease_duration();
        }
        Ok((now, claimed))
    }

    /// How many deliveries to claim at once: the batch size, but no more than the rate limit lets out in half a
    /// lease, so a batch is not still waiting for its turn when its lease runs out.
    fn claim_size(&self) -> u32 {
        let d = &self.settings.delivery;
        match d.rate_per_second {
            0 => d.batch_size,
            rate => {
                let in_half_lease = u64::from(rate).saturating_mul(d.lease_secs) / 2;
                d.batch_size
                    .min(u32::try_from(in_half_lease).unwrap_or(u32::MAX))
                    .max(1)
            }
        }
    }

    pub(super) fn lease_duration(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.lease.ms).unwrap_or(0))
    }

    fn leases_hold_until(&self) -> Instant {
        self.leases_until.lock().map_or_else(|_| Instant::now(), |t| *t)
    }

    /// Before any work on a delivery: the worker is stopping, or its campaign was paused earlier in this step.
    pub(super) fn give_back_before_rendering(&self, campaign_id: i64) -> bool {
        self.is_stopping() || self.is_halted(campaign_id)
    }

    /// The last look before the wire. Never start a mail whose lease could run out before the server answers
    /// (another instance could take it over and send it again), nor one of a campaign paused meanwhile, nor any
    /// after a lost record.
    pub(super) fn too_late_to_send(&self, campaign_id: i64) -> bool {
        let answer_by = Instant::now() + Duration::from_secs(self.settings.smtp.timeout_secs);
        answer_by >= self.leases_hold_until()
            || self.is_stopping()
            || self.is_halted(campaign_id)
            || self.unrecorded.load(Ordering::SeqCst)
    }

    /// Gives one delivery back to the queue now, so a stop or a pause never leaves it leased.
    pub(super) async fn give_back(&self, delivery_id: i64) -> Result<Attempted, WorkerError> {
        self.store
            .release(&self.owner, Some(&[delivery_id]), self.clock.now_ms())
            .await?;
        Ok(Attempted::Released(delivery_id))
    }

    /// Gives back, at the end of a step, the deliveries its attempts released.
    pub(super) async fn give_back_all(&self, released: &[i64]) -> Result<(), WorkerError> {
        self.store
            .release(&self.owner, Some(released), self.clock.now_ms())
            .await?;
        Ok(())
    }
}
