//! The worker: one public step (claim a batch, send it, record every outcome) and a loop around it.
//! No database transaction is open while a mail is on the wire: claim commits first, each outcome after.
//!
//! One delivery goes through a module per policy, in this order:
//! - `claim`: leases and fencing (what this worker holds, and whether it may still start a mail);
//! - `render`: the mail of one recipient, from what every mail of its campaign shares;
//! - `send`: the call to the mail server or the outbox, and the turn it waits for;
//! - `judge`: what a reply means (sent, deferred, failed, the member suppressed, the campaign paused);
//! - `record`: the outcomes, written in group commits, and what a step counts of them.
//!
//! `attempt` holds the path itself (one delivery through them, and a batch of deliveries side by side).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lettre::message::Mailbox;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::Templates;
use crate::mail::transport::Transport;
use crate::store::{Lease, Store, StoreError};

mod attempt;
mod claim;
mod judge;
mod record;
mod render;
mod send;

use record::{Counted, Tally};
use render::CampaignInfo;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Recording outcomes failed; the deliveries stay claimed until their lease runs out.
    #[error("recording outcomes: {0}")]
    Record(String),
    /// A delivery task panicked or was cancelled; its lease runs out and it is claimed again.
    #[error("delivery task: {0}")]
    Task(String),
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Batch(BatchSummary),
    NothingDue,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub claimed: u64,
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    /// Not sent because the recipient left after the run started.
    pub skipped: u64,
    /// Claimed but given back: the worker is stopping, its campaign was paused, or its lease ran short.
    pub released: u64,
    /// Attempts that found the mail server unreachable (no connection or greeting).
    pub unreachable: u64,
}

impl BatchSummary {
    pub fn add(&mut self, other: BatchSummary) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.deferred += other.deferred;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.released += other.released;
        self.unreachable += other.unreachable;
    }
}

/// Cheap to clone: attempts run as tasks of their own, so rendering uses every core.
#[derive(Clone)]
pub struct Worker(Arc<Inner>);

impl std::ops::Deref for Worker {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub struct Inner {
    store: Store,
    transport: Arc<dyn Transport>,
    templates: RwLock<Arc<Templates>>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    /// The instance this worker claims for: the lease owner of everything it holds.
    owner: String,
    /// Part of every Message-ID, so two installations never issue the same one.
    installation: String,
    from: Mailbox,
    signing_key: Vec<u8>,
    limiter: Option<DefaultDirectRateLimiter>,
    /// Campaigns as read at the start of the current step: edits and pauses are seen at the next one.
    campaigns: Mutex<HashMap<i64, Arc<CampaignInfo>>>,
    tallies: Mutex<HashMap<i64, Tally>>,
    /// Campaigns paused during this step: the rest of their batch goes back to the queue unsent.
    halted: Mutex<HashSet<i64>>,
    stopping: Arc<AtomicBool>,
    stopped: Notify,
    /// Until when, on this machine's monotonic clock, the leases of the current batch surely hold: set at
    /// the claim, moved on by every heartbeat. A mail is never started past it.
    leases_until: Mutex<Instant>,
    /// The lease every claim takes, read from the settings once.
    lease: Lease,
    /// Mailbox refusals since the last accepted mail.
    refusals_in_a_row: AtomicU32,
    /// Set when an outcome could not be recorded for good: nothing more goes out in this step.
    unrecorded: AtomicBool,
    smtp_down: AtomicBool,
}

/// What a worker is made of.
pub struct WorkerParts {
    pub store: Store,
    pub transport: Arc<dyn Transport>,
    pub templates: Arc<Templates>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// The instance it works for (see [`crate::store::Store::register_instance`]).
    pub owner: String,
    pub installation: String,
    pub from: Mailbox,
    pub signing_key: Vec<u8>,
}

impl WorkerError {
    /// The database is away for now (down, restarting, locked): worth waiting for, not worth dying of.
    pub fn is_unavailable(&self) -> bool {
        match self {
            WorkerError::Store(e) => e.is_unavailable(),
            WorkerError::Record(_) | WorkerError::Task(_) => false,
        }
    }
}

impl Worker {
    pub fn new(parts: WorkerParts) -> Self {
        let WorkerParts {
            store,
            transport,
            templates,
            settings,
            clock,
            owner,
            installation,
            from,
            signing_key,
        } = parts;
        let lease = Lease::of(&settings.delivery);
        let limiter =
            NonZeroU32::new(settings.delivery.rate_per_second).map(|n| RateLimiter::direct(Quota::per_second(n)));
        Self(Arc::new(Inner {
            store,
            transport,
            templates: RwLock::new(templates),
            settings,
            clock,
            owner,
            installation,
            from,
            signing_key,
            limiter,
            campaigns: Mutex::new(HashMap::new()),
            tallies: Mutex::new(HashMap::new()),
            halted: Mutex::new(HashSet::new()),
            stopping: Arc::new(AtomicBool::new(false)),
            stopped: Notify::new(),
            leases_until: Mutex::new(Instant::now()),
            lease,
            refusals_in_a_row: AtomicU32::new(0),
            unrecorded: AtomicBool::new(false),
            smtp_down: AtomicBool::new(false),
        }))
    }

