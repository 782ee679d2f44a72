//! The worker: one public step (claim a batch, send it, record every outcome) and a loop around it.
//! No database transaction is open while a mail is on the wire: claim commits first, each outcome after.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lettre::message::Mailbox;
use rand::Rng;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::message::{compose, message_id};
use super::transport::{Reply, Transport};
use super::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::campaigns::{Campaign, CampaignState};
use crate::clock::Clock;
use crate::config::Settings;
use crate::plan::Channel;
use crate::store::{Store, StoreError};
use crate::templates::Templates;
use crate::templates::context::{CampaignContext, Links, Recipient};

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

async fn commit_loop(store: Arc<dyn Store>, mut pending: mpsc::Receiver<Commit>) {
    while let Some(first) = pending.recv().await {
        let mut group = vec![first];
        while let Ok(next) = pending.try_recv() {
            group.push(next);
        }
        let (records, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let result = store.record_attempts(&records).await.map_err(|e| e.to_string());
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
    /// Claimed but given back because the worker is stopping.
    pub released: u64,
}

impl BatchSummary {
    fn add(&mut self, other: BatchSummary) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.deferred += other.deferred;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.released += other.released;
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
    store: Arc<dyn Store>,
    transport: Arc<dyn Transport>,
    templates: Arc<Templates>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    owner: String,
    from: Mailbox,
    signing_key: Vec<u8>,
    limiter: Option<DefaultDirectRateLimiter>,
    campaigns: Mutex<HashMap<i64, Arc<CampaignInfo>>>,
    tallies: Mutex<HashMap<i64, Tally>>,
    stopping: Arc<AtomicBool>,
}

enum Attempted {
    /// (run, campaign, outcome)
    Recorded(i64, i64, Outcome),
    Released(i64),
}

/// Outcomes this worker recorded for one run: what the automatic pause judges, without scanning the run.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    done: u64,
    failed: u64,
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        transport: Arc<dyn Transport>,
        templates: Arc<Templates>,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        from: Mailbox,
        signing_key: Vec<u8>,
    ) -> Self {
        let limiter =
            NonZeroU32::new(settings.delivery.rate_per_second).map(|n| RateLimiter::direct(Quota::per_second(n)));
        let owner = format!("{}-{}", std::process::id(), rand::rng().random::<u32>());
        Self(Arc::new(Inner {
            store,
            transport,
            templates,
            settings,
            clock,
            owner,
            from,
            signing_key,
            limiter,
            campaigns: Mutex::new(HashMap::new()),
            tallies: Mutex::new(HashMap::new()),
            stopping: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// Set to stop claiming; deliveries not yet on the wire are released.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stopping.clone()
    }

    /// Claims one batch of due deliveries, sends it and records every outcome.
    pub async fn step(&self) -> Result<Step, WorkerError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Ok(Step::NothingDue);
        }
        let now = self.clock.now_ms();
        let lease_until = now + (self.settings.delivery.lease_secs as i64) * 1000;
        let claimed = self
            .store
            .claim(&self.owner, now, lease_until, self.claim_size())
            .await?;
        if claimed.is_empty() {
            self.store.finish_runs(now).await?;
            return Ok(Step::NothingDue);
        }
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
                tokio::spawn(async move { worker.attempt(d, &commits, &unrecorded, lease_until).await })
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
                Attempted::Recorded(run_id, campaign_id, outcome) => (run_id, campaign_id, outcome),
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
        self.store.release(&self.owner, &released, self.clock.now_ms()).await?;
        for (run_id, campaign_id) in touched {
            self.pause_if_failing(run_id, campaign_id).await?;
        }
        self.store.finish_runs(self.clock.now_ms()).await?;
        Ok(Step::Batch(summary))
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
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
        }
        Ok(total)
    }

    /// Steps until stopped, idling `idle` between empty steps.
    pub async fn run(&self, idle: Duration) -> Result<(), WorkerError> {
        while !self.stopping.load(Ordering::SeqCst) {
            match self.step().await {
                Ok(Step::Batch(_)) => {}
                Ok(Step::NothingDue) => tokio::time::sleep(idle).await,
                Err(e) => {
                    // The database may be restarting: say so and keep going.
                    tracing::error!(error = %e, "worker step failed; retrying");
                    tokio::time::sleep(idle * 5).await;
                }
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
                &campaign.name,
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
        lease_until: i64,
    ) -> Result<Attempted, WorkerError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Ok(Attempted::Released(d.id));
        }
        let info = self.campaign_info(d.campaign_id).await?;
        let c = &info.campaign;
        let id = message_id(d.run_id, d.id, &self.settings.delivery.message_id_domain);
        let attempt = d.attempts + 1;
        let mut record = AttemptRecord {
            delivery_id: d.id,
            owner: self.owner.clone(),
            at: 0,
            attempt,
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
            template: c.template.clone(),
            content_sha256: String::new(),
        };
        if !d.still_wanted {
            // The member left after the audience was frozen: their choice wins over the ledger.
            record.at = self.clock.now_ms();
            record.outcome = Outcome::Skipped;
            record.smtp_reply = "not sent: the recipient left after the run started".into();
            record_via(commits, record).await?;
            return Ok(Attempted::Recorded(d.run_id, d.campaign_id, Outcome::Skipped));
        }
        let prepared = self.prepare(&info, &d, &id);
        // Held from the moment the mail may reach the server until its outcome is committed: this, not the
        // number of tasks, bounds the mails a crash can leave accepted but unrecorded (pool_size).
        let Ok(_unrecorded) = unrecorded.acquire().await else {
            return Ok(Attempted::Released(d.id));
        };
        if self.stopping.load(Ordering::SeqCst) {
            return Ok(Attempted::Released(d.id));
        }
        let reply = match prepared {
            Err(reason) => Reply::Permanent {
                code: None,
                text: reason,
            },
            Ok((composed, sha)) => {
                record.content_sha256 = sha;
                if let Some(limiter) = &self.limiter {
                    limiter.until_ready().await;
                }
                // Never start a mail whose lease could run out before the server answers: another worker
                // could claim it meanwhile and send it again. Given back, it is claimed afresh.
                let answer_by = self.clock.now_ms() + (self.settings.smtp.timeout_secs as i64) * 1000;
                if answer_by >= lease_until || self.stopping.load(Ordering::SeqCst) {
                    return Ok(Attempted::Released(d.id));
                }
                let stem = format!("{}-{}", d.run_id, d.id);
                self.transport.send(&composed.envelope, &composed.bytes, &stem).await
            }
        };
        record.at = self.clock.now_ms();
        record.smtp_code = reply.code().map(i64::from);
        record.smtp_reply = reply.text().to_owned();
        record.outcome = match &reply {
            Reply::Accepted { .. } => Outcome::Sent,
            Reply::Transient { .. } if attempt < i64::from(self.settings.delivery.max_attempts) => {
                record.next_attempt_at = record.at + self.backoff_ms(attempt);
                Outcome::Deferred
            }
            Reply::Transient { .. } | Reply::Permanent { .. } => Outcome::Failed,
        };
        if reply.is_address_rejection() && d.recipient_kind == "member" {
            record.suppress_member = d.recipient_id;
        }
        let outcome = record.outcome;
        record_via(commits, record).await?;
        Ok(Attempted::Recorded(d.run_id, d.campaign_id, outcome))
    }

    fn prepare(
        &self,
        info: &CampaignInfo,
        d: &ClaimedDelivery,
        id: &str,
    ) -> Result<(super::message::Composed, String), String> {
        let c = &info.campaign;
        let shared = info.context.as_ref().map_err(Clone::clone)?;
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
            )),
            _ => None,
        };
        let list_unsubscribe = links.as_ref().map(|l| l.unsubscribe.clone());
        let context = shared.for_recipient(&recipient, d.scheduled_for, self.settings.schedule.tz(), links.as_ref());
        let mail = self
            .templates
            .render(&c.template, context)
            .map_err(|e| format!("render: {e}"))?;
        let composed =
            compose(&self.from, &d.email, &mail, id, list_unsubscribe.as_deref()).map_err(|e| e.to_string())?;
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
            let now = self.clock.now_ms();
            if self
                .store
                .set_campaign_state(
                    campaign_id,
                    &[CampaignState::Scheduled],
                    CampaignState::Paused,
                    &reason,
                    None,
                    now,
                )
                .await?
            {
                tracing::warn!(campaign = campaign_id, "{reason}");
                if let Ok(mut cache) = self.campaigns.lock() {
                    cache.remove(&campaign_id);
                }
            }
        }
        Ok(())
    }
}
