//! The application: settings, store, clock and the services the command line (and later the web) calls.
//! Changes are here, each taking the actor who makes it; reads are in [`queries`].

mod accounts;
mod audit;
mod campaign_edit;
mod campaigns;
mod dashboard;
mod erasure;
mod link_mail;
mod members;
mod queries;
mod staff_tools;
mod witnesses;

pub use crate::domain::campaign::{CampaignEdit, CampaignRequest};
pub use accounts::{SIGN_IN_REFUSED, SignedIn};
pub use audit::{Exported, Inclusion, Verification};
pub use campaigns::{Preview, audience_of};
pub use dashboard::{ThemeFigures, YearFigures};
pub use link_mail::LinkMail;
pub use queries::RunReport;
pub use staff_tools::{FailureGroup, TEST_SUBJECT_PREFIX};

use std::path::Path;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::files::{Tightened, create_private_file, create_private_folder};
use crate::config::{Settings, TransportKind};
use crate::domain::Trigger;
use crate::domain::campaign::Zone;
use crate::domain::campaign::{Campaign, CampaignState, NewCampaign};
use crate::domain::member::Locale;
use crate::domain::member::{ImportReport, MemberSource};
use crate::domain::plan::{Channel, Plan, PlanSaved};
use crate::domain::{Action, Actor, Field, FieldError, Problem, Refusal};
use crate::error::AppError;
use crate::import::csv::{self as recipients_csv, Parsed, RowError};
use crate::import::plan::parse_plan;
use crate::mail::context::{CampaignContext, Links, Recipient, reading_locale, template_in};
use crate::mail::transport::{FileTransport, SmtpTransport, Transport};
use crate::mail::{RenderedMail, Templates};
use crate::store::{self, Audience, Store, Transition};

/// The plan table this service was built for, shipped as config/plans/fy2020.tsv.
pub const SHIPPED_PLAN: &str = include_str!("../../config/plans/fy2020.tsv");
pub const SHIPPED_PLAN_YEAR: i32 = 2020;

/// An address someone typed (to look up, change or mail), under the text rules of [`Field::Email`]: trimmed, and
/// refused with a clear message before any query when it holds control characters.
fn typed_address(email: &str) -> Result<&str, AppError> {
    Ok(Field::Email.required(email)?)
}

pub struct Application {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The client's address of the web request this application acts for ([`Application::for_client`]);
    /// empty at the command line. Every action it records carries it.
    client_address: String,
    /// The mail templates, compiled once and shared by every clone until [`Application::reload_templates`].
    templates: Arc<std::sync::RwLock<Option<Arc<Templates>>>>,
    /// How many times this process compiled the templates.
    template_compiles: Arc<std::sync::atomic::AtomicU64>,
}

/// What an import of a CSV file did, or would do with --dry-run.
#[derive(Debug, Clone, Default)]
pub struct CsvImport {
    pub report: ImportReport,
    pub rejected: Vec<RowError>,
    /// Rows that passed the checks (what a dry run would import).
    pub valid: usize,
    pub imported: bool,
}

