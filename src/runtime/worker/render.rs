//! The mail of one recipient: the campaign's shared context (read once a step), the template in the
//! recipient's language, the Message-ID, the member's links, and the composed message.

use std::sync::Arc;

use crate::domain::campaign::Campaign;
use crate::domain::delivery::ClaimedDelivery;
use crate::domain::member::Locale;
use crate::domain::plan::Channel;
use crate::mail::context::{CampaignContext, Links, Recipient, reading_locale, template_in};
use crate::mail::message::{compose, message_id};
use crate::mail::token::expiry_day;
use crate::store::StoreError;

use super::{Worker, WorkerError};

pub(super) struct CampaignInfo {
    pub(super) campaign: Campaign,
    /// What every mail of the campaign shares, or why none can be rendered.
    context: Result<CampaignContext, String>,
}

/// Which mail a delivery gets, named in its send-log row before anything is rendered.
pub(super) struct Variant {
    pub(super) locale: Locale,
    pub(super) template: String,
    pub(super) message_id: String,
}

/// Why a mail could not be prepared.
pub(super) enum Unprepared {
    /// The campaign's mail does not render (template or plan): the campaign is held, nobody is failed.
    Render(String),
    /// This recipient's address cannot be used: this delivery fails.
    Address(String),
}

impl Worker {
    pub(super) async fn campaign_info(&self, campaign_id: i64) -> Result<Arc<CampaignInfo>, WorkerError> {
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

    /// The recipient's language picks the template; the send log names the one that went out.
    pub(super) fn variant_for(&self, c: &Campaign, d: &ClaimedDelivery) -> Variant {
        let locale = reading_locale(c.channel, d.locale);
        let template = template_in(&c.template, locale);
        let message_id = message_id(
            &self.installation,
            d.run_id,
            d.id,
            &self.settings.delivery.message_id_domain,
        );
        Variant {
            locale,
            template,
            message_id,
        }
    }

    pub(super) fn prepare(
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
}
