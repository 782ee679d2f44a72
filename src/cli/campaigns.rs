//! `outreach campaign …`.

use std::io::Write;

use crate::Application;
use crate::domain::Actor;
use crate::domain::campaign::CampaignState;
use crate::domain::campaign::schedule::format_local;
use crate::error::AppError;
use crate::services::RunReport;
use crate::store::Waiting;

use super::args::CampaignCommand;

pub(super) async fn campaign(
    app: &Application,
    actor: &Actor,
    command: CampaignCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    let tz = app.settings.schedule.tz();
    match command {
        CampaignCommand::Create {
            name,
            title,
            issue,
            theme,
            channel,
            at,
            cron,
            from,
            until,
            fiscal_year,
        } => {
            let templates = app.templates()?;
            let request = crate::services::CampaignRequest {
                name,
                title,
                issue,
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
                if c.state_reason.is_none() {
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
            match &c.title {
                Some(title) => say!(out, "title: {title}"),
                None => {
                    let theme = app
                        .plan(Some(c.fiscal_year))
                        .await?
                        .theme(&c.theme_slug)
                        .map(|t| t.title_ja.clone());
                    say!(out, "title: (the theme's title) {}", theme.unwrap_or_default());
                }
            }
            if c.channel == crate::domain::plan::Channel::ToshoShimbun {
                say!(
                    out,
                    "issue: {}",
                    c.issue.as_deref().unwrap_or("(none given: an upcoming issue, no date)")
                );
            }
            say!(out, "duty: {}", c.duty);
            say!(out, "schedule: {}", c.schedule.describe(tz));
            if c.from_ms.is_some() || c.until_ms.is_some() {
                let bound = |ms: Option<i64>| ms.map_or_else(|| "(open)".to_owned(), |ms| format_local(ms, tz));
                say!(out, "fires only: from {} until {}", bound(c.from_ms), bound(c.until_ms));
            }
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
fn waiting_reasons(app: &Application, c: &crate::domain::campaign::Campaign, waiting: &[Waiting]) -> Vec<String> {
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
