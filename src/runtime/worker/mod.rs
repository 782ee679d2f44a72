//! The worker: one public step (claim a batch, send it, record every outcome) and a loop around it.
//! No database transaction is open while a mail is on the wire: claim commits first, each outcome after.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lettre::message::Mailbox;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::mail::Templates;
use crate::mail::context::{reading_locale, template_in};
use crate::mail::message::message_id;
use crate::mail::reply::{Refusal, Reply};
use crate::mail::transport::Transport;
use crate::store::{Lease, Store, StoreError};

mod claim;
mod judge;
mod record;
mod render;
mod send;

use record::{Attempted, Commit, Tally, commit_loop, record_via};
use render::{CampaignInfo, Unprepared};

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
        // Between steps this worker holds nothing: whatever a failed step left leased is given back first.
        self.store.release(&self.owner, None, self.clock.now_ms()).await?;
        // A dead process of this machine is known dead now, not once its heartbeat has gone stale.
        super::process::find_gone_neighbours(&self.store, &self.owner, self.lease.instance_timeout_ms).await?;
        let now = self.clock.now_ms();
        let lease = self.lease;
        let claimed_at = Instant::now();
        let claimed = self.store.claim(&self.owner, now, lease, self.claim_size()).await?;
        if let Ok(mut until) = self.leases_until.lock() {
            *until = claimed_at + self.lease_duration();
        }
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
        let parallel = self.settings.smtp.pool_size as usize;
        // Outcomes go to one committer that writes whatever is pending in one transaction (group commit); each
        // attempt waits for the commit holding its record. Twice as many attempts as connections run, so the
        // next mails render while others wait on the server or the commit.
        let (commits, pending) = mpsc::channel(parallel * 2);
        let committer = tokio::spawn(commit_loop(self.store.clone(), pending));
        let unrecorded = Arc::new(Semaphore::new(parallel));
        let results: Vec<_> = futures::stream::iter(claimed)
            .map(|d| {
                let worker = self.clone();
                let commits = commits.clone();
                let unrecorded = unrecorded.clone();
                tokio::spawn(async move { worker.attempt(d, &commits, &unrecorded).await })
            })
            .buffer_unordered(parallel * 2)
            .collect()
            .await;
        drop(commits);
        committer.await.map_err(|e| WorkerError::Task(e.to_string()))?;
        let mut released = Vec::new();
        let mut touched = HashSet::new();
        for result in results {
            let (run_id, campaign_id, outcome) = match result.map_err(|e| WorkerError::Task(e.to_string()))?? {
                Attempted::Released(id) => {
                    released.push(id);
                    continue;
                }
                Attempted::Recorded {
                    run_id,
                    campaign_id,
                    outcome,
                    unreachable,
                } => {
                    summary.unreachable += u64::from(unreachable);
                    (run_id, campaign_id, outcome)
                }
            };
            match outcome {
                Outcome::Sent => summary.sent += 1,
                Outcome::Deferred => summary.deferred += 1,
                Outcome::Failed => summary.failed += 1,
                Outcome::Skipped => summary.skipped += 1,
            }
            if matches!(outcome, Outcome::Sent | Outcome::Failed) {
                touched.insert((run_id, campaign_id));
                if let Ok(mut tallies) = self.tallies.lock() {
                    let tally = tallies.entry(run_id).or_default();
                    tally.done += 1;
                    tally.failed += u64::from(outcome == Outcome::Failed);
                }
            }
        }
        summary.released = released.len() as u64;
        self.store
            .release(&self.owner, Some(&released), self.clock.now_ms())
            .await?;
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

    async fn attempt(
        &self,
        d: ClaimedDelivery,
        commits: &mpsc::Sender<Commit>,
        unrecorded: &Semaphore,
    ) -> Result<Attempted, WorkerError> {
        if self.is_stopping() || self.is_halted(d.campaign_id) {
            return self.give_back(d.id).await;
        }
        let info = self.campaign_info(d.campaign_id).await?;
        let c = &info.campaign;
        // The recipient's language picks the template; the send log names the one that went out.
        let locale = reading_locale(c.channel, d.locale);
        let template = template_in(&c.template, locale);
        let id = message_id(
            &self.installation,
            d.run_id,
            d.id,
            &self.settings.delivery.message_id_domain,
        );
        let mut record = AttemptRecord {
            delivery_id: d.id,
            owner: self.owner.clone(),
            at: 0,
            attempt: d.attempt,
            outcome: Outcome::Failed,
            next_attempt_at: 0,
            smtp_code: None,
            smtp_reply: String::new(),
            suppress_member: None,
            run_id: d.run_id,
            campaign_id: c.id,
            theme_slug: c.theme_slug.clone(),
            duty: c.duty.clone(),
            channel: c.channel.slug().to_owned(),
            recipient: d.email.clone(),
            message_id: id.clone(),
            template: template.clone(),
            content_sha256: String::new(),
        };
        let recorded = |outcome, unreachable| Attempted::Recorded {
            run_id: d.run_id,
            campaign_id: d.campaign_id,
            outcome,
            unreachable,
        };
        if !d.still_wanted {
            // The member left after the audience was frozen: their choice wins over the ledger.
            record.at = self.clock.now_ms();
            record.outcome = Outcome::Skipped;
            record.smtp_reply = "not sent: the recipient left after the run started".into();
            record_via(commits, record).await?;
            return Ok(recorded(Outcome::Skipped, false));
        }
        let (composed, sha) = match self.prepare(&info, &d, &id, &template, locale) {
            Ok(prepared) => prepared,
            Err(Unprepared::Render(reason)) => {
                // Nobody is failed for our own template: the campaign waits until it is fixed and resumed.
                self.halt(c.id, &format!("held: the mail does not render: {reason}"))
                    .await?;
                return self.give_back(d.id).await;
            }
            Err(Unprepared::Address(reason)) => {
                record.at = self.clock.now_ms();
                record.smtp_reply = reason;
                record_via(commits, record).await?;
                return Ok(recorded(Outcome::Failed, false));
            }
        };
        record.content_sha256 = sha;
        // Held from the moment the mail may reach the server until its outcome is committed: this, not the
        // number of tasks, bounds the mails a crash or a database outage can leave accepted but unrecorded.
        let _unrecorded = tokio::select! {
            permit = unrecorded.acquire() => match permit {
                Ok(permit) => permit,
                Err(_) => return self.give_back(d.id).await,
            },
            _ = self.until_stopped() => return self.give_back(d.id).await,
        };
        if let Some(limiter) = &self.limiter {
            tokio::select! {
                _ = limiter.until_ready() => {}
                _ = self.until_stopped() => return self.give_back(d.id).await,
            }
        }
        // Never start a mail whose lease could run out before the server answers (another instance could take
        // it over and send it again), nor one of a campaign paused meanwhile, nor any after a lost record.
        let answer_by = Instant::now() + Duration::from_secs(self.settings.smtp.timeout_secs);
        if answer_by >= self.leases_hold_until()
            || self.is_stopping()
            || self.is_halted(d.campaign_id)
            || self.unrecorded.load(Ordering::SeqCst)
        {
            return self.give_back(d.id).await;
        }
        let stem = format!("{}-{}", d.run_id, d.id);
        let reply = self.transport.send(&composed.envelope, &composed.bytes, &stem).await;
        self.note_server(&reply);
        record.at = self.clock.now_ms();
        record.smtp_code = reply.code().map(i64::from);
        record.smtp_reply = reply.text().to_owned();
        record.outcome = match &reply {
            Reply::Accepted { .. } => {
                self.refusals_in_a_row.store(0, Ordering::SeqCst);
                Outcome::Sent
            }
            Reply::Transient { .. } if d.attempt < i64::from(self.settings.delivery.max_attempts) => {
                record.next_attempt_at = record.at + self.backoff_ms(d.attempt);
                Outcome::Deferred
            }
            Reply::Transient { .. } => Outcome::Failed,
            Reply::Permanent { .. } => match self.judge(&reply) {
                Refusal::Mailbox => {
                    if d.recipient_kind == "member" {
                        record.suppress_member = d.recipient_id;
                    }
                    Outcome::Failed
                }
                Refusal::Message => Outcome::Failed,
                Refusal::Transport => {
                    let reason = format!(
                        "paused: the mail server refuses the sending, not a recipient: {} {}",
                        reply.code().map(|c| c.to_string()).unwrap_or_default(),
                        reply.text()
                    );
                    self.halt(c.id, &reason).await?;
                    // Back to the queue as it was: the attempt is logged, the campaign waits for staff.
                    record.next_attempt_at = record.at;
                    Outcome::Deferred
                }
            },
        };
        let outcome = record.outcome;
        if let Err(e) = record_via(commits, record).await {
            self.unrecorded.store(true, Ordering::SeqCst);
            return Err(e);
        }
        Ok(recorded(outcome, reply.is_unreachable()))
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
