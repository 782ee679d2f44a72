//! The command line: parses arguments, calls the application, prints results. Exit codes: see [`AppError`].

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Application;
use crate::app::RunReport;
use crate::campaigns::CampaignState;
use crate::campaigns::schedule::{format_local, parse_local_date};
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::domain::Actor;
use crate::error::AppError;
use crate::plan::{Channel, PlanSaved};
use crate::runtime::{self, Progress, SendDue};
use crate::store::{ActionFilter, LogEntry, LogFilter, Waiting};

#[derive(Debug, Parser)]
#[command(
    name = "outreach",
    version,
    about = "Awareness campaigns of the Tokyo Chamber of Commerce and Industry"
)]
pub struct Cli {
    /// A TOML file layered over the embedded defaults (environment variables OUTREACH_<SECTION>__<KEY> win).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data folder: relative paths of the SQLite database, the outbox and the signing key are read in it.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "OUTREACH_DATA_DIR",
        default_value = "data"
    )]
    data_dir: PathBuf,
    /// Who is acting, for the staff-action log (default: the login name).
    #[arg(long = "as", global = true, value_name = "EMAIL")]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database, import the shipped plan if none exists, create the signing key.
    Init,
    /// Run the scheduler and the delivery worker until SIGTERM or Ctrl-C.
    Serve,
    /// Fire what is due now, send everything queued, print a summary and exit.
    SendDue {
        /// Also wait for due deliveries that other live instances hold (sent by them, or taken over).
        #[arg(long)]
        wait: bool,
    },
    /// The serve and send-due processes on this database: live, dead or stopped, and what each holds.
    Instances,
    /// Ask every live `serve` to reload its templates (as SIGHUP does for one process).
    Reload,
    /// Runs of campaigns.
    #[command(subcommand)]
    Run(RunCommand),
    /// The staff-action log: every change, who made it and when.
    #[command(subcommand)]
    Actions(ActionsCommand),
    /// The collaboration plan.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Member companies.
    #[command(subcommand)]
    Members(MembersCommand),
    /// Business advisors.
    #[command(subcommand)]
    Advisors(AdvisorsCommand),
    /// Mail templates.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Print a mail as it would be sent.
    Preview {
        #[arg(long)]
        theme: String,
        #[arg(long)]
        channel: Channel,
        /// Render for this member instead of a sample recipient.
        #[arg(long)]
        member: Option<String>,
        #[arg(long)]
        fiscal_year: Option<i32>,
    },
    /// Campaigns.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// The send log.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Debug, Subcommand)]
