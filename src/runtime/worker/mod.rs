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
use rand::Rng;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::campaign::{Campaign, CampaignState};
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::domain::member::Locale;
use crate::domain::plan::Channel;
use crate::domain::{Action, Actor};
use crate::mail::Templates;
use crate::mail::context::{CampaignContext, Links, Recipient, reading_locale, template_in};
use crate::mail::message::{compose, message_id};
use crate::mail::reply::{Refusal, Reply};
use crate::mail::token::expiry_day;
use crate::mail::transport::Transport;
use crate::store::{Lease, Store, StoreError, Transition};

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

/// An outcome on its way to the database, and where to say it is committed.
type Commit = (AttemptRecord, oneshot::Sender<Result<(), String>>);

/// Writes whatever outcomes are pending in one transaction (group commit). While the database is unavailable
/// it keeps the group and tries again with backoff: the attempts waiting for it hold their send permits, so
/// no new mail goes on the wire until outcomes are recorded again (at most `pool_size` unrecorded).
async fn commit_loop(store: Store, mut pending: mpsc::Receiver<Commit>) {
    while let Some(first) = pending.recv().await {
        let mut group = vec![first];
        while let Ok(next) = pending.try_recv() {
            group.push(next);
        }
        let (records, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let mut pause = Duration::from_millis(200);
        let mut outage = false;
        let result = loop {
            match store.record_attempts(&records).await {
                Ok(()) => break Ok(()),
                Err(e) if e.is_unavailable() => {
                    if !outage {
                        tracing::error!(
                            error = %e,
                            waiting = records.len(),
                            "cannot record outcomes: the database is unavailable; no new mail goes out until \
                             they are recorded"
                        );
                        outage = true;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(e) => break Err(e.to_string()),
            }
        };
        if outage && result.is_ok() {
            tracing::warn!(recorded = records.len(), "the database is back: outcomes recorded");
        }
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }
}

async fn record_via(commits: &mpsc::Sender<Commit>, record: AttemptRecord) -> Result<(), WorkerError> {
    let (done, committed) = oneshot::channel();
    commits
        .send((record, done))
        .await
        .map_err(|_| WorkerError::Record("committer stopped".into()))?;
    committed
        .await
        .map_err(|_| WorkerError::Record("committer stopped".into()))?
        .map_err(WorkerError::Record)
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

struct CampaignInfo {
    campaign: Campaign,
    /// What every mail of the campaign shares, or why none can be rendered.
    context: Result<CampaignContext, String>,
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

/// How one attempt ended for the step.
enum Attempted {
    Recorded {
        run_id: i64,
        campaign_id: i64,
        outcome: Outcome,
        unreachable: bool,
    },
    Released(i64),
}

/// Why a mail could not be prepared.
enum Unprepared {
    /// The campaign's mail does not render (template or plan): the campaign is held, nobody is failed.
    Render(String),
    /// This recipient's address cannot be used: this delivery fails.
    Address(String),
}

/// Outcomes this worker recorded for one run: what the automatic pause judges, without scanning the run.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    done: u64,
    failed: u64,
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

    fn lease_duration(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.lease.ms).unwrap_or(0))
    }

    fn leases_hold_until(&self) -> Instant {
        self.leases_until.lock().map_or_else(|_| Instant::now(), |t| *t)
    }

    fn is_halted(&self, campaign_id: i64) -> bool {
        self.halted.lock().is_ok_and(|h| h.contains(&campaign_id))
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

    /// Marks the runs with nothing left as done, with a line for the operator each.
    async fn finish_runs(&self, now: i64) -> Result<(), StoreError> {
        for id in self.store.finish_runs(now).await? {
            let (Some(run), counts) = (self.store.run(id).await?, self.store.run_counts(id).await?) else {
                continue;
            };
            tracing::info!(
                run = id,
                campaign = run.campaign_id,
                sent = counts.sent,
                failed = counts.failed,
                not_sent = counts.cancelled,
                took_secs = (now - run.created_at).max(0) / 1000,
                "run finished"
            );
        }
        Ok(())
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

    async fn campaign_info(&self, campaign_id: i64) -> Result<Arc<CampaignInfo>, WorkerError> {
        if let Some(info) = self.campaigns.lock().ok().and_then(|c| c.get(&campaign_id).cloned()) {
            return Ok(info);
        }
        let campaign = self
            .store
            .campaign(campaign_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("campaign {campaign_id}")))?;
        let plan = self.store.plan(Some(campaign.fiscal_year)).await?;
        let context = match plan.as_ref().map(|p| (p, p.theme(&campaign.theme_slug))) {
            None => Err(format!("no plan for fiscal year {}", campaign.fiscal_year)),
            Some((_, None)) => Err(format!("theme {} not in the plan", campaign.theme_slug)),
            Some((plan, Some(theme))) => Ok(CampaignContext::new(
                &self.settings.organization,
                plan,
                theme,
                campaign.channel,
                campaign.title.as_deref(),
                campaign.issue.as_deref(),
            )),
        };
        let info = Arc::new(CampaignInfo { campaign, context });
        if let Ok(mut cache) = self.campaigns.lock() {
            cache.insert(campaign_id, info.clone());
        }
        Ok(info)
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

    /// Gives one delivery back to the queue now, so a stop or a pause never leaves it leased.
    async fn give_back(&self, delivery_id: i64) -> Result<Attempted, WorkerError> {
        self.store
            .release(&self.owner, Some(&[delivery_id]), self.clock.now_ms())
            .await?;
        Ok(Attempted::Released(delivery_id))
    }

    /// Pauses a campaign with the reason staff will read, and stops this step from sending more of it.
    async fn halt(&self, campaign_id: i64, reason: &str) -> Result<(), WorkerError> {
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

    fn prepare(
        &self,
        info: &CampaignInfo,
        d: &ClaimedDelivery,
        id: &str,
        template: &str,
        locale: Locale,
    ) -> Result<(crate::mail::message::Composed, String), Unprepared> {
        let c = &info.campaign;
        let shared = info.context.as_ref().map_err(|e| Unprepared::Render(e.clone()))?;
        let recipient = Recipient {
            kind: d.recipient_kind.clone(),
            email: d.email.clone(),
            name: if d.recipient_kind == "editorial" {
                "編集部".into()
            } else {
                d.name.clone()
            },
            company: d.company.clone(),
            branch: d.branch.clone(),
        };
        let links = match (c.channel, d.recipient_id) {
            (Channel::Newsletter, Some(member_id)) => Some(Links::for_member(
                &self.settings.web.base_url,
                &self.signing_key,
                member_id,
                &c.theme_slug,
                expiry_day(self.clock.now_ms(), self.settings.web.link_ttl_days),
            )),
            _ => None,
        };
        let list_unsubscribe = links.as_ref().map(|l| l.unsubscribe.clone());
        let context = shared.for_recipient(
            &recipient,
            d.scheduled_for,
            self.settings.schedule.tz(),
            links.as_ref(),
            locale,
        );
        let templates = self
            .templates
            .read()
            .map_err(|_| Unprepared::Render("templates unavailable".into()))?
            .clone();
        let mail = templates
            .render(template, context)
            .map_err(|e| Unprepared::Render(e.to_string()))?;
        let composed = compose(&self.from, &d.email, &mail, id, list_unsubscribe.as_deref())
            .map_err(|e| Unprepared::Address(e.to_string()))?;
        Ok((composed, mail.sha256()))
    }

    /// retry_base × 2^(attempt−1), capped, plus up to 20% jitter so retries of one batch spread out.
    fn backoff_ms(&self, attempt: i64) -> i64 {
        let base = self.settings.delivery.retry_base_secs.saturating_mul(1000);
        let exp = base.saturating_mul(1u64 << (attempt - 1).clamp(0, 30));
        let capped = exp.min(self.settings.delivery.retry_max_secs.saturating_mul(1000));
        let jitter = rand::rng().random_range(0..=capped / 5);
        i64::try_from(capped + jitter).unwrap_or(i64::MAX)
    }

    async fn pause_if_failing(&self, run_id: i64, campaign_id: i64) -> Result<(), WorkerError> {
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

impl From<WorkerError> for crate::error::AppError {
    fn from(e: WorkerError) -> Self {
        match e {
            WorkerError::Store(s) => s.into(),
            WorkerError::Task(t) => crate::error::AppError::Internal(t),
            WorkerError::Record(e) => crate::error::AppError::Database(e),
        }
    }
}
