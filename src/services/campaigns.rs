//! Campaigns: preview, create, pause, resume, cancel, send now, retry a run.

use super::*;
use crate::domain::campaign::StateReason;
use crate::domain::{Field, FieldError, Problem, Refusal};

impl Application {
    /// Renders one mail for a person to look at: to a named member (in their language), or to a sample recipient.
    /// Its links are inert (a preview's: the member pages show what they would do and never do it), and looking
    /// at a named member's mail shows their personal data, so it is recorded as `campaign.preview_as_member`.
    pub async fn preview(
        &self,
        actor: &Actor,
        templates: &Templates,
        p: &Preview<'_>,
    ) -> Result<RenderedMail, AppError> {
        let Some(email) = p.member else {
            return self.render_preview(templates, p).await;
        };
        let action = self
            .permitted(actor, "campaign.preview_as_member", typed_address(email)?)?
            .with("campaign", p.campaign_id)
            .with("theme", p.theme_slug)
            .with("channel", p.channel.slug());
        let mail = self.render_preview(templates, p).await?;
        self.store.change(self.now(), async |_| Ok(((), Some(action)))).await?;
        Ok(mail)
    }

    /// The mail of [`Application::preview`], unrecorded: for the checks that render a real member's mail that no
    /// person sees (a campaign's check at create).
    async fn render_preview(&self, templates: &Templates, p: &Preview<'_>) -> Result<RenderedMail, AppError> {
        let plan = self.plan(p.fiscal_year).await?;
        self.render_with(templates, &plan, p).await
    }

