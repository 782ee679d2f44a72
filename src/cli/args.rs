//! The command line's arguments: commands, options and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::member::Locale;
use crate::domain::plan::Channel;
use crate::export::Encoding;

#[derive(Debug, Parser)]
#[command(
    name = "outreach",
    version,
    about = "Awareness campaigns of the Tokyo Chamber of Commerce and Industry"
)]
pub struct Cli {
    /// A TOML file layered over the embedded defaults (environment variables OUTREACH_<SECTION>__<KEY> win).
    #[arg(long, global = true, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
    /// The data folder: relative paths of the SQLite database, the outbox and the signing key are read in it.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "OUTREACH_DATA_DIR",
        default_value = "data"
    )]
    pub(super) data_dir: PathBuf,
    /// Who is acting, for the staff-action log (default: the login name).
    #[arg(long = "as", global = true, value_name = "EMAIL")]
    pub(super) actor: Option<String>,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Create the database, import the shipped plan if none exists, create the signing key.
    Init,
    /// Run the scheduler and the delivery worker until SIGTERM or Ctrl-C.
    Serve,
    /// Serve only the member pages (one-click unsubscribe), for deployments that run them apart from `serve`.
    Web,
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
        /// A theme slug of the plan (`outreach plan show`), e.g. telework.
        #[arg(long)]
        theme: String,
        /// newsletter, tosho-shimbun or advisor-handout.
        #[arg(long)]
        channel: Channel,
        /// Render for this member instead of a sample recipient.
        #[arg(long)]
        member: Option<String>,
        /// Render in this language: ja or en (default: the member's, else ja; English is for newsletters).
        #[arg(long)]
        locale: Option<Locale>,
        /// The plan's fiscal year (default: the latest plan).
        #[arg(long)]
        fiscal_year: Option<i32>,
    },
    /// Campaigns.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// The send log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Accounts that sign in to the web pages.
    #[command(subcommand)]
    User(super::accounts::UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(super::accounts::TokenCommand),
    /// The verifiable audit log: its key, checkpoints, verification, proofs and export.
    #[command(subcommand)]
    Audit(super::audit::AuditCommand),
}