enum ActionsCommand {
    /// List the log, oldest first.
    List {
        /// Only this actor (an operator's name or address, `smtp`, `scheduler`).
        #[arg(long)]
        actor: Option<String>,
        /// Only this kind of action, e.g. campaign.pause or members.import.
        #[arg(long)]
        action: Option<String>,
        /// From this day on (YYYY-MM-DD, configured zone).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
enum RunCommand {
    /// Queue a run's failed deliveries again (never the sent ones).
    Retry {
        run: i64,
        /// Required: says that the failed deliveries are what is queued again.
        #[arg(long)]
        failed: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PlanCommand {
    /// Import a plan table exactly as published (tab-separated, HTML fragments in cells).
    Import {
        file: PathBuf,
        #[arg(long)]
        fiscal_year: i32,
        /// Replace a plan already imported for the year from another file.
        #[arg(long)]
        replace: bool,
    },
    /// Themes, the Chamber's duties and the channels of each duty.
    Show {
        #[arg(long)]
        fiscal_year: Option<i32>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
struct ImportArgs {
    file: PathBuf,
    /// Check the file and report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import the good rows and report the bad ones (default: any bad row rejects the whole file).
    #[arg(long)]
    skip_invalid: bool,
}

#[derive(Debug, Subcommand)]
enum MembersCommand {
    /// Import members from CSV: email,company,contact_name,themes,locale.
    Import(ImportArgs),
    List {
        #[arg(long)]
        theme: Option<String>,
    },
    /// All members as CSV on standard output.
    Export,
    /// A member, their themes and the history of every change (when, what, how).
    Show { email: String },
    /// Unsubscribe a member from one theme, or from everything.
    Unsubscribe {
        email: String,
        #[arg(long)]
        theme: Option<String>,
    },
    /// Stop all mail to a member (for example a bounced address).
    Suppress {
        email: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift a suppression (for example one caused by a mail server's own fault); kept in the history.
    Unsuppress {
        email: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdvisorsCommand {
    /// Import advisors from CSV: email,name,branch.
    Import(ImportArgs),
    List,
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
    /// Compile every template and render each mail for a sample recipient.
    Check,
}

#[derive(Debug, Subcommand)]
enum CampaignCommand {
    /// Create a campaign; prints its id.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        theme: String,
        #[arg(long)]
        channel: Channel,
        /// One time, in the configured zone: 2020-06-01T09:00.
        #[arg(long, conflicts_with = "cron", required_unless_present = "cron")]
        at: Option<String>,
        /// Recurring: five fields, or six with seconds first, in the configured zone.
        #[arg(long)]
        cron: Option<String>,
        /// First day it may fire (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Last day it may fire (YYYY-MM-DD, inclusive).
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        fiscal_year: Option<i32>,
    },
    List,
    /// A campaign, its next five firing times and its runs.
    Show {
        id: i64,
    },
    Pause {
        id: i64,
    },
    /// Resume a paused campaign; ticks missed while paused are not fired.
    Resume {
        id: i64,
    },
    Cancel {
        id: i64,
    },
    /// Start a run now, outside the schedule.
    SendNow {
        id: i64,
    },
}

#[derive(Debug, Args)]
struct LogFilterArgs {
    #[arg(long)]
    campaign: Option<i64>,
    #[arg(long)]
    theme: Option<String>,
    #[arg(long)]
    channel: Option<Channel>,
    #[arg(long)]
    recipient: Option<String>,
    /// sent, deferred, failed or skipped.
    #[arg(long)]
    status: Option<String>,
    /// From this day (YYYY-MM-DD, configured zone).
    #[arg(long)]
    from: Option<String>,
    /// Up to and including this day.
    #[arg(long)]
    to: Option<String>,
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    List(LogFilterArgs),
    /// Stream the log as CSV or JSON lines.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[command(flatten)]
        filter: LogFilterArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    Csv,
    Jsonl,
}

/// Runs the command line and returns the process exit code.
pub async fn run() -> i32 {
    let cli = Cli::parse();
    match execute(cli).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

async fn execute(cli: Cli) -> Result<(), AppError> {
    let settings = Settings::load(cli.config.as_deref(), &cli.data_dir)?;
    let app = Arc::new(Application::open(settings, Arc::new(SystemClock)).await?);
    let mut out = std::io::stdout().lock();
    let actor = Actor::from_login(cli.actor.as_deref());
    let result = dispatch(&app, &actor, cli.command, &mut out).await;
    out.flush().map_err(|e| AppError::Io(e.to_string()))?;
    result
}

macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, $($arg)*).map_err(|e| AppError::Io(e.to_string()))?
    };
}

async fn dispatch(
    app: &Arc<Application>,
    actor: &Actor,
    command: Command,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        Command::Init => {
            for line in app.init(actor).await? {
                say!(out, "{line}");
            }
            let s = &app.settings;
            say!(out, "ready: {}", s.database.url);
            match s.delivery.transport {
                crate::config::TransportKind::File => say!(out, "mail is written to {}", s.delivery.outbox.display()),
                crate::config::TransportKind::Smtp => say!(out, "mail goes to {}:{}", s.smtp.host, s.smtp.port),
            }
            if s.templates.dir.as_os_str().is_empty() {
                say!(out, "templates: built in");
            } else {
                say!(out, "templates: built in, overridden by {}", s.templates.dir.display());
            }
        }
        Command::Serve => {
            app.init(actor).await?;
            runtime::serve(app.clone(), shutdown_signal()).await?;
        }
        Command::Instances => {
            let instances = app.instances().await?;
            if instances.is_empty() {
                say!(out, "(no instance has run on this database)");
            }
            for i in instances {
                let holds = match i.held_until {
                    Some(until) if i.holding > 0 => {
                        format!("holds {} deliveries until {}", i.holding, format_local(until, tz))
                    }
                    _ => "holds nothing".to_owned(),
                };
                say!(
                    out,
                    "{}\t{}\t{} pid {}\tv{}\tstarted {}\tlast heartbeat {}s ago\t{holds}",
                    i.id,
                    i.state,
                    i.role,
                    i.pid,
                    i.version,
                    format_local(i.started_at, tz),
                    i.silent_ms / 1000
                );
            }
        }
        Command::Reload => {
            let asked = app.ask_reload().await?;
            say!(
                out,
                "asked {asked} live serve instances to reload their templates at their next heartbeat"
            );
        }
        Command::Run(RunCommand::Retry { run, failed }) => {
            if !failed {
                return Err(AppError::input("say what to retry: `outreach run retry RUN --failed`"));
            }
            let n = app.retry_run(actor, run).await?;
            say!(out, "run {run}: {n} failed deliveries queued again");
        }
        Command::SendDue { wait } => {
            let bar = progress_bar();
            let done = runtime::send_due(app.clone(), wait, |p| match p {
                Progress::Due(n) => bar.set_length(n),
                Progress::Batch(b) => bar.inc(b.sent + b.failed + b.deferred + b.skipped),
            })
            .await;
            bar.finish_and_clear();
            let SendDue { tick, summary, held } = done?;
            for run in &tick.fired {
                say!(
                    out,
                    "run {} of campaign {} started: {} recipients",
                    run.id,
                    run.campaign_id,
                    run.audience
                );
            }
            for (campaign, at, why) in &tick.skipped {
                say!(
                    out,
                    "campaign {campaign}: skipped the tick of {}: {why}",
                    format_local(*at, tz)
                );
            }
            say!(
                out,
                "sent {}, deferred {}, failed {}, skipped {}",
                summary.sent,
                summary.deferred,
                summary.failed,
                summary.skipped
            );
            for h in &held {
                say!(
                    out,
                    "not finished here: {} due deliveries are held by live instance {} (last heartbeat {}s ago) \
                     until {}; it sends them, or they are taken over if it dies (`send-due --wait` waits)",
                    h.deliveries,
                    h.instance,
                    h.silent_ms / 1000,
                    format_local(h.until, tz)
                );
            }
        }
        Command::Plan(PlanCommand::Import {
            file,
            fiscal_year,
            replace,
        }) => {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file).map_err(|e| AppError::input(format!("{name}: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                AppError::input(format!("{name}: line {line}: invalid UTF-8"))
            })?;
            let saved = app.import_plan(actor, &text, &name, fiscal_year, replace).await?;
            let what = match saved {
                PlanSaved::Created => "imported",
                PlanSaved::Unchanged => "unchanged (already imported from this file)",
                PlanSaved::Replaced => "replaced",
            };
            say!(out, "fiscal year {fiscal_year}: {what}");
        }
        Command::Plan(PlanCommand::Show { fiscal_year, format }) => {
            let plan = app.plan(fiscal_year).await?;
            match format {
                Format::Json => {
                    let json = serde_json::to_string_pretty(&plan).map_err(|e| AppError::Io(e.to_string()))?;
                    say!(out, "{json}")
                }
                Format::Table => {
                    say!(out, "{} (fiscal year {})", plan.title, plan.fiscal_year);
                    for theme in &plan.themes {
                        say!(out, "\n{}  {}", theme.slug, theme.title_ja);
                        for duty in &theme.duties {
                            let channels: Vec<&str> = duty.channels.iter().map(|c| c.slug()).collect();
                            let channels = if channels.is_empty() {
                                "no mail channel".to_owned()
                            } else {
                                channels.join(", ")
                            };
                            say!(out, "  - {}\n      channels: {channels}", duty.text);
                        }
                    }
                }
            }
        }
        Command::Members(MembersCommand::Import(args)) => {
            let bytes = read_input(&args.file)?;
            let result = app
                .import_members(actor, &bytes, args.dry_run, args.skip_invalid)
                .await?;
            report_import(out, &args, &result)?;
        }
        Command::Members(MembersCommand::List { theme }) => {
            for m in app.members(theme.as_deref()).await? {
                say!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    m.email,
                    m.company,
                    m.contact_name,
                    m.status,
                    m.themes.join(";")
                );
            }
        }
        Command::Members(MembersCommand::Export) => {
            let mut w = csv::Writer::from_writer(out);
            let csv_error = |e: csv::Error| AppError::Io(e.to_string());
            w.write_record(["email", "company", "contact_name", "themes", "locale", "status"])
                .map_err(csv_error)?;
            for m in app.members(None).await? {
                w.write_record([
                    &m.email,
                    &m.company,
                    &m.contact_name,
                    &m.themes.join(";"),
                    &m.locale,
                    &m.status,
                ])
                .map_err(csv_error)?;
            }
            w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        }
        Command::Members(MembersCommand::Show { email }) => {
            let (m, history) = app.member_history(&email).await?;
            say!(
                out,
                "{} — {} {} ({}, {})",
                m.email,
                m.company,
                m.contact_name,
                m.locale,
                m.status
            );
            say!(
                out,
                "themes: {}",
                if m.themes.is_empty() {
                    "(none)".to_owned()
                } else {
                    m.themes.join(", ")
                }
            );
            for e in history {
                let what = match &e.theme_slug {
                    Some(theme) => format!("{} {theme}", e.event),
                    None => e.event.clone(),
                };
                let why = if e.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", e.reason)
                };
                say!(out, "{}  {what} (by {}){why}", format_local(e.at, tz), e.source);
            }
        }
        Command::Members(MembersCommand::Unsubscribe { email, theme }) => {
            app.unsubscribe(actor, &email, theme.as_deref()).await?;
            say!(
                out,
                "{email}: unsubscribed from {}",
                theme.as_deref().unwrap_or("everything")
            );
        }
        Command::Members(MembersCommand::Unsuppress { email, reason }) => {
            app.unsuppress(actor, &email, &reason).await?;
            say!(out, "{email}: suppression lifted");
        }
        Command::Members(MembersCommand::Suppress { email, reason }) => {
            app.suppress(actor, &email, &reason).await?;
            say!(out, "{email}: suppressed");
        }
        Command::Advisors(AdvisorsCommand::Import(args)) => {
            let bytes = read_input(&args.file)?;
            let result = app
                .import_advisors(actor, &bytes, args.dry_run, args.skip_invalid)
                .await?;
            report_import(out, &args, &result)?;
        }
        Command::Advisors(AdvisorsCommand::List) => {
            for a in app.advisors().await? {
                say!(out, "{}\t{}\t{}", a.email, a.name, a.branch);
            }
        }
        Command::Template(TemplateCommand::Check) => {
            let templates = app.templates()?;
            let plan = app.plan(None).await?;
            let mut checked = 0;
            for theme in &plan.themes {
                for channel in Channel::ALL {
                    if theme.duty_for(channel).is_some() {
                        app.preview(&templates, &theme.slug, channel, None, None).await?;
                        checked += 1;
                    }
                }
            }
            say!(out, "{checked} mails compiled and rendered for a sample recipient");
        }
        Command::Preview {
            theme,
            channel,
            member,
            fiscal_year,
        } => {
            let templates = app.templates()?;
            let mail = app
                .preview(&templates, &theme, channel, member.as_deref(), fiscal_year)
                .await?;
            say!(
                out,
                "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}",
                mail.subject,
                mail.text,
                mail.html
            );
        }
        Command::Campaign(c) => campaign(app, actor, c, out).await?,
        Command::Actions(ActionsCommand::List {
            actor,
            action,
            since,
            format,
        }) => {
            let since_ms = since
                .as_deref()
                .map(|d| parse_local_date("--since", d, tz, false))
                .transpose()
                .map_err(|e| AppError::input(e.to_string()))?;
            let filter = ActionFilter {
                actor,
                action,
                since_ms,
            };
            for a in app.actions(&filter).await? {
                match format {
                    Format::Json => say!(out, "{}", a.canonical()),
                    Format::Table => say!(
                        out,
                        "{}\t{} {}\t{}\t{}\t{}",
                        format_local(a.at, tz),
                        a.actor_kind,
                        a.actor,
                        a.action,
                        a.target,
                        a.summary
                    ),
                }
            }
        }
        Command::Log(LogCommand::List(filter)) => {
            let filter = log_filter(app, &filter)?;
            stream_log(app, &filter, |e| {
                writeln!(
                    out,
                    "{}\t{}\tcampaign {}\t{}\t{}\t{}\t{}\t{} {}",
                    format_local(e.at, tz),
                    e.outcome,
                    e.campaign_id,
                    e.theme_slug,
                    e.channel,
                    e.recipient,
                    e.message_id,
                    e.smtp_code.map(|c| c.to_string()).unwrap_or_default(),
                    e.smtp_reply
                )
                .map_err(|e| AppError::Io(e.to_string()))
            })
            .await?;
        }
        Command::Log(LogCommand::Export { format, filter }) => {
            let filter = log_filter(app, &filter)?;
            match format {
                ExportFormat::Jsonl => {
                    stream_log(app, &filter, |e| {
                        let line = serde_json::to_string(e).map_err(|e| AppError::Io(e.to_string()))?;
                        writeln!(out, "{line}").map_err(|e| AppError::Io(e.to_string()))
                    })
                    .await?
                }
                ExportFormat::Csv => {
                    let mut w = csv::Writer::from_writer(out);
                    stream_log(app, &filter, |e| {
                        w.serialize(e).map_err(|e| AppError::Io(e.to_string()))
                    })
                    .await?;
                    w.flush().map_err(|e| AppError::Io(e.to_string()))?;
                }
            }
        }
    }
    Ok(())
}

async fn campaign(
    app: &Application,
    actor: &Actor,
    command: CampaignCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        CampaignCommand::Create {
            name,
            theme,
            channel,
            at,
            cron,
            from,
            until,
            fiscal_year,
        } => {
            let templates = app.templates()?;
            let request = crate::app::CampaignRequest {
                name,
                theme_slug: theme,
                channel,
                at,
                cron,
                from,
                until,
                fiscal_year,
            };
            let id = app.create_campaign(actor, &templates, &request).await?;
            say!(out, "{id}");
        }
        CampaignCommand::List => {
            for c in app.campaigns().await? {
                say!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.state.as_str(),
                    c.theme_slug,
                    c.channel,
                    c.schedule.describe(tz),
                    c.name
                );
            }
        }
        CampaignCommand::Show { id } => {
            let c = app.campaign(id).await?;
            say!(out, "campaign {}: {}", c.id, c.name);
            say!(
                out,
                "state: {}{}",
                c.state.as_str(),
                if c.state_reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.state_reason)
                }
            );
            say!(
                out,
                "theme: {}  channel: {}  template: {}",
                c.theme_slug,
                c.channel,
                c.template
            );
            say!(out, "duty: {}", c.duty);
            say!(out, "schedule: {}", c.schedule.describe(tz));
            say!(out, "next firing times:");
            let after = c.settled_ms.max(app.now());
            let next = if c.state == CampaignState::Scheduled {
                c.ticks_after(after, 5)
            } else {
                Vec::new()
            };
            if next.is_empty() {
                say!(out, "  (none)");
            }
            for t in next {
                say!(out, "  {}", format_local(t, tz));
            }
            for RunReport {
                run,
                counts: n,
                waiting,
            } in app.runs(id).await?
            {
                say!(
                    out,
                    "run {} for {} ({}): {} — {} recipients, sent {}, failed {}, waiting {}, not sent {}",
                    run.id,
                    format_local(run.scheduled_for, tz),
                    run.trigger,
                    run.status,
                    run.audience,
                    n.sent,
                    n.failed,
                    n.queued + n.sending,
                    n.cancelled
                );
                for why in waiting_reasons(app, &c, &waiting) {
                    say!(out, "  waiting: {why}");
                }
            }
        }
        CampaignCommand::Pause { id } => {
            app.set_campaign_state(actor, id, CampaignState::Paused).await?;
            say!(out, "campaign {id}: paused");
        }
        CampaignCommand::Resume { id } => {
            app.set_campaign_state(actor, id, CampaignState::Scheduled).await?;
            say!(out, "campaign {id}: scheduled");
        }
        CampaignCommand::Cancel { id } => {
            app.set_campaign_state(actor, id, CampaignState::Cancelled).await?;
            say!(out, "campaign {id}: cancelled");
        }
        CampaignCommand::SendNow { id } => match app.send_now(actor, id).await? {
            Some(run) => say!(
                out,
                "run {} started: {} recipients (sent by `serve` or `send-due`)",
                run.id,
                run.audience
            ),
            None => say!(out, "a run for this instant already exists"),
        },
    }
    Ok(())
}

