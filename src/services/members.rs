//! Members and advisors: imports, unsubscribes, suppressions.

use super::*;
use crate::domain::member::Member;
use crate::store::{MemberChange, StoreResult, Tx};

impl Application {
    pub async fn import_members(
        &self,
        actor: &Actor,
        bytes: &[u8],
        dry_run: bool,
        skip_invalid: bool,
    ) -> Result<CsvImport, AppError> {
        let slugs = self.theme_slugs().await?;
        let refs: Vec<&str> = slugs.iter().map(String::as_str).collect();
        let parsed = recipients_csv::parse_members(bytes, &refs).map_err(AppError::Csv)?;
        let action = self
            .permitted(actor, "members.import", "members")?
            .with("rejected", parsed.errors.len());
        self.import_rows(parsed, dry_run, skip_invalid, |rows| {
            let store = self.store.clone();
            let slugs = slugs.clone();
            let now = self.now();
            async move {
                store
                    .change(now, async move |tx| {
                        let report = store::members::import_members(tx, &rows, &slugs, now).await?;
                        let action = with_counts(action, &report);
                        Ok((report, Some(action)))
                    })
                    .await
            }
        })
        .await
    }

    pub async fn import_advisors(
        &self,
        actor: &Actor,
        bytes: &[u8],
        dry_run: bool,
        skip_invalid: bool,
    ) -> Result<CsvImport, AppError> {
        let parsed = recipients_csv::parse_advisors(bytes).map_err(AppError::Csv)?;
        let action = self
            .permitted(actor, "advisors.import", "advisors")?
            .with("rejected", parsed.errors.len());
        self.import_rows(parsed, dry_run, skip_invalid, |rows| {
            let store = self.store.clone();
            let now = self.now();
            async move {
                store
                    .change(now, async move |tx| {
                        let report = store::members::import_advisors(tx, &rows, now).await?;
                        let action = with_counts(action, &report);
                        Ok((report, Some(action)))
                    })
                    .await
            }
        })
        .await
    }

    /// All or nothing unless `skip_invalid`; nothing is written on a dry run.
    async fn import_rows<T, F, Fut>(
        &self,
        parsed: Parsed<T>,
        dry_run: bool,
        skip_invalid: bool,
        save: F,
    ) -> Result<CsvImport, AppError>
    where
        F: FnOnce(Vec<T>) -> Fut,
        Fut: std::future::Future<Output = Result<ImportReport, store::StoreError>>,
    {
        let rejected = parsed.errors;
        let valid = parsed.rows.len();
        if (!rejected.is_empty() && !skip_invalid) || dry_run {
            return Ok(CsvImport {
                report: ImportReport::default(),
                rejected,
                valid,
                imported: false,
            });
        }
        let report = save(parsed.rows).await?;
        Ok(CsvImport {
            report,
            rejected,
            valid,
            imported: true,
        })
    }

    /// Lifts a member's suppression (a refusal that was the server's fault, or a fixed address).
    pub async fn unsuppress(&self, actor: &Actor, email: &str, reason: &str) -> Result<(), AppError> {
        let email = typed_address(email)?;
        let reason = Field::Reason.required(reason)?;
        let action = self
            .permitted(actor, "member.unsuppress", email)?
            .with("reason", reason);
        let now = self.now();
        let lifted = self
            .store
            .change(now, async move |tx| {
                let lifted = store::members::unsuppress(tx, email, reason, source_of(actor), now).await?;
                Ok((lifted, (lifted == Some(true)).then_some(action)))
            })
            .await?;
        match lifted {
            None => Err(AppError::Refused(Refusal::NoMember(email.to_owned()))),
            Some(false) => Err(AppError::Refused(Refusal::NotSuppressed(email.to_owned()))),
            Some(true) => Ok(()),
        }
    }

    /// Unsubscribes a member from one theme, or from everything, on their behalf.
    /// False when the member already was out: nothing is recorded.
    pub async fn unsubscribe(&self, actor: &Actor, email: &str, theme: Option<&str>) -> Result<bool, AppError> {
        self.unsubscribe_from(actor, &self.client_address, email, theme, "")
            .await
    }

    /// [`Application::unsubscribe`] by staff on the member's behalf, with why (kept in the action log).
    pub async fn unsubscribe_for(
        &self,
        actor: &Actor,
        email: &str,
        theme: Option<&str>,
        reason: &str,
    ) -> Result<bool, AppError> {
        let reason = Field::Reason.required(reason)?;
        self.unsubscribe_from(actor, &self.client_address, email, theme, reason)
            .await
    }

    /// [`Application::unsubscribe`], recording the client's address of a web request.
    async fn unsubscribe_from(
        &self,
        actor: &Actor,
        address: &str,
        email: &str,
        theme: Option<&str>,
        reason: &str,
    ) -> Result<bool, AppError> {
        let email = typed_address(email)?;
        let mut action = self
            .permitted(actor, "member.unsubscribe", email)?
            .with("theme", theme.unwrap_or("*"))
            .from_address(address);
        if !reason.is_empty() {
            action = action.with("reason", reason);
        }
        if let Some(slug) = theme {
            self.check_theme(slug).await?;
        }
        let change = self
            .record_if_done(action, async move |tx, now| {
                store::members::unsubscribe(tx, email, theme, source_of(actor), now).await
            })
            .await?;
        member_changed(change, email)
    }

