//! Outcomes: the send-log row of an attempt, written in group commits by one committer, and what a step
//! counts of them (its summary, and the per-run tallies the automatic pause judges).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinError;

use crate::domain::campaign::Campaign;
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::store::{Store, StoreError};

use super::render::Variant;
use super::{BatchSummary, Worker, WorkerError};

/// An outcome on its way to the database, and where to say it is committed.
pub(super) type Commit = (AttemptRecord, oneshot::Sender<Result<(), String>>);

/// How one attempt ended for the step.
pub(super) enum Attempted {
    Recorded {
        run_id: i64,
        campaign_id: i64,
        outcome: Outcome,
        unreachable: bool,
    },
    Released(i64),
}

impl Attempted {
    pub(super) fn recorded(d: &ClaimedDelivery, outcome: Outcome, unreachable: bool) -> Self {
        Attempted::Recorded {
            run_id: d.run_id,
            campaign_id: d.campaign_id,
            outcome,
            unreachable,
        }
    }
}

/// How every attempt of a batch ended, in the order they finished.
pub(super) type Attempts = Vec<Result<Result<Attempted, WorkerError>, JoinError>>;

/// What a step does with its attempts once they are counted.
pub(super) struct Counted {
    /// Deliveries to give back to the queue.
    pub(super) released: Vec<i64>,
    /// Run and campaign of every run with a new sent or failed outcome: their failure rates may have changed.
    pub(super) touched: HashSet<(i64, i64)>,
}

/// Outcomes this worker recorded for one run: what the automatic pause judges, without scanning the run.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Tally {
    pub(super) done: u64,
    pub(super) failed: u64,
}

/// Writes whatever outcomes are pending in one transaction (group commit). While the database is unavailable
/// it keeps the group and tries again with backoff: the attempts waiting for it hold their send permits, so
/// no new mail goes on the wire until outcomes are recorded again (at most `pool_size` unrecorded).
pub(super) async fn commit_loop(store: Store, mut pending: mpsc::Receiver<Commit>) {
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

/// Hands a record to the committer and waits until the commit holding it is done.
pub(super) async fn record_via(commits: &mpsc::Sender<Commit>, record: AttemptRecord) -> Result<(), WorkerError> {
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

impl Worker {
    /// The send-log row of this attempt as far as it is known before rendering. Its outcome is Failed until
    /// judged, the only outcome a mail that cannot be composed can have.
    pub(super) fn new_record(&self, c: &Campaign, d: &ClaimedDelivery, variant: &Variant) -> AttemptRecord {
        AttemptRecord {
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
            message_id: variant.message_id.clone(),
            template: variant.template.clone(),
            content_sha256: String::new(),
        }
    }

    /// The member left after the audience was frozen: their choice wins over the ledger, and the send log
    /// says why nothing went out. Nothing was on the wire, so a lost record here stops only this attempt.
    pub(super) async fn record_left(
        &self,
        d: &ClaimedDelivery,
        mut record: AttemptRecord,
        commits: &mpsc::Sender<Commit>,
    ) -> Result<Attempted, WorkerError> {
        record.at = self.clock.now_ms();
        record.outcome = Outcome::Skipped;
        record.smtp_reply = "not sent: the recipient left after the run started".into();
        record_via(commits, record).await?;
        Ok(Attempted::recorded(d, Outcome::Skipped, false))
    }

    /// Records a judged attempt of a mail that was on the wire. If that record is lost, nothing more goes out in
    /// this step: the server may have accepted a mail the database does not know of.
    pub(super) async fn record_sent(
        &self,
        d: &ClaimedDelivery,
        record: AttemptRecord,
        unreachable: bool,
        commits: &mpsc::Sender<Commit>,
    ) -> Result<Attempted, WorkerError> {
        let outcome = record.outcome;
        if let Err(e) = record_via(commits, record).await {
            self.unrecorded.store(true, Ordering::SeqCst);
            return Err(e);
        }
        Ok(Attempted::recorded(d, outcome, unreachable))
    }

    /// Adds the attempts of a step to its summary and to the runs' tallies. The first attempt that ended in an
    /// error ends the step with it (the tallies of those counted before it stay, as they are the worker's).
    pub(super) fn count_outcomes(&self, results: Attempts, summary: &mut BatchSummary) -> Result<Counted, WorkerError> {
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
        Ok(Counted { released, touched })
    }

    /// Marks the runs with nothing left as done, with a line for the operator each.
    pub(super) async fn finish_runs(&self, now: i64) -> Result<(), StoreError> {
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
}
