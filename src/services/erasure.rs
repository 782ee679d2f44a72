//! Erasure and retention of personal data (issue 17, item 4; Japan's APPI and the GDPR): an administrator
//! erases one member at once, or everything personal older than `audit.retention_days`. Each personal field
//! becomes a pseudonym that carries its personal hash, so the verifiable log, its old checkpoints and proofs
//! still verify; the counts an auditor reports (per theme, channel and month) are unchanged.

use crate::Application;
use crate::domain::Actor;
use crate::domain::member::{MemberSource, normalize_email};
use crate::error::AppError;
use crate::store::erasure::{self, Erased, Scope};
use crate::store::{self, Tx};

impl Application {
    /// Erases one member's personal data: they are unsubscribed from everything first (so no mail reaches
    /// them, and their history says so), then every row that names them gets a pseudonym, in one transaction
    /// with its action. With `dry_run`, says what it would change and changes nothing.
    pub async fn erase_member(
        &self,
        actor: &Actor,
        email: &str,
        reason: &str,
        dry_run: bool,
    ) -> Result<Erased, AppError> {
        let email = super::typed_address(email)?;
        let reason = crate::domain::Field::Reason.required(reason)?;
        let member = self
            .store
            .member(email)
            .await?
            .ok_or_else(|| AppError::Refused(crate::domain::Refusal::NoMember(email.to_owned())))?;
        let email_norm = normalize_email(&member.email);
        let keys = self.audit_keys().await?;
        let alias = crate::domain::audit::rows::pseudonym(&keys.personal_key, &email_norm);
        let action = self.permitted(actor, "member.erase", alias)?.with("reason", reason);
        let now = self.now();
        let scope = Scope::Member {
            id: member.id,
            email_norm: email_norm.clone(),
        };
        self.erase_in_one(dry_run, action, now, async |tx: &mut Tx| {
            store::members::unsubscribe(tx, &email_norm, None, MemberSource::Staff, now).await?;
            Ok(erasure::erase(tx, &keys.personal_key, &scope, now).await?)
        })
        .await
    }

    /// Pseudonymises personal data in the logs older than `audit.retention_days` (member records, current
    /// data, stay). With `dry_run`, says what it would change and changes nothing.
    pub async fn apply_retention(&self, actor: &Actor, dry_run: bool) -> Result<(Erased, i64), AppError> {
        let days = i64::from(self.settings.audit.retention_days);
        let before = self.now().saturating_sub(days.saturating_mul(86_400_000));
        let keys = self.audit_keys().await?;
        let action = self
            .permitted(actor, "audit.retention", format!("before {before}"))?
            .with("days", days);
        let now = self.now();
        let erased = self
            .erase_in_one(dry_run, action, now, async |tx: &mut Tx| {
                Ok(erasure::erase(tx, &keys.personal_key, &Scope::Before(before), now).await?)
            })
            .await?;
        Ok((erased, before))
    }

    /// Runs the erasure in one write transaction with its action, the counts in the action's summary; a dry
    /// run rolls it back.
    async fn erase_in_one(
        &self,
        dry_run: bool,
        action: crate::domain::Action,
        now: i64,
        work: impl AsyncFnOnce(&mut Tx) -> Result<Erased, AppError>,
    ) -> Result<Erased, AppError> {
        let mut tx = self.store.write().await?;
        let erased = work(&mut tx).await?;
        if dry_run {
            // Dropped uncommitted: rolled back.
            return Ok(erased);
        }
        let action = action
            .with("send_log", erased.send_log)
            .with("actions", erased.actions)
            .with("consent", erased.consent);
        store::actions::record(&mut tx, &action, now).await?;
        tx.commit().await?;
        Ok(erased)
    }
}