    /// [`Application::render_preview`] under a plan already read.
    async fn render_with(&self, templates: &Templates, plan: &Plan, p: &Preview<'_>) -> Result<RenderedMail, AppError> {
        let theme = plan
            .theme(p.theme_slug)
            .ok_or_else(|| unknown_theme(plan, p.theme_slug))?;
        if p.locale == Some(Locale::En) && p.channel != Channel::Newsletter {
            return Err(FieldError::new(Field::Locale, Problem::EnglishForNewsletters).into());
        }
        let (recipient, member_id, chosen) = match p.member {
            Some(email) => {
                let m = self
                    .store
                    .member(email)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("no member {email}")))?;
                let locale = m.locale.parse::<Locale>().map_err(|e| {
                    AppError::Internal(format!(
                        "member {email} has a stored locale the code does not know: {e}"
                    ))
                })?;
                let r = Recipient {
                    kind: "member".into(),
                    email: m.email,
                    name: m.contact_name,
                    company: m.company,
                    branch: String::new(),
                };
                (r, m.id, locale)
            }
            None => (Recipient::sample(p.channel), 0, Locale::Ja),
        };
        let locale = reading_locale(p.channel, p.locale.unwrap_or(chosen));
        let recipient = match (p.member, locale) {
            (None, Locale::En) => Recipient::sample_en(),
            _ => recipient,
        };
        let links = (p.channel == Channel::Newsletter)
            .then(|| {
                self.signing_key().map(|k| {
                    let expires = crate::mail::token::expiry_day(self.now(), self.settings.web.link_ttl_days);
                    Links::for_preview(&self.settings.web.base_url, &k, member_id, p.theme_slug, expires)
                })
            })
            .transpose()?;
        let context = CampaignContext::new(&self.settings.organization, plan, theme, p.channel, p.title, p.issue)
            .for_recipient(
                &recipient,
                self.now(),
                self.settings.schedule.tz(),
                links.as_ref(),
                locale,
            );
        let template = template_in(&format!("{}/{}", p.channel.slug(), p.theme_slug), locale);
        Ok(templates.render(&template, context)?)
    }

    /// The campaign a request asks for, checked under the domain's rules against its plan; nothing is stored.
    pub async fn check_campaign(&self, req: &CampaignRequest) -> Result<NewCampaign, AppError> {
        let plan = self.plan(req.fiscal_year).await?;
        Ok(req.check(&plan, self.zone(), self.now())?)
    }

    /// Checks and stores a campaign; refuses one that would not render or never fires.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        templates: &Templates,
        req: &CampaignRequest,
    ) -> Result<i64, AppError> {
        let tz = self.settings.schedule.tz();
        // One read of the plan serves the checks and the test renders.
        let plan = self.plan(req.fiscal_year).await?;
        let new = req.check(&plan, self.zone(), self.now())?;
        let now = new.settled_ms;
        if let Audience::Addresses(a) = audience_of(new.channel, &new.theme_slug, &self.settings)
            && a.is_empty()
        {
            return Err(AppError::Config(crate::config::ConfigError::new(
                "tosho_shimbun.editorial_desk",
                "no address of the Tosho Shimbun editorial desk is configured; a manuscript campaign needs one",
            )));
        }
        self.check_renders(
            templates,
            &plan,
            &new.theme_slug,
            new.channel,
            new.title.as_deref(),
            new.issue.as_deref(),
        )
        .await?;
        let mut action = self
            .permitted(actor, "campaign.create", "")?
            .with("name", new.name.clone())
            .with("theme", new.theme_slug.clone())
            .with("channel", new.channel.slug())
            .with("schedule", new.schedule.describe(tz));
        if let Some(title) = &new.title {
            action = action.with("title", title.clone());
        }
        if let Some(issue) = &new.issue {
            action = action.with("issue", issue.clone());
        }
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

    /// Renders the mail of theme × channel for a real member of its audience when there is one, and for a
    /// newsletter in each language members read, so a template that fails on real data is caught now, not at
    /// nine in the morning.
    pub(super) async fn check_renders(
        &self,
        templates: &Templates,
        plan: &Plan,
        theme_slug: &str,
        channel: Channel,
        title: Option<&str>,
        issue: Option<&str>,
    ) -> Result<(), AppError> {
        let member = match channel {
            Channel::Newsletter => self.store.any_member(theme_slug).await?.map(|m| m.email),
            _ => None,
        };
        let locales: &[Option<Locale>] = match channel {
            Channel::Newsletter => &[None, Some(Locale::Ja), Some(Locale::En)],
            _ => &[None],
        };
        for &locale in locales {
            let preview = Preview {
                theme_slug,
                channel,
                member: if locale.is_none() { member.as_deref() } else { None },
                locale,
                fiscal_year: Some(plan.fiscal_year),
                title,
                issue,
                campaign_id: None,
            };
            self.render_with(templates, plan, &preview)
                .await
                .map_err(|e| FieldError {
                    field: None,
                    problem: Problem::DoesNotRender(e.to_string()),
                })?;
        }
        Ok(())
    }

    /// Queues the failed deliveries of a run again (never the sent ones); how many.
    pub async fn retry_run(&self, actor: &Actor, run_id: i64) -> Result<u64, AppError> {
        if !self.store.runs(None).await?.iter().any(|r| r.id == run_id) {
            return Err(Refusal::NoRun(run_id).into());
        }
        let action = self.permitted(actor, "run.retry", format!("run {run_id}"))?;
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
            return Err(Refusal::NotSendable { id, state: c.state }.into());
        }
        let action = self.permitted(actor, "campaign.send_now", format!("campaign {id}"))?;
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
            .ok_or(AppError::Refused(Refusal::NoCampaign(id)))
    }

    /// pause / resume / cancel. Resuming settles the ticks missed while paused, so they never fire.
    pub async fn set_campaign_state(&self, actor: &Actor, id: i64, to: CampaignState) -> Result<(), AppError> {
        use CampaignState::*;
        let campaign = self.campaign(id).await?;
        let from = to.reachable_by(actor);
        if from.is_empty() {
            return Err(Refusal::NotByHand(to).into());
        }
        let settled = (to == Scheduled).then(|| self.now());
        let reason = match to {
            Paused => StateReason::PausedByStaff,
            Scheduled => StateReason::None,
            _ => StateReason::CancelledByStaff,
        };
        let verb = match to {
            Paused => "campaign.pause",
            Scheduled => "campaign.resume",
            _ => "campaign.cancel",
        };
        let action = self
            .permitted(actor, verb, format!("campaign {id}"))?
            .with("from", campaign.state.as_str())
            .with("to", to.as_str());
        if to == Scheduled && campaign.state == Paused {
            // A campaign held for its template resumes only once its mail renders again: compiled afresh, so a
            // template fixed on disk counts at once.
            let templates = self.reload_templates()?;
            let plan = self.plan(Some(campaign.fiscal_year)).await?;
            self.check_renders(
                &templates,
                &plan,
                &campaign.theme_slug,
                campaign.channel,
                campaign.title.as_deref(),
                campaign.issue.as_deref(),
            )
            .await
            .map_err(|e| Refusal::StaysPaused {
                id,
                error: e.to_string(),
            })?;
        }
        if !self
            .store
            .transition(
                id,
                &Transition {
                    from,
                    to,
                    reason: &reason,
                    settled_ms: settled,
                },
                self.now(),
                action,
            )
            .await?
        {
            return Err(Refusal::CannotBecome {
                id,
                state: campaign.state,
                to,
            }
            .into());
        }
        Ok(())
    }
}

/// A mail to render as it would be sent (`outreach preview`, `template check`, and the check at create).
#[derive(Debug, Clone, Copy)]
pub struct Preview<'a> {
    pub theme_slug: &'a str,
    pub channel: Channel,
    /// Render for this member, in their language, instead of a sample recipient.
    pub member: Option<&'a str>,
    /// Render in this language instead of the member's (Japanese for a sample recipient).
    pub locale: Option<Locale>,
    pub fiscal_year: Option<i32>,
    /// The campaign's member-facing title (default: the theme's).
    pub title: Option<&'a str>,
    /// The manuscript's issue (default: an upcoming one).
    pub issue: Option<&'a str>,
    /// The campaign previewed, if any (recorded with a member's preview).
    pub campaign_id: Option<i64>,
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
