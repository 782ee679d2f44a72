//! The scheduler: finds each campaign's due tick and starts its run. Schedules and run state live in our
//! tables; tokio-cron-scheduler only wakes us (see [`crate::services`]), so a restart, two timers or two instances
//! firing the same tick still make one run, keyed by (campaign, tick).

use std::sync::Arc;

use serde::Serialize;

use crate::clock::Clock;
use crate::config::{CatchUp, Settings, millis};
use crate::domain::campaign::schedule::format_iso;
use crate::domain::campaign::{Campaign, CampaignState, StateReason};
use crate::domain::{Action, Actor, Trigger};
use crate::services::audience_of;
use crate::store::{Run, Store, StoreError, Transition, runs};

/// What one look at the schedule did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tick {
    pub fired: Vec<Run>,
    pub skipped: Vec<SkippedTick>,
    pub finished: Vec<i64>,
}

/// A tick left unfired, and why (the catch-up policy).
#[derive(Debug, Clone, Serialize)]
pub struct SkippedTick {
    pub campaign_id: i64,
    pub tick: i64,
    pub why: String,
}

pub struct Scheduler {
    store: Store,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
}

impl Scheduler {
    pub fn new(store: Store, settings: Arc<Settings>, clock: Arc<dyn Clock>) -> Self {
        Self { store, settings, clock }
    }

    /// Fires what is due now under the catch-up policy.
    pub async fn fire_due(&self) -> Result<Tick, StoreError> {
        let now = self.clock.now_ms();
        let mut report = Tick::default();
        for campaign in self.store.scheduled_campaigns().await? {
            self.consider(&campaign, now, &mut report).await?;
        }
        Ok(report)
    }

    async fn consider(&self, c: &Campaign, now: i64, report: &mut Tick) -> Result<(), StoreError> {
        let s = &self.settings.schedule;
        if let Some(tick) = c.latest_tick(c.settled_ms, now) {
            let late = now - tick;
            let missed_before = c
                .ticks_after(c.settled_ms, 10_000)
                .iter()
                .filter(|t| **t < tick)
                .count();
            let on_time = late <= millis(s.on_time_secs);
            let within = s.catch_up == CatchUp::Latest && late <= millis(s.max_lateness_secs);
            if on_time || within {
                let trigger = if on_time { Trigger::Schedule } else { Trigger::CatchUp };
                // Start first, settle after: a crash in between re-finds the tick, and the run key absorbs it.
                // A run the schedule starts is in the send log, not the staff-action log: no one asked for it.
                let audience = audience_of(c.channel, &c.theme_slug, &self.settings);
                let run = self
                    .store
                    .change(now, async |tx| {
                        Ok((runs::start_run(tx, c.id, tick, trigger, &audience, now).await?, None))
                    })
                    .await?;
                self.store.settle(c.id, c.settled_ms, tick).await?;
                if let Some(run) = run {
                    if !on_time {
                        tracing::warn!(
                            campaign = c.id,
                            tick = %format_iso(tick, s.tz()),
                            late_secs = late / 1000,
                            missed_before,
                            "catch-up: fired the latest missed tick (policy latest, within max_lateness)"
                        );
                    }
                    tracing::info!(
                        campaign = c.id,
                        run = run.id,
                        tick = %format_iso(tick, s.tz()),
                        audience = run.audience,
                        trigger = trigger.as_str(),
                        "run started"
                    );
                    report.fired.push(run);
                }
            } else if self.store.settle(c.id, c.settled_ms, tick).await? {
                let why = match s.catch_up {
                    CatchUp::Skip => format!("{}s late and catch_up = skip", late / 1000),
                    CatchUp::Latest => format!(
                        "{}s late, more than max_lateness_secs = {}",
                        late / 1000,
                        s.max_lateness_secs
                    ),
                };
                tracing::warn!(
                    campaign = c.id,
                    tick = %format_iso(tick, s.tz()),
                    missed_before,
                    "skipped a missed tick: {why}"
                );
                report.skipped.push(SkippedTick {
                    campaign_id: c.id,
                    tick,
                    why,
                });
            }
        }
        // Nothing left to fire: a recurring campaign past its bounds, or a one-time one whose tick was skipped.
        let settled = c.latest_tick(c.settled_ms, now).unwrap_or(c.settled_ms).max(now);
        // Only a scheduled run counts: `send-now` is outside the schedule and never uses up its firing.
        let fired_once = c.schedule.is_once()
            && self
                .store
                .runs(Some(c.id))
                .await?
                .iter()
                .any(|r| r.trigger != Trigger::Manual);
        if !fired_once && c.ticks_after(settled, 1).is_empty() {
            let reason = StateReason::NoFiringLeft;
            if self
                .store
                .transition(
                    c.id,
                    &Transition {
                        from: CampaignState::Finished.reachable_by(&Actor::Scheduler),
                        to: CampaignState::Finished,
                        reason: &reason,
                        settled_ms: None,
                    },
                    now,
                    Action::campaign_finished(c.id, &reason),
                )
                .await?
            {
                report.finished.push(c.id);
            }
        }
        Ok(())
    }
}
