//! Editing a campaign that has not ended: its internal name, what members see (title, issue) and its schedule.
//! Theme and channel stay: they decide the audience and the duty, and a change of them is another campaign.
//! A new schedule only fires from now on — ticks already past are settled, never fired late because of an edit.

use serde_json::{Value, json};

use super::Application;
use crate::domain::Actor;
use crate::domain::campaign::schedule::parse_local_datetime;
use crate::domain::campaign::{Campaign, CampaignState, Schedule};
use crate::domain::plan::Channel;
use crate::domain::text;
use crate::error::AppError;
use crate::mail::Templates;
use crate::store;

/// What staff change; `None` in title or issue means the default (the theme's title, an upcoming issue).
#[derive(Debug, Clone)]
pub struct CampaignEdit {
    pub name: String,
    pub title: Option<String>,
    pub issue: Option<String>,
    pub at: Option<String>,
    pub cron: Option<String>,
}

impl Application {
    /// Changes a scheduled or paused campaign; false when nothing differs (nothing is recorded).
    pub async fn edit_campaign(
        &self,
        actor: &Actor,
        templates: &Templates,
        id: i64,
        edit: &CampaignEdit,
    ) -> Result<bool, AppError> {
        let tz = self.settings.schedule.tz();
        let old = self
            .store
            .campaign(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no campaign {id}")))?;
        if !matches!(old.state, CampaignState::Scheduled | CampaignState::Paused) {
            return Err(AppError::Conflict(format!(
                "campaign {id} is {}: only a scheduled or paused campaign can be edited",
                old.state.as_str()
            )));
        }
        let name = text::CAMPAIGN_NAME.required(&edit.name)?;
        let title = text::TITLE.optional(edit.title.as_deref())?.map(str::to_owned);
        let issue = text::ISSUE.optional(edit.issue.as_deref())?.map(str::to_owned);
        if issue.is_some() && old.channel != Channel::ToshoShimbun {
            return Err(AppError::input(
                "--issue names the Tosho Shimbun issue a manuscript is for: only for tosho-shimbun campaigns",
            ));
        }
        let input = |e: crate::domain::campaign::ScheduleError| AppError::input(e.to_string());
        let schedule = match (&edit.at, &edit.cron) {
            (Some(at), None) => Schedule::Once {
                at_ms: parse_local_datetime("--at", at, tz).map_err(input)?,
            },
            (None, Some(expr)) => Schedule::cron(expr, &self.settings.schedule.time_zone).map_err(input)?,
            _ => return Err(AppError::input("give exactly one of --at and --cron")),
        };
        let now = self.now();
        let new = Campaign {
            name: name.to_owned(),
            title,
            issue,
            schedule,
            settled_ms: old.settled_ms.max(now),
            ..old.clone()
        };
        if new.ticks_after(new.settled_ms, 1).is_empty() {
            return Err(AppError::input(format!(
                "the schedule {} never fires from now on",
                new.schedule.describe(tz)
            )));
        }
        let changes = differences(&old, &new, tz);
        if changes.is_empty() {
            return Ok(false);
        }
        self.check_renders(
            templates,
            &new.theme_slug,
            new.channel,
            new.fiscal_year,
            new.title.as_deref(),
            new.issue.as_deref(),
        )
        .await?;
        let mut action = self.permitted(actor, "campaign.edit", format!("campaign {id}"))?;
        for (field, change) in changes {
            action = action.with(field, change);
        }
        let edited = self
            .store
            .change(now, async |tx| {
                let done = store::campaigns::edit(tx, &new, now).await?;
                Ok((done, done.then_some(action)))
            })
            .await?;
        if edited {
            Ok(true)
        } else {
            Err(AppError::Conflict(format!(
                "campaign {id} ended while it was being edited; nothing changed"
            )))
        }
    }
}

/// What an edit changes, field by field, as `[before, after]`.
fn differences(old: &Campaign, new: &Campaign, tz: chrono_tz::Tz) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let mut compare = |field: &'static str, before: String, after: String| {
        if before != after {
            out.push((field, json!([before, after])));
        }
    };
    compare("name", old.name.clone(), new.name.clone());
    compare(
        "title",
        old.title.clone().unwrap_or_default(),
        new.title.clone().unwrap_or_default(),
    );
    compare(
        "issue",
        old.issue.clone().unwrap_or_default(),
        new.issue.clone().unwrap_or_default(),
    );
    compare("schedule", old.schedule.describe(tz), new.schedule.describe(tz));
    out
}
