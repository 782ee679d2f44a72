//! The application: settings, store, clock and the services the command line (and later the web) calls.
//! Changes are here, each taking the actor who makes it; reads are in [`queries`].

mod queries;

pub use queries::RunReport;

use std::path::Path;
use std::sync::Arc;

use crate::campaigns::{Campaign, CampaignState, NewCampaign, Schedule};
use crate::clock::Clock;
use crate::config::{Settings, TransportKind};
use crate::delivery::transport::{FileTransport, SmtpTransport, Transport};
use crate::delivery::{Worker, WorkerParts};
use crate::domain::{Action, Actor};
use crate::error::AppError;
use crate::plan::{Channel, Plan, PlanSaved, parse_plan};
use crate::recipients::csv::{self as recipients_csv, Parsed, RowError};
use crate::recipients::{ImportReport, MemberSource};
use crate::schedule::{Scheduler, audience_of};
use crate::store::{self, Audience, Store, Transition};
use crate::templates::context::{CampaignContext, Links, Recipient};
use crate::templates::{RenderedMail, Templates};

/// The plan table this service was built for, shipped as config/plans/fy2020.tsv.
pub const SHIPPED_PLAN: &str = include_str!("../../config/plans/fy2020.tsv");
pub const SHIPPED_PLAN_YEAR: i32 = 2020;

