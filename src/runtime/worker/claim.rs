//! Leases and fencing: what this worker holds, for how long it surely holds it, and when a claimed delivery
//! must go back to the queue unsent rather than risk a second copy from another instance.

use std::time::Duration;

use tokio::time::Instant;

use super::record::Attempted;
use super::{Worker, WorkerError};

impl Worker {
    /// How many deliveries to claim at once: the batch size, but no more than the rate limit lets out in half a
    /// lease, so a batch is not still waiting for its turn when its lease runs out.
    pub(super) fn claim_size(&self) -> u32 {
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

    pub(super) fn leases_hold_until(&self) -> Instant {
        self.leases_until.lock().map_or_else(|_| Instant::now(), |t| *t)
    }

    /// Gives one delivery back to the queue now, so a stop or a pause never leaves it leased.
    pub(super) async fn give_back(&self, delivery_id: i64) -> Result<Attempted, WorkerError> {
        self.store
            .release(&self.owner, Some(&[delivery_id]), self.clock.now_ms())
            .await?;
        Ok(Attempted::Released(delivery_id))
    }
}
