//! `outreach members …` and `outreach advisors …`.

use std::io::Write;

use crate::Application;
use crate::domain::campaign::schedule::format_local;
use crate::domain::{Actor, MemberStatus};
use crate::error::AppError;

use super::args::{AdvisorsCommand, ImportArgs, MembersCommand};
use crate::export::SafeCsv;

pub(super) async fn members(
    app: &Application,
    actor: &Actor,
    command: MembersCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        MembersCommand::Import(args) => {
            let bytes = read_input(&args.file)?;
            let result = app
                .import_members(actor, &bytes, args.dry_run, args.skip_invalid)
                .await
                .map_err(|e| in_file(e, &args))?;
            report_import(out, &args, &result)?;
        }
        MembersCommand::List { theme } => {
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
        MembersCommand::Export { for_import, encoding } => {
            let mut w = SafeCsv::new(out, encoding);
            if for_import {
                w.write(["email", "company", "contact_name", "themes", "locale"])?;
            } else {
                w.write(["email", "company", "contact_name", "themes", "locale", "status"])?;
            }
            let mut left_out = 0;
            for m in app.members(None).await? {
                let themes = m.themes.join(";");
                if !for_import {
                    w.write([
                        &m.email,
                        &m.company,
                        &m.contact_name,
                        &themes,
                        &m.locale,
                        m.status.as_str(),
                    ])?;
                } else if m.status == MemberStatus::Active && !m.themes.is_empty() {
                    w.write([&m.email, &m.company, &m.contact_name, &themes, &m.locale])?;
                } else {
                    left_out += 1;
                }
            }
            if left_out > 0 {
                eprintln!("left out {left_out} members who receive nothing (unsubscribed or suppressed)");
            }
        }
        MembersCommand::Show { email } => {
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
        MembersCommand::Unsubscribe { email, theme } => {
            let from = theme.as_deref().unwrap_or("everything");
            if app.unsubscribe(actor, &email, theme.as_deref()).await? {
                say!(out, "{email}: unsubscribed from {from}");
            } else {
                say!(out, "{email}: already unsubscribed from {from}; nothing changed");
            }
        }
        MembersCommand::Unsuppress { email, reason } => {
            app.unsuppress(actor, &email, &reason).await?;
            say!(out, "{email}: suppression lifted");
        }
        MembersCommand::Suppress { email, reason } => {
            if app.suppress(actor, &email, &reason).await? {
                say!(out, "{email}: suppressed");
            } else {
                say!(out, "{email}: already suppressed; nothing changed");
            }
        }
        MembersCommand::Erase { email, reason, dry_run } => {
            let erased = app.erase_member(actor, &email, &reason, dry_run).await?;
            let verb = if dry_run { "would replace" } else { "replaced" };
            say!(
                out,
                "{email}: {verb} the personal data with a pseudonym in {} send-log rows, {} actions, {} consent \
                 reasons and {} deliveries, and in the member record",
                erased.send_log,
                erased.actions,
                erased.consent,
                erased.deliveries
            );
        }
    }
    Ok(())
}

pub(super) async fn advisors(
    app: &Application,
    actor: &Actor,
    command: AdvisorsCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    match command {
        AdvisorsCommand::Import(args) => {
            let bytes = read_input(&args.file)?;
            let result = app
                .import_advisors(actor, &bytes, args.dry_run, args.skip_invalid)
                .await
                .map_err(|e| in_file(e, &args))?;
            report_import(out, &args, &result)?;
        }
        AdvisorsCommand::List => {
            for a in app.advisors().await? {
                let state = if a.active { "active" } else { "inactive" };
                say!(out, "{}\t{}\t{}\t{state}", a.email, a.name, a.branch);
            }
        }
        AdvisorsCommand::Deactivate { email } => {
            if app.set_advisor_active(actor, &email, false).await? {
                say!(out, "{email}: deactivated; no more handouts");
            } else {
                say!(out, "{email}: already inactive; nothing changed");
            }
        }
        AdvisorsCommand::Activate { email } => {
            if app.set_advisor_active(actor, &email, true).await? {
                say!(out, "{email}: active again");
            } else {
                say!(out, "{email}: already active; nothing changed");
            }
        }
    }
    Ok(())
}

fn read_input(path: &std::path::Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|e| AppError::input(format!("{}: {e}", path.display())))
}

/// A refusal of the whole file names the file, as row errors do.
fn in_file(e: AppError, args: &ImportArgs) -> AppError {
    match e {
        AppError::Input(m) => AppError::Input(format!("{}: {m}", args.file.display())),
        AppError::Csv(row) => AppError::Input(format!("{}: {row}", args.file.display())),
        other => other,
    }
}

fn report_import(out: &mut impl Write, args: &ImportArgs, result: &crate::services::CsvImport) -> Result<(), AppError> {
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
