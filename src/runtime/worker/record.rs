//! Outcomes: the send-log row of an attempt, written in group commits by one committer, and what a step
//! counts of them (its summary, and the per-run tallies the automatic pause judges).

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::domain::delivery::{AttemptRecord, Outcome};
use crate::store::{Store, StoreError};

use super::{Worker, WorkerError};

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
