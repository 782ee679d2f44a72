//! The command line: parses arguments, calls the application, prints results. Exit codes: see [`AppError`].
//! One file per command group; `args.rs` holds the commands and their help.

use std::io::Write;
use std::sync::Arc;

use clap::Parser;

use crate::Application;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::domain::Actor;
use crate::error::AppError;

/// One line to the command's output, a failed write being the command's error. Control characters in it are
/// escaped (`domain::text::printable`): stored text may come from old rows or the mail server, and must not forge
/// a line or change the terminal's colours. A line break is written as a second `say!`.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, "{}", $crate::domain::text::printable(&format!($($arg)*))).map_err($crate::cli::output_error)?
    };
}

mod accounts;
mod args;
mod audit;
mod campaigns;
mod log;
mod members;
mod ops;
mod plan;

pub use args::Cli;
use args::Command;

/// The log filter when `OUTREACH_LOG` is not set: the scheduler library's start-up chatter is left out.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tokio_cron_scheduler=warn";

/// Logs to standard error, filtered by `OUTREACH_LOG` (default [`DEFAULT_LOG_FILTER`]): one JSON object
/// per line with `OUTREACH_LOG_FORMAT=json` (for log collectors), otherwise text, in colour only at a terminal
/// (never escape codes in a log file or journald).
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("OUTREACH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("OUTREACH_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

/// Runs the command line and returns the process exit code (README, Exit codes).
pub async fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and exit 0; a usage error is bad input like any other (1).
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    match execute(cli).await {
        Ok(()) => 0,
        // The reader went away (`outreach log list | head`): not an error worth a word.
        Err(AppError::OutputClosed) => 0,
        Err(e) => {
            // Each problem of a request on its own line, naming the field by its option.
            let lines = match &e {
                AppError::Invalid(invalid) => invalid.problems().iter().map(ToString::to_string).collect(),
                other => vec![other.to_string()],
            };
            for line in lines {
                eprintln!("error: {}", crate::domain::text::printable(&line));
            }
            e.exit_code()
        }
    }
}

/// A failed write to the command's output; a closed pipe is told apart, so it ends quietly.
pub(crate) fn output_error(e: std::io::Error) -> AppError {
    crate::export::output_error(e)
}

async fn execute(cli: Cli) -> Result<(), AppError> {
    // Before anything slow: a serve stopped while it starts must still stop cleanly. Only the long-running
    // commands catch the signals; any other is stopped by them as usual.
    let shutdown = matches!(cli.command, Command::Serve | Command::Web).then(ops::Shutdown::install);
    let settings = Settings::load(cli.config.as_deref(), &cli.data_dir)?;
    let app = Arc::new(Application::open(settings, Arc::new(SystemClock)).await?);
    let mut out = std::io::stdout().lock();
    let actor = Actor::from_login(cli.actor.as_deref());
    let result = dispatch(&app, &actor, cli.command, shutdown, &mut out).await;
    out.flush().map_err(output_error)?;
    result
}

async fn dispatch(
    app: &Arc<Application>,
    actor: &Actor,
    command: Command,
    shutdown: Option<ops::Shutdown>,
    out: &mut impl Write,
) -> Result<(), AppError> {
    match command {
        Command::Plan(c) => plan::plan(app, actor, c, out).await,
        Command::Members(c) => members::members(app, actor, c, out).await,
        Command::Advisors(c) => members::advisors(app, actor, c, out).await,
        Command::Campaign(c) => campaigns::campaign(app, actor, c, out).await,
        Command::Log(c) => log::log(app, c, out).await,
        Command::Actions(c) => log::actions(app, c, out).await,
        Command::User(c) => accounts::user(app, actor, c, out).await,
        Command::Token(c) => accounts::token(app, actor, c, out).await,
        Command::Audit(c) => audit::audit(app, actor, c, out).await,
        other => ops::ops(app, actor, other, shutdown, out).await,
    }
}
