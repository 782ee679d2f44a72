//! `outreach log …` (the send log) and `outreach actions list` (the staff-action log).

use std::io::Write;

use crate::Application;
use crate::domain::campaign::local_day;
use crate::domain::campaign::schedule::{format_iso, format_local};
use crate::domain::{Field, FieldError, Outcome, Problem};
use crate::error::AppError;
use crate::store::{ActionFilter, LogEntry, LogFilter};

use super::args::{ActionsCommand, ActionsFormat, ExportFormat, LogCommand, LogFilterArgs};
use crate::export::{ACTION_COLUMNS, LOG_COLUMNS, SafeCsv, action_row, log_row};

pub(super) async fn log(app: &Application, command: LogCommand, out: &mut impl Write) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        LogCommand::List(filter) => {
            let filter = log_filter(app, &filter)?;
            app.check_log_filter(&filter).await?;
            stream_log(app, &filter, |e| {
                let line = format!(
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
                );
                // The mail server's reply and the recipient are stored text: escaped like every other line.
                writeln!(out, "{}", crate::domain::text::printable(&line)).map_err(super::output_error)
            })
            .await?;
        }
        LogCommand::Export {
            format,
            encoding,
            filter,
        } => {
            let filter = log_filter(app, &filter)?;
            app.check_log_filter(&filter).await?;
            match format {
                ExportFormat::Jsonl => {
                    stream_log(app, &filter, |e| {
                        let mut entry = serde_json::to_value(e).map_err(|e| AppError::Io(e.to_string()))?;
                        entry["at"] = format_iso(e.at, tz).into();
                        writeln!(out, "{entry}").map_err(super::output_error)
                    })
                    .await?
                }
                ExportFormat::Csv => {
                    let mut w = SafeCsv::new(out, encoding);
                    w.write(LOG_COLUMNS)?;
                    stream_log(app, &filter, |e| w.write(log_row(e, tz))).await?;
                }
            }
        }
    }
    Ok(())
}

pub(super) async fn actions(app: &Application, command: ActionsCommand, out: &mut impl Write) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        ActionsCommand::List {
            actor,
            action,
            since,
            format,
            encoding,
        } => {
            let since_ms = since
                .as_deref()
                .map(|d| local_day(Field::Since, d, tz, false))
                .transpose()?;
            let filter = ActionFilter {
                actor,
                action,
                since_ms,
                ..ActionFilter::default()
            };
            let actions = app.actions(&filter).await?;
            if let ActionsFormat::Csv = format {
                let mut w = SafeCsv::new(out, encoding);
                w.write(ACTION_COLUMNS)?;
                for a in actions {
                    w.write(action_row(&a, tz))?;
                }
                return Ok(());
            }
            for a in actions {
                match format {
                    ActionsFormat::Json | ActionsFormat::Csv => say!(out, "{}", a.canonical()),
                    ActionsFormat::Table => say!(
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
    }
    Ok(())
}

fn log_filter(app: &Application, f: &LogFilterArgs) -> Result<LogFilter, AppError> {
    let tz = app.settings.schedule.tz();
    let date = |field, value: &Option<String>, end| value.as_deref().map(|v| local_day(field, v, tz, end)).transpose();
    let outcome = f
        .status
        .as_deref()
        .map(|s| Outcome::parse(s).ok_or_else(|| FieldError::new(Field::Status, Problem::UnknownOutcome(s.to_owned()))))
        .transpose()?;
    Ok(LogFilter {
        campaign_id: f.campaign,
        theme_slug: f.theme.clone(),
        channel: f.channel.map(|c| c.slug().to_owned()),
        recipient: f.recipient.clone(),
        outcome,
        from_ms: date(Field::From, &f.from, false)?,
        to_ms: date(Field::To, &f.to, true)?.map(|t| t + 1),
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