/// Why a run's unsent deliveries wait, in words for staff.
fn waiting_reasons(app: &Application, c: &crate::campaigns::Campaign, waiting: &[Waiting]) -> Vec<String> {
    let tz = app.settings.schedule.tz();
    let now = app.now();
    let mut reasons = Vec::new();
    for w in waiting {
        let reply = if w.last_reply.is_empty() {
            String::new()
        } else {
            format!(" (last reply: {})", w.last_reply)
        };
        reasons.push(match (&w.held_by, c.state) {
            (Some(instance), _) => format!(
                "{} on their way with instance {instance}, lease until {}",
                w.deliveries,
                w.held_until.map_or_else(|| "?".to_owned(), |t| format_local(t, tz))
            ),
            (None, CampaignState::Paused | CampaignState::Cancelled) => {
                format!(
                    "{} queued; the campaign is {}: {}{reply}",
                    w.deliveries,
                    c.state.as_str(),
                    c.state_reason
                )
            }
            (None, _) if w.next_attempt_at > now => format!(
                "{} queued for a retry at {}{reply}",
                w.deliveries,
                format_local(w.next_attempt_at, tz)
            ),
            (None, _) => format!(
                "{} queued and due: sent by the next `serve` or `send-due`{reply}",
                w.deliveries
            ),
        });
    }
    reasons
}

