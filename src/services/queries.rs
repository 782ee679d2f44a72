//! What the command line (and next, the web) reads: every read goes through the application, never straight
//! to the store, so what a caller may see is decided in one place.

use super::typed_address;
use crate::Application;
use crate::config::millis;
use crate::domain::ActionRecord;
use crate::domain::campaign::Campaign;
use crate::domain::member::{Advisor, Member, MemberEvent};
use crate::domain::{Field, Refusal};
use crate::error::AppError;
use crate::store::{ActionFilter, InstanceStatus, Keyset, LogEntry, LogFilter, Run, RunCounts, Waiting};

/// A run with its delivery counts and, while mail waits, why.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run: Run,
    pub counts: RunCounts,
    pub waiting: Vec<Waiting>,
}

impl Application {
    pub async fn members(&self, theme_slug: Option<&str>) -> Result<Vec<Member>, AppError> {
        if let Some(slug) = theme_slug {
            self.check_theme(slug).await?;
        }
        Ok(self.store.members(theme_slug).await?)
    }

    /// The member with this address (in any of its spellings).
    pub async fn member(&self, email: &str) -> Result<Member, AppError> {
        let email = typed_address(email)?;
        self.store
            .member(email)
            .await?
            .ok_or_else(|| AppError::Refused(Refusal::NoMember(email.to_owned())))
    }

    /// A member and every change of their state, oldest first.
    pub async fn member_history(&self, email: &str) -> Result<(Member, Vec<MemberEvent>), AppError> {
        let member = self.member(email).await?;
        let history = self.store.member_history(member.id).await?;
        Ok((member, history))
    }

    pub async fn advisors(&self) -> Result<Vec<Advisor>, AppError> {
        Ok(self.store.advisors().await?)
    }

    pub async fn campaigns(&self) -> Result<Vec<Campaign>, AppError> {
        Ok(self.store.campaigns().await?)
    }

    /// The runs of a campaign, oldest first, each with its counts and why its unsent mail waits.
    pub async fn runs(&self, campaign_id: i64) -> Result<Vec<RunReport>, AppError> {
        self.run_reports(Some(campaign_id)).await
    }

    /// The runs of every campaign, oldest first, as [`Application::runs`] gives them.
    pub async fn all_runs(&self) -> Result<Vec<RunReport>, AppError> {
        self.run_reports(None).await
    }

    async fn run_reports(&self, campaign_id: Option<i64>) -> Result<Vec<RunReport>, AppError> {
        let mut reports = Vec::new();
        for run in self.store.runs(campaign_id).await? {
            let counts = self.store.run_counts(run.id).await?;
            let waiting = if counts.queued + counts.sending > 0 {
                self.store.waiting(run.id).await?
            } else {
                Vec::new()
            };
            reports.push(RunReport { run, counts, waiting });
        }
        Ok(reports)
    }

    /// Every instance that has run on this database, newest first.
    pub async fn instances(&self) -> Result<Vec<InstanceStatus>, AppError> {
        Ok(self
            .store
            .instances(millis(self.settings.delivery.instance_timeout_secs))
            .await?)
    }

    /// Asks every live `serve` to reload its templates; how many were asked.
    pub async fn ask_reload(&self) -> Result<u64, AppError> {
        Ok(self
            .store
            .ask_reload(millis(self.settings.delivery.instance_timeout_secs))
            .await?)
    }

    pub async fn actions(&self, filter: &ActionFilter) -> Result<Vec<ActionRecord>, AppError> {
        check_action_filter(filter)?;
        Ok(self.store.actions(filter).await?)
    }

    /// One page of the staff-action log: at most `limit` rows after `after_id`, in id order.
    pub async fn actions_page(
        &self,
        filter: &ActionFilter,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, AppError> {
        check_action_filter(filter)?;
        Ok(self.store.actions_after(filter, after_id, Some(limit)).await?)
    }

    /// One page of the send log after `after_id`; callers stream by paging.
    /// Refuses a filter that names a campaign or theme there is not (it would list nothing, silently).
    pub async fn check_log_filter(&self, filter: &LogFilter) -> Result<(), AppError> {
        self.check_log_text(filter)?;
        if let Some(id) = filter.campaign_id {
            self.campaign(id).await?;
        }
        if let Some(slug) = &filter.theme_slug {
            self.check_theme(slug).await?;
        }
        Ok(())
    }

    /// The send log's typed filters under the text rules, before they reach a query.
    fn check_log_text(&self, filter: &LogFilter) -> Result<(), AppError> {
        if let Some(recipient) = &filter.recipient {
            Field::Recipient.check(recipient)?;
        }
        for (field, given) in [(Field::Theme, &filter.theme_slug), (Field::Channel, &filter.channel)] {
            if let Some(given) = given {
                field.check(given)?;
            }
        }
        Ok(())
    }

    pub async fn send_log(&self, filter: &LogFilter, after_id: i64, limit: u32) -> Result<Vec<LogEntry>, AppError> {
        self.check_log_text(filter)?;
        Ok(self.store.send_log(filter, after_id, limit).await?)
    }

    /// Members whose address, company or contact name contains `text`, by address, after `after_email` (the
    /// normalised address the previous page ended with).
    pub async fn search_members(&self, query: &str, after_email: &str, limit: u32) -> Result<Vec<Member>, AppError> {
        let query = Field::Query.check(query)?;
        let after_email = Field::Email.check(after_email)?;
        Ok(self.store.search_members(query, after_email, limit).await?)
    }

    /// One page of the send log before or after an id, in id order.
    pub async fn send_log_page(
        &self,
        filter: &LogFilter,
        keyset: Keyset,
        limit: u32,
    ) -> Result<Vec<LogEntry>, AppError> {
        self.check_log_text(filter)?;
        Ok(self.store.send_log_page(filter, keyset, limit).await?)
    }

    /// One row of the send log and every attempt of its delivery.
    pub async fn log_entry(&self, id: i64) -> Result<(LogEntry, Vec<LogEntry>), AppError> {
        let entry = self
            .store
            .log_entry(id)
            .await?
            .ok_or_else(|| AppError::Refused(Refusal::NoLogRecord(id)))?;
        let attempts = self.store.delivery_attempts(entry.delivery_id).await?;
        Ok((entry, attempts))
    }

    /// One page of the staff-action log before or after an id, in id order.
    pub async fn actions_keyset(
        &self,
        filter: &ActionFilter,
        keyset: Keyset,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, AppError> {
        check_action_filter(filter)?;
        Ok(self.store.actions_page(filter, keyset, Some(limit)).await?)
    }
}

/// The action log's filters are typed text like any other: the same rules before they reach a query.
fn check_action_filter(filter: &ActionFilter) -> Result<(), AppError> {
    for (field, given) in [
        (Field::Actor, &filter.actor),
        (Field::Action, &filter.action),
        (Field::Target, &filter.target),
    ] {
        if let Some(given) = given {
            field.check(given)?;
        }
    }
    Ok(())
}
