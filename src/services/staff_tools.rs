//! What the staff pages need beyond the command line's services: a campaign's audience size before any run,
//! its mail rendered as a chosen member (or a sample recipient) would get it, test mails, and the
//! recent failures grouped by the mail server's reply.

use std::str::FromStr;

use super::*;
use crate::domain::Outcome;
use crate::mail::message::compose;
use crate::mail::transport::Reply;
use crate::store::LogFilter;

/// The subject of a test mail starts with this, so nobody takes it for the real one.
pub const TEST_SUBJECT_PREFIX: &str = "[テスト] ";

/// A test mail goes to at most this many addresses at once.
pub const TEST_MAIL_MAX: usize = 10;

/// The addresses typed for a test mail (separated by commas, Japanese commas, spaces or lines), each checked
/// and normalised, each once.
fn test_recipients(typed: &str) -> Result<Vec<String>, AppError> {
    let mut to: Vec<String> = Vec::new();
    let given = typed
        .split(|c: char| c == ',' || c == '、' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty());
    for address in given {
        let normal = crate::domain::member::normalize_email(address);
        if lettre::Address::from_str(&normal).is_err() {
            return Err(FieldError::new(Field::Recipient, Problem::NotAnAddress(address.to_owned())).into());
        }
        if !to.contains(&normal) {
            to.push(normal);
        }
    }
    match to.len() {
        0 => Err(FieldError::new(Field::Recipient, Problem::Empty).into()),
        n if n > TEST_MAIL_MAX => Err(FieldError::new(
            Field::Recipient,
            Problem::TooMany {
                given: n,
                max: TEST_MAIL_MAX,
            },
        )
        .into()),
        _ => Ok(to),
    }
}

/// Failed attempts that got the same reply from the mail server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup {
    pub smtp_code: Option<i64>,
    pub reply: String,
    pub attempts: i64,
    pub last_at: i64,
}

impl Application {
    /// How many recipients a run of the campaign would reach if it started now.
    pub async fn audience_size(&self, campaign: &Campaign) -> Result<i64, AppError> {
        let audience = audience_of(campaign.channel, &campaign.theme_slug, &self.settings);
        Ok(self.store.audience_size(&audience).await?)
    }

    /// The campaign's mail as the member with address `member` would get it (a sample recipient when `None`).
    pub async fn campaign_mail(
        &self,
        actor: &Actor,
        templates: &Templates,
        campaign: &Campaign,
        member: Option<&str>,
    ) -> Result<RenderedMail, AppError> {
        let preview = Preview {
            theme_slug: &campaign.theme_slug,
            channel: campaign.channel,
            member,
            locale: None,
            fiscal_year: Some(campaign.fiscal_year),
            title: campaign.title.as_deref(),
            issue: campaign.issue.as_deref(),
            campaign_id: Some(campaign.id),
        };
        self.preview(actor, templates, &preview).await
    }

    /// Sends the campaign's mail, as a sample recipient would get it and marked as a test in its subject, to
    /// the addresses typed in `to` (commas, spaces or lines between them; at most [`TEST_MAIL_MAX`]) at once; its
    /// links are inert. Recorded as one `campaign.send_test` naming every address. A refusal stops at the
    /// address refused, which the error names (the ones before it got their mail, as the record says).
    pub async fn send_test(
        &self,
        actor: &Actor,
        templates: &Templates,
        campaign_id: i64,
        to: &str,
    ) -> Result<usize, AppError> {
        let to = test_recipients(to)?;
        let campaign = self.campaign(campaign_id).await?;
        let mut action = self.permitted(actor, "campaign.send_test", format!("campaign {campaign_id}"))?;
        let mut mail = self.campaign_mail(actor, templates, &campaign, None).await?;
        mail.subject = format!("{TEST_SUBJECT_PREFIX}{}", mail.subject);
        let settings = &self.settings;
        let from = self.from_mailbox()?;
        let transport = self.transport()?;
        let mut sent: Vec<&str> = Vec::new();
        let mut refused = None;
        for address in &to {
            let nonce = format!("{:016x}", rand::random::<u64>());
            let message_id = format!(
                "<outreach.test.{campaign_id}.{nonce}@{}>",
                settings.delivery.message_id_domain
            );
            let composed =
                compose(&from, address, &mail, &message_id, None).map_err(|e| AppError::input(e.to_string()))?;
            let reply = transport
                .send(
                    &composed.envelope,
                    &composed.bytes,
                    &format!("test-{campaign_id}-{nonce}"),
                )
                .await;
            if matches!(reply, Reply::Accepted { .. }) {
                sent.push(address);
            } else {
                refused = Some(format!(
                    "the mail server did not take the test mail to {address}: {}",
                    reply.text()
                ));
                break;
            }
        }
        if !sent.is_empty() {
            action = action.with("to", sent.join(", "));
            self.store.change(self.now(), async |_| Ok(((), Some(action)))).await?;
        }
        match refused {
            Some(why) => Err(AppError::Unavailable(why)),
            None => Ok(sent.len()),
        }
    }

    /// One run with its counts (and why its unsent mail waits).
    pub async fn run_report(&self, run_id: i64) -> Result<crate::services::RunReport, AppError> {
        let run = self
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| AppError::Refused(Refusal::NoRun(run_id)))?;
        let counts = self.store.run_counts(run.id).await?;
        let waiting = if counts.queued + counts.sending > 0 {
            self.store.waiting(run.id).await?
        } else {
            Vec::new()
        };
        Ok(crate::services::RunReport { run, counts, waiting })
    }

    /// Failed attempts since `since_ms`, grouped by the mail server's reply, the most frequent first (at most
    /// `limit` groups; the log is read up to 10,000 rows).
    pub async fn recent_failures(&self, since_ms: i64, limit: usize) -> Result<Vec<FailureGroup>, AppError> {
        const PAGE: u32 = 1000;
        let filter = LogFilter {
            outcome: Some(Outcome::Failed),
            from_ms: Some(since_ms),
            ..LogFilter::default()
        };
        let mut groups: Vec<FailureGroup> = Vec::new();
        let mut after = 0;
        for _ in 0..10 {
            let page = self.store.send_log(&filter, after, PAGE).await?;
            for entry in &page {
                match groups
                    .iter_mut()
                    .find(|g| g.reply == entry.smtp_reply && g.smtp_code == entry.smtp_code)
                {
                    Some(g) => {
                        g.attempts += 1;
                        g.last_at = g.last_at.max(entry.at);
                    }
                    None => groups.push(FailureGroup {
                        smtp_code: entry.smtp_code,
                        reply: entry.smtp_reply.clone(),
                        attempts: 1,
                        last_at: entry.at,
                    }),
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE as usize => after = last.id,
                _ => break,
            }
        }
        groups.sort_by(|a, b| b.attempts.cmp(&a.attempts).then(b.last_at.cmp(&a.last_at)));
        groups.truncate(limit);
        Ok(groups)
    }
}