#[derive(Debug, Subcommand)]
pub(super) enum ActionsCommand {
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
        /// table, json (one canonical object per line) or csv.
        #[arg(long, value_enum, default_value = "table")]
        format: ActionsFormat,
        /// For csv: utf-8-bom (what Excel in Japan opens), utf-8 or shift_jis.
        #[arg(long, value_enum, default_value_t)]
        encoding: Encoding,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum ActionsFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub(super) enum RunCommand {
    /// Queue a run's failed deliveries again (never the sent ones).
    Retry {
        /// The run's id (`outreach campaign show ID` lists the runs).
        run: i64,
        /// Required: says that the failed deliveries are what is queued again.
        #[arg(long)]
        failed: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum PlanCommand {
    /// Import a plan table exactly as published (tab-separated, HTML fragments in cells).
    Import {
        /// The plan table (TSV).
        file: PathBuf,
        /// The fiscal year it plans (the title's year must agree).
        #[arg(long)]
        fiscal_year: i32,
        /// Replace a plan already imported for the year from another file.
        #[arg(long)]
        replace: bool,
    },
    /// Themes, the Chamber's duties and the channels of each duty.
    Show {
        /// The plan's fiscal year (default: the latest plan).
        #[arg(long)]
        fiscal_year: Option<i32>,
        /// table or json.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// The CSV file (UTF-8, UTF-8 with BOM or Shift_JIS, as Excel saves it).
    pub(super) file: PathBuf,
    /// Check the file and report, write nothing.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Import the good rows and report the bad ones (default: any bad row rejects the whole file).
    #[arg(long)]
    pub(super) skip_invalid: bool,
}

#[derive(Debug, Subcommand)]
pub(super) enum MembersCommand {
    /// Import members from CSV: email,company,contact_name,themes,locale.
    Import(ImportArgs),
    /// Members with their state and themes.
    List {
        /// Only members subscribed to this theme.
        #[arg(long)]
        theme: Option<String>,
    },
    /// All members as CSV on standard output, safe to open in Excel.
    Export {
        /// Only the columns `members import` reads (members with at least one theme), to edit and import back.
        #[arg(long)]
        for_import: bool,
        /// utf-8-bom (what Excel in Japan opens), utf-8 or shift_jis.
        #[arg(long, value_enum, default_value_t)]
        encoding: Encoding,
    },
    /// A member, their themes and the history of every change (when, what, how).
    Show {
        /// The member's address (any case).
        email: String,
    },
    /// Unsubscribe a member from one theme, or from everything.
    Unsubscribe {
        /// The member's address (any case).
        email: String,
        /// Only this theme (default: everything).
        #[arg(long)]
        theme: Option<String>,
    },
    /// Stop all mail to a member (for example a bounced address).
    Suppress {
        /// The member's address (any case).
        email: String,
        /// Why, kept in the member's history (required).
        #[arg(long)]
        reason: String,
    },
    /// Lift a suppression (for example one caused by a mail server's own fault); kept in the history.
    Unsuppress {
        /// The member's address (any case).
        email: String,
        /// Why, kept in the member's history (required).
        #[arg(long)]
        reason: String,
    },
    /// Erase a member's personal data on request (APPI, GDPR): unsubscribed from everything, then their address
    /// and names replaced by a pseudonym in every record; the audit log still verifies. Cannot be undone.
    Erase {
        /// The member's address (any case).
        email: String,
        /// Why, kept in the action log (required).
        #[arg(long)]
        reason: String,
        /// Say what would change, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum AdvisorsCommand {
    /// Import advisors from CSV: email,name,branch.
    Import(ImportArgs),
    /// Every advisor with their state (active or inactive).
    List,
    /// Stop sending handouts to an advisor; they stay in the list and the log.
    Deactivate {
        /// The advisor's address (any case).
        email: String,
    },
    /// Send handouts to an inactive advisor again.
    Activate {
        /// The advisor's address (any case).
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TemplateCommand {
    /// Compile every template and render each mail for a sample recipient.
    Check,
}

#[derive(Debug, Subcommand)]
pub(super) enum CampaignCommand {
    /// Create a campaign; prints its id.
    #[command(after_help = CREATE_HELP)]
    Create {
        /// What staff call it; never shown to members (they see --title).
        #[arg(long)]
        name: String,
        /// Title members see in the mail's banner (default: the theme's title; English mails keep the theme's).
        #[arg(long)]
        title: Option<String>,
        /// For tosho-shimbun: the issue the manuscript is for, e.g. 6月1日号 (default: an upcoming issue).
        #[arg(long)]
        issue: Option<String>,
        /// A theme slug of the plan (`outreach plan show`), e.g. telework.
        #[arg(long)]
        theme: String,
        /// newsletter, tosho-shimbun or advisor-handout.
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
        /// The plan's fiscal year (default: the latest plan).
        #[arg(long)]
        fiscal_year: Option<i32>,
    },
    /// Every campaign with its state and schedule.
    List,
    /// A campaign, its next five firing times and its runs.
    Show {
        /// The campaign's id.
        id: i64,
    },
    /// Pause a campaign: nothing fires and nothing queued goes out until it is resumed.
    Pause {
        /// The campaign's id.
        id: i64,
    },
    /// Resume a paused campaign; ticks missed while paused are not fired.
    Resume {
        /// The campaign's id.
        id: i64,
    },
    /// Cancel a campaign for good: it never fires again and what is queued is not sent.
    Cancel {
        /// The campaign's id.
        id: i64,
    },
    /// Start a run now, outside the schedule.
    SendNow {
        /// The campaign's id.
        id: i64,
    },
}

/// After `campaign create --help`: what to choose from, and two examples.
const CREATE_HELP: &str = "\
Themes: work-style-reform, telework, smooth-biz, life-work-balance, women-advancement, volunteer-leave,
sme-talent (the configured seven; `outreach plan show` lists those of the imported plan).
Channels: newsletter (the e-mail magazine, to members of the theme), tosho-shimbun (a manuscript to the
editorial desk), advisor-handout (materials to the business advisors).

Examples:
  One time, 1 June 2020 at 9:00 Tokyo time:
    outreach campaign create --name \"テレワーク 6月号\" --theme telework --channel newsletter --at 2020-06-01T09:00
  Every month on the first Monday at 9:00, within the fiscal year:
    outreach campaign create --name \"テレワーク 月例\" --theme telework --channel newsletter \\
      --cron \"0 9 * * MON#1\" --from 2020-04-01 --until 2021-03-31";

#[derive(Debug, Args)]
pub(super) struct LogFilterArgs {
    /// Only this campaign's mails.
    #[arg(long)]
    pub(super) campaign: Option<i64>,
    /// Only this theme's mails.
    #[arg(long)]
    pub(super) theme: Option<String>,
    /// Only this channel's mails: newsletter, tosho-shimbun or advisor-handout.
    #[arg(long)]
    pub(super) channel: Option<Channel>,
    /// Only mails to this address.
    #[arg(long)]
    pub(super) recipient: Option<String>,
    /// sent, deferred, failed or skipped.
    #[arg(long)]
    pub(super) status: Option<String>,
    /// From this day (YYYY-MM-DD, configured zone).
    #[arg(long)]
    pub(super) from: Option<String>,
    /// Up to and including this day.
    #[arg(long)]
    pub(super) to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(super) enum LogCommand {
    /// Every attempt, oldest first: when, outcome, campaign, recipient, Message-ID, the server's reply.
    List(LogFilterArgs),
    /// Stream the log as CSV or JSON lines.
    Export {
        /// csv (safe to open in Excel) or jsonl (one JSON object per line).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// For csv: utf-8-bom (what Excel in Japan opens), utf-8 or shift_jis.
        #[arg(long, value_enum, default_value_t)]
        encoding: Encoding,
        #[command(flatten)]
        filter: LogFilterArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum ExportFormat {
    Csv,
    Jsonl,
}
