//! Campaigns: preview, create, pause, resume, cancel, send now, retry a run.

use super::*;

impl Application {
    /// Renders one mail as it would be sent: to a named member, or to a sample recipient.
    pub async fn preview(
        &self,
        templates: &Templates,
        theme_slug: &str,
        channel: Channel,
        member: Option<&str>,
        fiscal_year: Option<i32>,
    ) -> Result<RenderedMail, AppError> {
        let plan = self.plan(fiscal_year).await?;
        let theme = plan.theme(theme_slug).ok_or_else(|| unknown_theme(&plan, theme_slug))?;
        let (recipient, member_id) = match member {
            Some(email) => {
                let m = self
                    .store
                    .member(email)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("no member {email}")))?;
                let r = Recipient {
                    kind: "member".into(),
                    email: m.email,
                    name: m.contact_name,
                    company: m.company,
                    branch: String::new(),
                };
                (r, m.id)
            }
            None => (Recipient::sample(channel), 0),
        };
        let links = (channel == Channel::Newsletter)
            .then(|| {
                self.signing_key().map(|k| {
                    let expires = crate::mail::token::expiry_day(self.now(), self.settings.web.link_ttl_days);
                    Links::for_member(&self.settings.web.base_url, &k, member_id, theme_slug, expires)
                })
            })
            .transpose()?;
        let context = CampaignContext::new(&self.settings.organization, &plan, theme, channel, "プレビュー")
            .for_recipient(&recipient, self.now(), self.settings.schedule.tz(), links.as_ref());
        Ok(templates.render(&format!("{}/{}", channel.slug(), theme_slug), context)?)
    }

    /// Checks and stores a campaign; refuses one that would not render or never fires.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        templates: &Templates,
        req: &CampaignRequest,
    ) -> Result<i64, AppError> {
        use crate::domain::campaign::schedule::{format_local, parse_local_date, parse_local_datetime};
        let tz = self.settings.schedule.tz();
        let input = |e: crate::domain::campaign::ScheduleError| AppError::input(e.to_string());
        if req.name.trim().is_empty() {
            return Err(AppError::input(
                "--name must not be empty: staff find the campaign by it",
            ));
        }
        let plan = self.plan(req.fiscal_year).await?;
        let theme = plan
            .theme(&req.theme_slug)
            .ok_or_else(|| unknown_theme(&plan, &req.theme_slug))?;
        let duty = theme.duty_for(req.channel).ok_or_else(|| {
            AppError::input(format!(
                "the plan names no duty on channel {} for theme {}",
                req.channel, theme.slug
            ))
        })?;
        let schedule = match (&req.at, &req.cron) {
            (Some(at), None) => Schedule::Once {
                at_ms: parse_local_datetime("--at", at, tz).map_err(input)?,
            },
            (None, Some(expr)) => Schedule::cron(expr, &self.settings.schedule.time_zone).map_err(input)?,
            _ => return Err(AppError::input("give exactly one of --at and --cron")),
        };
        let from_ms = req
            .from
            .as_deref()
            .map(|d| parse_local_date("--from", d, tz, false))
            .transpose()
            .map_err(input)?;
        let until_ms = req
            .until
            .as_deref()
            .map(|d| parse_local_date("--until", d, tz, true))
            .transpose()
            .map_err(input)?;
        let now = self.now();
        let new = NewCampaign {
            name: req.name.trim().to_owned(),
            fiscal_year: plan.fiscal_year,
            theme_slug: theme.slug.clone(),
            duty: duty.text.clone(),
            channel: req.channel,
            template: format!("{}/{}", req.channel.slug(), theme.slug),
            schedule,
            from_ms,
            until_ms,
            settled_ms: now,
        };
        if new.ticks_after(now, 1).is_empty() {
            let bounds = format!(
                "between {} and {}",
                format_local(from_ms.unwrap_or(now).max(now), tz),
                until_ms.map_or_else(|| "the end of time".to_owned(), |u| format_local(u, tz))
            );
            return Err(AppError::input(format!(
                "the schedule {} never fires {bounds}",
                new.schedule.describe(tz)
            )));
        }
        if let Audience::Addresses(a) = audience_of(new.channel, &new.theme_slug, &self.settings)
            && a.is_empty()
        {
            return Err(AppError::Config(crate::config::ConfigError::new(
                "tosho_shimbun.editorial_desk",
                "no address of the Tosho Shimbun editorial desk is configured; a manuscript campaign needs one",
            )));
        }
        self.check_renders(templates, &theme.slug, req.channel, Some(plan.fiscal_year))
            .await?;
        let action = permitted(actor, "campaign.create", "")?
            .with("name", new.name.clone())
            .with("theme", new.theme_slug.clone())
            .with("channel", new.channel.slug())
            .with("schedule", new.schedule.describe(tz));
        Ok(self
            .store
            .change(now, async move |tx| {
                let id = store::campaigns::create_campaign(tx, &new, now).await?;
                Ok((
                    id,
                    Some(Action {
                        target: format!("campaign {id}"),
                        ..action
                    }),
                ))
            })
            .await?)
    }

    /// Renders the mail of theme × channel for a real member of its audience when there is one, so a template
    /// that fails on real data is caught now, not at nine in the morning.
    async fn check_renders(
        &self,
        templates: &Templates,
        theme_slug: &str,
        channel: Channel,
        fiscal_year: Option<i32>,
    ) -> Result<(), AppError> {
        let member = match channel {
            Channel::Newsletter => self.store.any_member(theme_slug).await?.map(|m| m.email),
            _ => None,
        };
        self.preview(templates, theme_slug, channel, member.as_deref(), fiscal_year)
            .await
            .map(|_| ())
            .map_err(|e| {
                AppError::input(format!(
                    "the template does not render for this campaign's audience: {e}"
                ))
            })
    }

    /// Queues the failed deliveries of a run again (never the sent ones); how many.
    pub async fn retry_run(&self, actor: &Actor, run_id: i64) -> Result<u64, AppError> {
        if !self.store.runs(None).await?.iter().any(|r| r.id == run_id) {
            return Err(AppError::NotFound(format!("no run {run_id}")));
        }
        let action = permitted(actor, "run.retry", format!("run {run_id}"))?;
        let now = self.now();
        Ok(self
            .store
            .change(now, async move |tx| {
                let n = store::runs::retry_failed(tx, run_id, now).await?;
                Ok((n, Some(action.with("queued_again", n))))
            })
            .await?)
    }

    /// Starts a run now, outside the schedule; `None` when a run for this instant exists already.
    pub async fn send_now(&self, actor: &Actor, id: i64) -> Result<Option<crate::store::Run>, AppError> {
        let c = self.campaign(id).await?;
        if c.state != CampaignState::Scheduled {
            return Err(AppError::Conflict(format!("campaign {id} is {}", c.state.as_str())));
        }
        let action = permitted(actor, "campaign.send-now", format!("campaign {id}"))?;
        let now = self.now();
        let audience = audience_of(c.channel, &c.theme_slug, &self.settings);
        Ok(self
            .store
            .change(now, async move |tx| {
                let run = store::runs::start_run(tx, c.id, now, Trigger::Manual, &audience, now).await?;
                let record = run
                    .as_ref()
                    .map(|r| action.with("run", r.id).with("recipients", r.audience));
                Ok((run, record))
            })
            .await?)
    }

    pub async fn campaign(&self, id: i64) -> Result<Campaign, AppError> {
        self.store
            .campaign(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no campaign {id}")))
    }

    /// pause / resume / cancel. Resuming settles the ticks missed while paused, so they never fire.
    pub async fn set_campaign_state(&self, actor: &Actor, id: i64, to: CampaignState) -> Result<(), AppError> {
        use CampaignState::*;
        let campaign = self.campaign(id).await?;
        let from = to.reachable_by(actor);
        if from.is_empty() {
            return Err(AppError::input(format!(
                "a campaign cannot be made {} by hand",
                to.as_str()
            )));
        }
        let settled = (to == Scheduled).then(|| self.now());
        let reason = match to {
            Paused => "paused by staff",
            Scheduled => "",
            _ => "cancelled by staff",
        };
        let verb = match to {
            Paused => "campaign.pause",
            Scheduled => "campaign.resume",
            _ => "campaign.cancel",
        };
        let action = permitted(actor, verb, format!("campaign {id}"))?
            .with("from", campaign.state.as_str())
            .with("to", to.as_str());
        if to == Scheduled && campaign.state == Paused {
            // A campaign held for its template resumes only once its mail renders again.
            let templates = self.templates()?;
            self.check_renders(
                &templates,
                &campaign.theme_slug,
                campaign.channel,
                Some(campaign.fiscal_year),
            )
            .await
            .map_err(|e| AppError::input(format!("campaign {id} stays paused: {e}")))?;
        }
        if !self
            .store
            .transition(
                id,
                &Transition {
                    from,
                    to,
                    reason,
                    settled_ms: settled,
                },
                self.now(),
                action,
            )
            .await?
        {
            return Err(AppError::Conflict(format!(
                "campaign {id} is {}; it cannot become {}",
                campaign.state.as_str(),
                to.as_str()
            )));
        }
        Ok(())
    }
}

/// The audience a campaign on `channel` about `theme_slug` reaches.
pub fn audience_of(channel: Channel, theme_slug: &str, settings: &Settings) -> Audience {
    match channel {
        Channel::Newsletter => Audience::Members {
            theme_slug: theme_slug.to_owned(),
        },
        Channel::AdvisorHandout => Audience::Advisors,
        Channel::ToshoShimbun => Audience::Addresses(settings.tosho_shimbun.editorial_desk.clone()),
    }
}