fn read_input(path: &PathBuf) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|e| AppError::input(format!("{}: {e}", path.display())))
}

fn report_import(out: &mut impl Write, args: &ImportArgs, result: &crate::app::CsvImport) -> Result<(), AppError> {
    let file = args.file.display();
    for e in &result.rejected {
        eprintln!("{file}: {e}");
    }
    if !result.imported {
        if !result.rejected.is_empty() && !args.skip_invalid {
            return Err(AppError::input(format!(
                "{file}: {} bad rows; nothing imported (use --skip-invalid to import the good rows)",
                result.rejected.len()
            )));
        }
        say!(
            out,
            "{file}: dry run, {} bad rows; nothing written",
            result.rejected.len()
        );
        return Ok(());
    }
    let r = &result.report;
    say!(
        out,
        "{file}: {} created, {} updated, {} unchanged, {} rejected",
        r.created,
        r.updated,
        r.unchanged,
        result.rejected.len()
    );
    for (email, theme) in &r.kept_unsubscribed {
        say!(
            out,
            "{email}: left unsubscribed from {theme} (the member chose to leave it)"
        );
    }
    Ok(())
}

fn log_filter(app: &Application, f: &LogFilterArgs) -> Result<LogFilter, AppError> {
    let tz = app.settings.schedule.tz();
    let date = |field, value: &Option<String>, end| {
        value
            .as_deref()
            .map(|v| parse_local_date(field, v, tz, end))
            .transpose()
            .map_err(|e| AppError::input(e.to_string()))
    };
    if let Some(s) = &f.status
        && !["sent", "deferred", "failed", "skipped"].contains(&s.as_str())
    {
        return Err(AppError::input(format!(
            "--status {s:?}: expected sent, deferred, failed or skipped"
        )));
    }
    Ok(LogFilter {
        campaign_id: f.campaign,
        theme_slug: f.theme.clone(),
        channel: f.channel.map(|c| c.slug().to_owned()),
        recipient: f.recipient.clone(),
        outcome: f.status.clone(),
        from_ms: date("--from", &f.from, false)?,
        to_ms: date("--to", &f.to, true)?.map(|t| t + 1),
    })
}

/// Pages through the log so an export of millions of rows never holds them all.
async fn stream_log(
    app: &Application,
    filter: &LogFilter,
    mut each: impl FnMut(&LogEntry) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let mut after = 0;
    loop {
        let page = app.send_log(filter, after, 1000).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.id;
        for entry in &page {
            each(entry)?;
        }
    }
}

/// A bar on a terminal; nothing when the output is a file or a pipe (cron, CI).
fn progress_bar() -> ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} mails  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