    /// The instance id this worker claims for.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Stops claiming; deliveries not yet on the wire are released at once.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stopped.notify_waiters();
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once [`Worker::stop`] is called.
    async fn until_stopped(&self) {
        let notified = self.stopped.notified();
        if !self.is_stopping() {
            notified.await;
        }
    }

    /// Uses a new set of templates from the next mail on (reload).
    pub fn set_templates(&self, templates: Arc<Templates>) {
        if let Ok(mut current) = self.templates.write() {
            *current = templates;
        }
    }

    /// The heartbeat renewed this worker's leases at `at` (taken before the renewal was sent).
    pub fn leases_renewed(&self, at: Instant) {
        let until = at + self.lease_duration();
        if let Ok(mut current) = self.leases_until.lock()
            && until > *current
        {
            *current = until;
        }
    }

    /// Claims one batch of due deliveries, sends it and records every outcome.
    pub async fn step(&self) -> Result<Step, WorkerError> {
        if self.is_stopping() {
            return Ok(Step::NothingDue);
        }
        let (now, claimed) = self.claim_batch().await?;
        if claimed.is_empty() {
            self.finish_runs(now).await?;
            return Ok(Step::NothingDue);
        }
        if let Ok(mut campaigns) = self.campaigns.lock() {
            campaigns.clear();
        }
        if let Ok(mut halted) = self.halted.lock() {
            halted.clear();
        }
        self.unrecorded.store(false, Ordering::SeqCst);
        let mut summary = BatchSummary {
            claimed: claimed.len() as u64,
            ..Default::default()
        };
        let results = self.attempt_all(claimed).await?;
        let Counted { released, touched } = self.count_outcomes(results, &mut summary)?;
        summary.released = released.len() as u64;
        self.give_back_all(&released).await?;
        for (run_id, campaign_id) in touched {
            self.pause_if_failing(run_id, campaign_id).await?;
        }
        self.finish_runs(self.clock.now_ms()).await?;
        Ok(Step::Batch(summary))
    }

    /// Steps until nothing is due now (deliveries waiting for a retry later are left for later).
    pub async fn drain(&self) -> Result<BatchSummary, WorkerError> {
        self.drain_with(|_| {}).await
    }

    /// [`Worker::drain`], telling `on_batch` about every batch (for a progress bar).
    pub async fn drain_with(&self, mut on_batch: impl FnMut(&BatchSummary)) -> Result<BatchSummary, WorkerError> {
        let mut total = BatchSummary::default();
        while let Step::Batch(summary) = self.step().await? {
            on_batch(&summary);
            total.add(summary);
            if self.is_stopping() {
                break;
            }
        }
        Ok(total)
    }

    /// Steps until stopped, idling `idle` between empty steps.
    /// A failure that is not the database or the mail server being away ends the loop with it.
    pub async fn run(&self, idle: Duration) -> Result<(), WorkerError> {
        let mut outage: Option<String> = None;
        let mut pause = idle;
        while !self.is_stopping() {
            match self.step().await {
                Ok(step) => {
                    if let Some(reason) = outage.take() {
                        tracing::warn!("the database is back after: {reason}");
                    }
                    pause = idle;
                    if step == Step::NothingDue {
                        tokio::select! {
                            _ = tokio::time::sleep(idle) => {}
                            _ = self.until_stopped() => {}
                        }
                    }
                }
                Err(e) if e.is_unavailable() => {
                    // Once per outage, not once per try.
                    if outage.is_none() {
                        tracing::error!(error = %e, "the database is unavailable; retrying with backoff");
                        outage = Some(e.to_string());
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = self.until_stopped() => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl From<WorkerError> for crate::error::AppError {
    fn from(e: WorkerError) -> Self {
        match e {
            WorkerError::Store(s) => s.into(),
            WorkerError::Task(t) => crate::error::AppError::Internal(t),
            WorkerError::Record(e) => crate::error::AppError::Database(e),
        }
    }
}
