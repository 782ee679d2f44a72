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

/// `writeln!` to the command's output, a failed write being the command's error.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, $($arg)*).map_err(|e| AppError::Io(e.to_string()))?
    };
}

mod args;
mod campaigns;
mod export;
mod log;
mod members;
mod ops;
mod plan;

pub use args::Cli;
use args::Command;

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

async fn dispatch(
    app: &Arc<Application>,
    actor: &Actor,
    command: Command,
    out: &mut impl Write,
) -> Result<(), AppError> {
    match command {
        Command::Plan(c) => plan::plan(app, actor, c, out).await,
        Command::Members(c) => members::members(app, actor, c, out).await,
        Command::Advisors(c) => members::advisors(app, actor, c, out).await,
        Command::Campaign(c) => campaigns::campaign(app, actor, c, out).await,
        Command::Log(c) => log::log(app, c, out).await,
        Command::Actions(c) => log::actions(app, c, out).await,
        other => ops::ops(app, actor, other, out).await,
    }
}