impl Application {
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        let store = store::connect(&settings.database.url, settings.database.max_connections).await?;
        Ok(Self {
            settings: Arc::new(settings),
            store,
            clock,
            client_address: String::new(),
            templates: Arc::default(),
            template_compiles: Arc::default(),
        })
    }

    /// The same application acting for a web client at `address`: each change it makes is recorded with that
    /// address in the staff-action log. Cheap (shared settings, pool and clock).
    pub fn for_client(&self, address: &str) -> Application {
        Application {
            settings: self.settings.clone(),
            store: self.store.clone(),
            clock: self.clock.clone(),
            client_address: address.to_owned(),
            templates: self.templates.clone(),
            template_compiles: self.template_compiles.clone(),
        }
    }

    /// The action `actor` asks for, if they may do it, with the client's address when acting for one.
    fn permitted(&self, actor: &Actor, action: &'static str, target: impl Into<String>) -> Result<Action, AppError> {
        if actor.may(action) {
            Ok(Action::new(actor, action, target).from_address(&self.client_address))
        } else {
            Err(AppError::Forbidden(format!(
                "{} {} may not {action}",
                actor.kind(),
                actor.name()
            )))
        }
    }

    /// The From of every mail (`delivery.from`, checked when the settings were loaded).
    pub fn from_mailbox(&self) -> Result<lettre::message::Mailbox, AppError> {
        self.settings
            .delivery
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| {
                AppError::Config(crate::config::ConfigError::new("delivery.from", e.to_string()))
            })
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The zone schedules are read in.
    pub fn zone(&self) -> Zone<'_> {
        Zone {
            name: &self.settings.schedule.time_zone,
            tz: self.settings.schedule.tz(),
        }
    }

    /// Imports the shipped plan when none exists and creates the signing key file when no key is configured.
    pub async fn init(&self, actor: &Actor) -> Result<Vec<String>, AppError> {
        let mut done = Vec::new();
        let data = &self.settings.data_dir;
        let tightened = self
            .settings
            .tighten_data_folder()
            .map_err(|e| AppError::Io(format!("making the data folder {} private: {e}", data.display())))?;
        if tightened != Tightened::default() {
            done.push(format!(
                "made the data folder private: {} (folders made 0700: {}, files made 0600: {}; other users of \
                 this machine could read them)",
                data.display(),
                tightened.folders,
                tightened.files
            ));
        }
        if self.store.plan(None).await?.is_none() {
            self.import_plan(actor, SHIPPED_PLAN, "config/plans/fy2020.tsv", SHIPPED_PLAN_YEAR, false)
                .await?;
            done.push(format!("imported the fiscal year {SHIPPED_PLAN_YEAR} plan"));
        }
        if self.settings.signing_key()?.is_none() && !self.settings.web.signing_key_file.is_empty() {
            // Another folder on the same database: a new key would break every link already sent.
            let recorded = self.store.link_key_id().await?;
            if !recorded.is_empty() {
                return Err(AppError::Config(crate::config::ConfigError::new(
                    "web.signing_key",
                    format!(
                        "no key is configured here, but this database's member links were signed with key \
                         {recorded}: configure that key (OUTREACH_WEB__SIGNING_KEY or web.signing_key_file) instead \
                         of creating a new one"
                    ),
                )));
            }
            let path = Path::new(&self.settings.web.signing_key_file);
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_folder(folder).map_err(|e| AppError::Io(format!("{}: {e}", folder.display())))?;
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
        let plan = parsed.into_plan(fiscal_year, &self.settings.themes);
        let action = self
            .permitted(actor, "plan.import", format!("fiscal year {fiscal_year}"))?
            .with("file", file)
            .with("replace", replace);
        let now = self.now();
        Ok(self
            .store
            .change(now, async move |tx| {
                let saved = store::plans::save_plan(tx, &plan, replace, now).await?;
                let record =
                    (saved != PlanSaved::Unchanged).then(|| action.with("result", format!("{saved:?}").to_lowercase()));
                Ok((saved, record))
            })
            .await?)
    }

    pub async fn plan(&self, fiscal_year: Option<i32>) -> Result<Plan, AppError> {
        self.store.plan(fiscal_year).await?.ok_or_else(|| match fiscal_year {
            Some(y) => AppError::NotFound(format!(
                "no plan for fiscal year {y}; import one with `outreach plan import`"
            )),
            None => AppError::NotFound("no plan imported yet; run `outreach init`".to_owned()),
        })
    }

    /// An error naming the themes there are, unless `slug` is one of them.
    pub async fn check_theme(&self, slug: &str) -> Result<(), AppError> {
        let known = self.theme_slugs().await?;
        if known.iter().any(|s| s == slug) {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "unknown theme {slug:?} (known: {})",
                known.join(", ")
            )))
        }
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

    /// Where mail goes: the SMTP server, or the outbox folder until one is configured.
    pub fn transport(&self) -> Result<Arc<dyn Transport>, AppError> {
        Ok(match self.settings.delivery.transport {
            TransportKind::Smtp => Arc::new(SmtpTransport::new(&self.settings.smtp)),
            TransportKind::File => Arc::new(
                FileTransport::new(self.settings.delivery.outbox.clone())
                    .map_err(|e| AppError::Io(format!("{}: {e}", self.settings.delivery.outbox.display())))?,
            ),
        })
    }

    /// The built-in templates, overridden by `templates.dir` when it is set: compiled on first use, then the
    /// same set until [`Application::reload_templates`] (`serve` reloads on SIGHUP and on `outreach reload`).
    pub fn templates(&self) -> Result<Arc<Templates>, AppError> {
        if let Ok(cached) = self.templates.read()
            && let Some(templates) = cached.as_ref()
        {
            return Ok(templates.clone());
        }
        self.reload_templates()
    }

    /// Compiles the templates anew (from `templates.dir` over the built-in ones) and uses them from now on; on
    /// an error the set in use stays.
    pub fn reload_templates(&self) -> Result<Arc<Templates>, AppError> {
        let dir = &self.settings.templates.dir;
        let dir = (!dir.as_os_str().is_empty()).then_some(dir.as_path());
        let templates = Arc::new(Templates::load(dir)?);
        self.template_compiles
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut cached) = self.templates.write() {
            *cached = Some(templates.clone());
        }
        Ok(templates)
    }

    /// How many times this process compiled the templates (shown in `/metrics`).
    pub fn template_compiles(&self) -> u64 {
        self.template_compiles.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Refuses to sign member links with a key other than the one this database's links were signed with,
    /// unless it rotates from it (`web.previous_signing_key`); records the key when it is the first or the new.
    pub async fn check_link_key(&self) -> Result<(), AppError> {
        use crate::mail::token::key_id;
        let kid = key_id(&self.signing_key()?);
        let previous = self
            .settings
            .previous_signing_key()?
            .map(|k| key_id(k.expose().as_bytes()));
        self.installation_id().await?;
        if self.store.record_link_key(&kid, previous.as_deref()).await? {
            return Ok(());
        }
        let recorded = self.store.link_key_id().await?;
        Err(AppError::Config(crate::config::ConfigError::new(
            "web.signing_key",
            format!(
                "this database's member links were signed with key {recorded}, but the configured key is {kid}: \
                 configure that key (OUTREACH_WEB__SIGNING_KEY or web.signing_key_file), or rotate by setting it as \
                 web.previous_signing_key"
            ),
        )))
    }

    /// The keys member links verify with: the current one, and the previous one during a rotation.
    pub fn verification_keys(&self) -> Result<Vec<Vec<u8>>, AppError> {
        let mut keys = vec![self.signing_key()?];
        if let Some(previous) = self.settings.previous_signing_key()? {
            keys.push(previous.expose().as_bytes().to_vec());
        }
        Ok(keys)
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

    /// This installation's id (created by the first process that asks), part of every Message-ID.
    pub async fn installation_id(&self) -> Result<String, AppError> {
        let candidate = format!("{:012x}", rand::random::<u64>() >> 16);
        Ok(self.store.installation_id(&candidate, self.now()).await?)
    }
}

fn unknown_theme(plan: &Plan, slug: &str) -> AppError {
    let known = plan.themes.iter().map(|t| t.slug.clone()).collect();
    FieldError::new(
        Field::Theme,
        Problem::UnknownTheme {
            slug: slug.to_owned(),
            known,
        },
    )
    .into()
}

fn title_line(text: &str) -> usize {
    text.lines().position(|l| !l.trim().is_empty()).map_or(1, |i| i + 1)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    create_private_file(path)?.write_all(contents.as_bytes())
}