pub struct Application {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

/// What an import of a CSV file did, or would do with --dry-run.
#[derive(Debug, Clone, Default)]
pub struct CsvImport {
    pub report: ImportReport,
    pub rejected: Vec<RowError>,
    pub imported: bool,
}

/// A campaign as staff ask for it on the command line.
#[derive(Debug, Clone)]
pub struct CampaignRequest {
    pub name: String,
    pub theme_slug: String,
    pub channel: Channel,
    pub at: Option<String>,
    pub cron: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub fiscal_year: Option<i32>,
}

impl Application {
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        let store = store::connect(&settings.database.url, settings.database.max_connections).await?;
        Ok(Self {
            settings: Arc::new(settings),
            store: Arc::new(store),
            clock,
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Imports the shipped plan when none exists and creates the signing key file when no key is configured.
    pub async fn init(&self, actor: &Actor) -> Result<Vec<String>, AppError> {
        let mut done = Vec::new();
        if self.store.plan(None).await?.is_none() {
            self.import_plan(actor, SHIPPED_PLAN, "config/plans/fy2020.tsv", SHIPPED_PLAN_YEAR, false)
                .await?;
            done.push(format!("imported the fiscal year {SHIPPED_PLAN_YEAR} plan"));
        }
        if self.settings.signing_key()?.is_none() && !self.settings.web.signing_key_file.is_empty() {
            let path = Path::new(&self.settings.web.signing_key_file);
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(|e| AppError::Io(format!("{}: {e}", folder.display())))?;
            }
            let key: [u8; 32] = rand::random();
            write_private(path, &hex::encode(key)).map_err(|e| AppError::Io(format!("{}: {e}", path.display())))?;
            done.push(format!("created the signing key {}", path.display()));
        }
        done.push(format!("installation {}", self.installation_id().await?));
        Ok(done)
    }

    pub async fn import_plan(
        &self,
        actor: &Actor,
        text: &str,
        file: &str,
        fiscal_year: i32,
        replace: bool,
    ) -> Result<PlanSaved, AppError> {
        let parsed = parse_plan(text).map_err(|e| AppError::input(format!("{file}: {e}")))?;
        if let Some(year) = parsed.fiscal_year.filter(|y| *y != fiscal_year) {
            return Err(AppError::input(format!(
                "{file}: line {}: the title says fiscal year {year}, but --fiscal-year is {fiscal_year}",
                title_line(text)
            )));
        }
        let plan = Plan::from_parsed(parsed, fiscal_year, &self.settings.themes);
        let action = permitted(actor, "plan.import", format!("fiscal year {fiscal_year}"))?
            .with("file", file)
            .with("replace", replace);
        Ok(self.store.save_plan(&plan, replace, self.now(), &action).await?)
    }

    pub async fn plan(&self, fiscal_year: Option<i32>) -> Result<Plan, AppError> {
        self.store.plan(fiscal_year).await?.ok_or_else(|| match fiscal_year {
            Some(y) => AppError::NotFound(format!(
                "no plan for fiscal year {y}; import one with `outreach plan import`"
            )),
            None => AppError::NotFound("no plan imported yet; run `outreach init`".to_owned()),
        })
    }

    /// Theme slugs members may choose: the configured seven plus any in the latest plan.
    pub async fn theme_slugs(&self) -> Result<Vec<String>, AppError> {
        let mut slugs: Vec<String> = self.settings.themes.iter().map(|t| t.slug.clone()).collect();
        if let Some(plan) = self.store.plan(None).await? {
            for t in plan.themes {
                if !slugs.contains(&t.slug) {
                    slugs.push(t.slug);
                }
            }
        }
        Ok(slugs)
    }

    pub async fn import_members(
        &self,
        actor: &Actor,
        bytes: &[u8],
        dry_run: bool,
        skip_invalid: bool,
    ) -> Result<CsvImport, AppError> {
        let slugs = self.theme_slugs().await?;
        let refs: Vec<&str> = slugs.iter().map(String::as_str).collect();
        let parsed = recipients_csv::parse_members(bytes, &refs).map_err(|e| AppError::input(e.to_string()))?;
        let action = permitted(actor, "members.import", "members")?.with("rejected", parsed.errors.len());
        self.import_rows(parsed, dry_run, skip_invalid, |rows| {
            let store = self.store.clone();
            let slugs = slugs.clone();
            let now = self.now();
            async move { store.import_members(&rows, &slugs, now, &action).await }
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
        let parsed = recipients_csv::parse_advisors(bytes).map_err(|e| AppError::input(e.to_string()))?;
        let action = permitted(actor, "advisors.import", "advisors")?.with("rejected", parsed.errors.len());
        self.import_rows(parsed, dry_run, skip_invalid, |rows| {
            let store = self.store.clone();
            let now = self.now();
            async move { store.import_advisors(&rows, now, &action).await }
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
        if (!rejected.is_empty() && !skip_invalid) || dry_run {
            return Ok(CsvImport {
                report: ImportReport::default(),
                rejected,
                imported: false,
            });
        }
        let report = save(parsed.rows).await?;
        Ok(CsvImport {
            report,
            rejected,
            imported: true,
        })
    }

    /// The built-in templates, overridden by `templates.dir` when it is set.
    pub fn templates(&self) -> Result<Arc<Templates>, AppError> {
        let dir = &self.settings.templates.dir;
        let dir = (!dir.as_os_str().is_empty()).then_some(dir.as_path());
        Ok(Arc::new(Templates::load(dir)?))
    }

    pub fn signing_key(&self) -> Result<Vec<u8>, AppError> {
        match self.settings.signing_key()? {
            Some(key) => Ok(key.expose().as_bytes().to_vec()),
            None => Err(AppError::Config(crate::config::ConfigError::new(
                "web.signing_key",
                "no signing key: run `outreach init`, or set OUTREACH_WEB__SIGNING_KEY",
            ))),
        }
    }

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
                self.signing_key()
                    .map(|k| Links::for_member(&self.settings.web.base_url, &k, member_id, theme_slug))
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
        use crate::campaigns::schedule::{format_local, parse_local_date, parse_local_datetime};
        let tz = self.settings.schedule.tz();
        let input = |e: crate::campaigns::ScheduleError| AppError::input(e.to_string());
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
            name: req.name.clone(),
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
            return Err(AppError::input(
                "no Tosho Shimbun editorial desk address is configured (tosho_shimbun.editorial_desk)",
            ));
        }
        self.check_renders(templates, &theme.slug, req.channel, Some(plan.fiscal_year))
            .await?;
        let action = permitted(actor, "campaign.create", "")?
            .with("name", new.name.clone())
            .with("theme", new.theme_slug.clone())
            .with("channel", new.channel.slug())
            .with("schedule", new.schedule.describe(tz));
        Ok(self.store.create_campaign(&new, now, &action).await?)
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

    /// Lifts a member's suppression (a refusal that was the server's fault, or a fixed address).
    pub async fn unsuppress(&self, actor: &Actor, email: &str, reason: &str) -> Result<(), AppError> {
        if reason.trim().is_empty() {
            return Err(AppError::input("--reason must say why the suppression is lifted"));
        }
        let action = permitted(actor, "member.unsuppress", email)?.with("reason", reason.trim());
        match self
            .store
            .unsuppress(email, reason.trim(), source_of(actor), self.now(), &action)
            .await?
        {
            None => Err(AppError::NotFound(format!("no member {email}"))),
            Some(false) => Err(AppError::Conflict(format!("{email} is not suppressed"))),
            Some(true) => Ok(()),
        }
    }

    /// Queues the failed deliveries of a run again (never the sent ones); how many.
    pub async fn retry_run(&self, actor: &Actor, run_id: i64) -> Result<u64, AppError> {
        if !self.store.runs(None).await?.iter().any(|r| r.id == run_id) {
            return Err(AppError::NotFound(format!("no run {run_id}")));
        }
        let action = permitted(actor, "run.retry", format!("run {run_id}"))?;
        Ok(self.store.retry_failed(run_id, self.now(), &action).await?)
    }

    /// Unsubscribes a member from one theme, or from everything, on their behalf.
    pub async fn unsubscribe(&self, actor: &Actor, email: &str, theme: Option<&str>) -> Result<(), AppError> {
        let action = permitted(actor, "member.unsubscribe", email)?.with("theme", theme.unwrap_or("*"));
        let found = self
            .store
            .unsubscribe(email, theme, source_of(actor), self.now(), &action)
            .await?;
        member_found(found, email)
    }

    /// Stops all mail to a member.
    pub async fn suppress(&self, actor: &Actor, email: &str, reason: &str) -> Result<(), AppError> {
        let action = permitted(actor, "member.suppress", email)?.with("reason", reason);
        let found = self
            .store
            .suppress(email, reason, source_of(actor), self.now(), &action)
            .await?;
        member_found(found, email)
    }

    /// Starts a run now, outside the schedule; `None` when a run for this instant exists already.
    pub async fn send_now(&self, actor: &Actor, id: i64) -> Result<Option<crate::store::Run>, AppError> {
        let c = self.campaign(id).await?;
        if c.state != CampaignState::Scheduled {
            return Err(AppError::Conflict(format!("campaign {id} is {}", c.state.as_str())));
        }
        let action = permitted(actor, "campaign.send-now", format!("campaign {id}"))?;
        Ok(self.scheduler().send_now(&c, &action).await?)
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
        let (from, settled): (&[CampaignState], Option<i64>) = match to {
            Paused => (&[Scheduled], None),
            Scheduled => (&[Paused], Some(self.now())),
            Cancelled => (&[Scheduled, Paused], None),
            Finished => return Err(AppError::input("a campaign finishes by itself")),
        };
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
            .set_campaign_state(
                id,
                &Transition {
                    from,
                    to,
                    reason,
                    settled_ms: settled,
                },
                self.now(),
                &action,
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

    pub fn scheduler(&self) -> Scheduler {
        Scheduler::new(self.store.clone(), self.settings.clone(), self.clock.clone())
    }

    pub fn transport(&self) -> Result<Arc<dyn Transport>, AppError> {
        Ok(match self.settings.delivery.transport {
            TransportKind::Smtp => Arc::new(SmtpTransport::new(&self.settings.smtp)),
            TransportKind::File => Arc::new(
                FileTransport::new(self.settings.delivery.outbox.clone())
                    .map_err(|e| AppError::Io(format!("{}: {e}", self.settings.delivery.outbox.display())))?,
            ),
        })
    }

    /// A worker claiming for the instance `owner` (see [`crate::runtime::Instance`]).
    pub async fn worker(&self, transport: Arc<dyn Transport>, owner: &str) -> Result<Worker, AppError> {
        Ok(Worker::new(WorkerParts {
            store: self.store.clone(),
            transport,
            templates: self.templates()?,
            settings: self.settings.clone(),
            clock: self.clock.clone(),
            owner: owner.to_owned(),
            installation: self.installation_id().await?,
            // Checked when the settings were loaded.
            from: self
                .settings
                .delivery
                .from
                .parse()
                .map_err(|e| AppError::Config(crate::config::ConfigError::new("delivery.from", format!("{e}"))))?,
            signing_key: self.signing_key()?,
        }))
    }

    /// This installation's id (created by the first process that asks), part of every Message-ID.
    pub async fn installation_id(&self) -> Result<String, AppError> {
        let candidate = format!("{:012x}", rand::random::<u64>() >> 16);
        Ok(self.store.installation_id(&candidate, self.now()).await?)
    }
}

/// How a member's history names who changed their state.
fn source_of(actor: &Actor) -> MemberSource {
    match actor {
        Actor::Operator(_) | Actor::Scheduler => MemberSource::Staff,
        Actor::Member(_) => MemberSource::Member,
        Actor::Smtp => MemberSource::Smtp,
    }
}

fn member_found(found: bool, email: &str) -> Result<(), AppError> {
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("no member {email}")))
    }
}

/// The action `actor` asks for, if they may do it.
fn permitted(actor: &Actor, action: &'static str, target: impl Into<String>) -> Result<Action, AppError> {
    if actor.may(action) {
        Ok(Action::new(actor, action, target))
    } else {
        Err(AppError::Forbidden(format!(
            "{} {} may not {action}",
            actor.kind(),
            actor.name()
        )))
    }
}

fn unknown_theme(plan: &Plan, slug: &str) -> AppError {
    let known: Vec<&str> = plan.themes.iter().map(|t| t.slug.as_str()).collect();
    AppError::input(format!("unknown theme {slug:?} (known: {})", known.join(", ")))
}

fn title_line(text: &str) -> usize {
    text.lines().position(|l| !l.trim().is_empty()).map_or(1, |i| i + 1)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
