//! Running the service and looking after it: init, serve, send-due, instances, reload, run retry, templates.

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use std::io::Write;

use crate::Application;
use crate::domain::Actor;
use crate::domain::campaign::schedule::format_local;
use crate::domain::member::Locale;
use crate::domain::plan::Channel;
use crate::error::AppError;
use crate::runtime::{self, Progress, SendDue};
use crate::services::Preview;

use super::args::{Command, RunCommand, TemplateCommand};

/// The commands that run or look after the service (the others go to their groups).
pub(super) async fn ops(
    app: &Arc<Application>,
    actor: &Actor,
    command: Command,
    shutdown: Option<Shutdown>,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let shutdown = || shutdown.unwrap_or_else(Shutdown::install).requested();
    let tz = app.settings.schedule.tz();
    match command {
        Command::Init => {
            for line in app.init(actor).await? {
                say!(out, "{line}");
            }
            let s = &app.settings;
            say!(out, "ready: {}", crate::config::redact_url(&s.database.url));
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
            runtime::serve(app.clone(), shutdown()).await?;
        }
        Command::Web => {
            let listener = crate::web::bind(app).await?;
            crate::web::serve(app.clone(), listener, shutdown()).await?;
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
            let SendDue {
                tick,
                summary,
                held,
                sealed,
                seal_time,
            } = done?;
            for run in &tick.fired {
                say!(
                    out,
                    "run {} of campaign {} started: {} recipients",
                    run.id,
                    run.campaign_id,
                    run.audience
                );
            }
            for crate::runtime::SkippedTick {
                campaign_id: campaign,
                tick: at,
                why,
            } in &tick.skipped
            {
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
            say!(
                out,
                "sealed {sealed} entries into the audit log in {:.2}s",
                seal_time.as_secs_f64()
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
        Command::Template(TemplateCommand::Check) => {
            let templates = app.templates()?;
            let plan = app.plan(None).await?;
            let mut checked = 0;
            for theme in &plan.themes {
                for channel in Channel::ALL {
                    if theme.duty_for(channel).is_none() {
                        continue;
                    }
                    // Newsletters in each language members read; the other channels in Japanese.
                    let locales: &[Locale] = match channel {
                        Channel::Newsletter => &[Locale::Ja, Locale::En],
                        _ => &[Locale::Ja],
                    };
                    for &locale in locales {
                        let preview = Preview {
                            theme_slug: &theme.slug,
                            channel,
                            member: None,
                            locale: Some(locale),
                            fiscal_year: None,
                            title: None,
                            issue: None,
                            campaign_id: None,
                        };
                        app.preview(actor, &templates, &preview).await?;
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
            locale,
            fiscal_year,
        } => {
            let templates = app.templates()?;
            let preview = Preview {
                theme_slug: &theme,
                channel,
                member: member.as_deref(),
                locale,
                fiscal_year,
                title: None,
                issue: None,
                campaign_id: None,
            };
            let mail = app.preview(actor, &templates, &preview).await?;
            say!(out, "Subject: {}", mail.subject);
            say!(out, "");
            say!(out, "--- text ---");
            for line in mail.text.lines() {
                say!(out, "{line}");
            }
            say!(out, "--- html ---");
            for line in mail.html.lines() {
                say!(out, "{line}");
            }
        }
        other => return Err(AppError::Internal(format!("not an operations command: {other:?}"))),
    }
    Ok(())
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

/// SIGTERM and Ctrl-C, caught from the start of the process: a `serve` told to stop while it is still starting
/// stops cleanly (exit 0) instead of dying of the signal before its handler exists.
pub(super) struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    /// Catches the signals from now on (call it first thing, before opening the database).
    pub(super) fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Shutdown {
                signals: signal(SignalKind::terminate())
                    .ok()
                    .zip(signal(SignalKind::interrupt()).ok()),
            }
        }
        #[cfg(not(unix))]
        Shutdown {}
    }

    /// Resolves at the first signal, including one that came before this was awaited.
    pub(super) async fn requested(self) {
        #[cfg(unix)]
        if let Some((mut term, mut interrupt)) = self.signals {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
