//! One delivery's way through the policies (claim, render, send, judge, record), and a batch of them run
//! side by side with one committer for their outcomes.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::{Semaphore, mpsc};

use crate::domain::delivery::ClaimedDelivery;

use super::record::{Attempted, Attempts, Commit, commit_loop};
use super::{Worker, WorkerError};

impl Worker {
    /// Attempts every delivery of a claimed batch and waits until all their outcomes are committed.
    pub(super) async fn attempt_all(&self, claimed: Vec<ClaimedDelivery>) -> Result<Attempts, WorkerError> {
        let parallel = self.settings.smtp.pool_size as usize;
        // Outcomes go to one committer that writes whatever is pending in one transaction (group commit); each
        // attempt waits for the commit holding its record. Twice as many attempts as connections run, so the
        // next mails render while others wait on the server or the commit.
        let (commits, pending) = mpsc::channel(parallel * 2);
        let committer = tokio::spawn(commit_loop(self.store.clone(), pending));
        let unrecorded = Arc::new(Semaphore::new(parallel));
        let results: Attempts = futures::stream::iter(claimed)
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
        Ok(results)
    }

    /// One delivery through the policies: claim, render, send, judge, record. Every way out either records
    /// an outcome or gives the delivery back, so nothing stays leased past the step.
    async fn attempt(
        &self,
        d: ClaimedDelivery,
        commits: &mpsc::Sender<Commit>,
        unrecorded: &Semaphore,
    ) -> Result<Attempted, WorkerError> {
        if self.give_back_before_rendering(d.campaign_id) {
            return self.give_back(d.id).await;
        }
        let info = self.campaign_info(d.campaign_id).await?;
        let variant = self.variant_for(&info.campaign, &d);
        let mut record = self.new_record(&info.campaign, &d, &variant);
        if !d.still_wanted {
            return self.record_left(&d, record, commits).await;
        }
        let (composed, sha) = match self.prepare(&info, &d, &variant.message_id, &variant.template, variant.locale) {
            Ok(prepared) => prepared,
            Err(why) => return self.unprepared(&d, why, record, commits).await,
        };
        record.content_sha256 = sha;
        // Held from the moment the mail may reach the server until its outcome is committed (to the end of
        // this function): this, not the number of tasks, bounds the mails a crash or a database outage can
        // leave accepted but unrecorded.
        let Some(_unrecorded) = self.send_permit(unrecorded).await else {
            return self.give_back(d.id).await;
        };
        if !self.rate_limit_lets_through().await {
            return self.give_back(d.id).await;
        }
        if self.too_late_to_send(d.campaign_id) {
            return self.give_back(d.id).await;
        }
        let reply = self.send_mail(&d, &composed).await;
        self.judge_reply(&d, &reply, &mut record).await?;
        self.record_sent(&d, record, reply.is_unreachable(), commits).await
    }
}