    /// Stops all mail to a member.
    /// False when the member already was suppressed: nothing is recorded.
    pub async fn suppress(&self, actor: &Actor, email: &str, reason: &str) -> Result<bool, AppError> {
        let email = typed_address(email)?;
        let reason = Field::Reason.required(reason)?;
        let action = self.permitted(actor, "member.suppress", email)?.with("reason", reason);
        let change = self
            .record_if_done(action, async move |tx, now| {
                store::members::suppress(tx, email, reason, source_of(actor), now).await
            })
            .await?;
        member_changed(change, email)
    }

    /// Activates or deactivates a business advisor; false when they already were.
    pub async fn set_advisor_active(&self, actor: &Actor, email: &str, active: bool) -> Result<bool, AppError> {
        let verb = if active {
            "advisor.activate"
        } else {
            "advisor.deactivate"
        };
        let email = typed_address(email)?;
        let action = self.permitted(actor, verb, email)?;
        let change = self
            .record_if_done(action, async move |tx, now| {
                store::members::set_advisor_active(tx, email, active, now).await
            })
            .await?;
        match change {
            MemberChange::NoSuchMember => Err(AppError::Refused(Refusal::NoAdvisor(email.to_owned()))),
            MemberChange::Already => Ok(false),
            MemberChange::Done => Ok(true),
        }
    }

    /// What a member's signed link does: leave one theme, no session needed; the member is the actor.
    /// False when they had left it already.
    /// `address` is the client's, kept in the action log.
    pub async fn leave_by_link(&self, member_id: i64, theme: &str, address: &str) -> Result<(Member, bool), AppError> {
        let member = self
            .store
            .member_by_id(member_id)
            .await?
            .ok_or_else(|| AppError::Refused(Refusal::NoMember(member_id.to_string())))?;
        let left = self
            .unsubscribe_from(&Actor::Member(member_id), address, &member.email, Some(theme), "")
            .await?;
        Ok((member, left))
    }

    /// The member a link names, to show them what it will do.
    pub async fn member_by_id(&self, member_id: i64) -> Result<Member, AppError> {
        self.store
            .member_by_id(member_id)
            .await?
            .ok_or_else(|| AppError::Refused(Refusal::NoMember(member_id.to_string())))
    }

    /// A member joins a theme from their preferences page; false when nothing changed (already in it, or
    /// suppressed: only staff lift a suppression).
    pub async fn join_by_link(&self, member_id: i64, theme: &str, address: &str) -> Result<bool, AppError> {
        self.check_theme(theme).await?;
        let member = self.member_by_id(member_id).await?;
        let action = self
            .permitted(&Actor::Member(member_id), "member.join", member.email)?
            .with("theme", theme)
            .from_address(address);
        let change = self
            .record_if_done(action, async move |tx, now| {
                store::members::join(tx, member_id, theme, now).await
            })
            .await?;
        member_changed(change, &format!("{member_id}"))
    }

    /// A member leaves everything from their preferences page.
    pub async fn leave_all_by_link(&self, member_id: i64, address: &str) -> Result<bool, AppError> {
        let member = self.member_by_id(member_id).await?;
        self.unsubscribe_from(&Actor::Member(member_id), address, &member.email, None, "")
            .await
    }
}

impl Application {
    /// A change of a member's or advisor's state in one transaction, with its action recorded only when it
    /// changed something (a repeat leaves no trace).
    async fn record_if_done(
        &self,
        action: Action,
        change: impl AsyncFnOnce(&mut Tx, i64) -> StoreResult<MemberChange>,
    ) -> Result<MemberChange, AppError> {
        let now = self.now();
        Ok(self
            .store
            .change(now, async move |tx| {
                let change = change(tx, now).await?;
                Ok((change, (change == MemberChange::Done).then_some(action)))
            })
            .await?)
    }
}

/// The import's action with what it did.
fn with_counts(action: Action, report: &ImportReport) -> Action {
    action
        .with("created", report.created)
        .with("updated", report.updated)
        .with("unchanged", report.unchanged)
        .with("kept_unsubscribed", report.kept_unsubscribed.len())
}

/// How a member's history names who changed their state.
fn source_of(actor: &Actor) -> MemberSource {
    match actor {
        Actor::Operator(_) | Actor::User { .. } | Actor::Scheduler => MemberSource::Staff,
        Actor::Member(_) => MemberSource::Member,
        Actor::Smtp => MemberSource::Smtp,
    }
}

fn member_changed(change: MemberChange, email: &str) -> Result<bool, AppError> {
    match change {
        MemberChange::NoSuchMember => Err(AppError::Refused(Refusal::NoMember(email.to_owned()))),
        MemberChange::Already => Ok(false),
        MemberChange::Done => Ok(true),
    }
}
