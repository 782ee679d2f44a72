//! A fresh preferences link by mail, for a member whose link expired or broke. Whoever asks gets the same answer
//! whether the address is a member's or not (the web page says "if it is registered"); only a member who can
//! still receive mail is sent one, and the sending is recorded as the member's action.

use serde_json::json;

use super::Application;
use crate::domain::{Actor, MemberStatus};
use crate::error::AppError;
use crate::mail::message::compose;
use crate::mail::token::MemberToken;
use crate::mail::transport::{Reply, Transport};

/// What became of a request for a fresh link (never shown to the one who asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMail {
    Sent,
    /// No member has this address, or mail to them is suppressed.
    NotSent,
}

impl Application {
    /// Mails the member with this address a fresh link to their preferences page.
    pub async fn mail_fresh_link(
        &self,
        transport: &dyn Transport,
        email: &str,
        address: &str,
    ) -> Result<LinkMail, AppError> {
        let Some(member) = self.store.member(email.trim()).await? else {
            return Ok(LinkMail::NotSent);
        };
        if member.status == MemberStatus::Suppressed {
            return Ok(LinkMail::NotSent);
        }
        let settings = &self.settings;
        let ttl = settings.web.link_ttl_days;
        let token = MemberToken::preferences(member.id, self.now(), ttl);
        let preferences_url = format!(
            "{}/p/{}",
            settings.web.base_url.trim_end_matches('/'),
            token.sign(&self.signing_key()?)
        );
        let en = member.locale == "en";
        let template = if en { "member-link/en" } else { "member-link" };
        let mail = self.templates()?.render(
            template,
            json!({
                "org": settings.organization,
                "member": {"company": member.company, "contact_name": member.contact_name},
                "preferences_url": preferences_url,
                "ttl_days": ttl,
            }),
        )?;
        let from = self.from_mailbox()?;
        let nonce = format!("{:016x}", rand::random::<u64>());
        let message_id = format!(
            "<outreach.link.{}.{nonce}@{}>",
            member.id, settings.delivery.message_id_domain
        );
        let composed =
            compose(&from, &member.email, &mail, &message_id, None).map_err(|e| AppError::input(e.to_string()))?;
        let reply = transport
            .send(
                &composed.envelope,
                &composed.bytes,
                &format!("link-{}-{nonce}", member.id),
            )
            .await;
        if !matches!(reply, Reply::Accepted { .. }) {
            return Err(AppError::Unavailable(format!(
                "the mail server did not take the link mail: {}",
                reply.text()
            )));
        }
        let action = self
            .permitted(&Actor::Member(member.id), "member.link_mailed", member.email.clone())?
            .from_address(address);
        self.store.change(self.now(), async |_| Ok(((), Some(action)))).await?;
        Ok(LinkMail::Sent)
    }
}
