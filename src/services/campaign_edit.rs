//! Editing a campaign that has not ended: its internal name, what members see (title, issue) and its schedule.
//! Theme and channel stay: they decide the audience and the duty, and a change of them is another campaign.
//! A new schedule only fires from now on — ticks already past are settled, never fired late because of an edit.

use serde_json::{Value, json};

use super::Application;
use crate::domain::campaign::{Campaign, CampaignEdit, CampaignState};
use crate::domain::{Actor, Refusal};
use crate::error::AppError;
use crate::mail::Templates;
use crate::store;

impl Application {
    /// The campaign as it is and as the edit would make it, checked under the domain's rules; nothing is stored.
    pub async fn check_edit(&self, id: i64, edit: &CampaignEdit) -> Result<(Campaign, Campaign), AppError> {
        let old = self.campaign(id).await?;
        if !matches!(old.state, CampaignState::Scheduled | CampaignState::Paused) {
            return Err(Refusal::NotEditable { id, state: old.state }.into());
        }
        let new = edit.apply(&old, self.zone(), self.now())?;
        Ok((old, new))
    }

    /// Changes a scheduled or paused campaign; false when nothing differs (nothing is recorded).
    pub async fn edit_campaign(
        &self,
        actor: &Actor,
        templates: &Templates,
        id: i64,
        edit: &CampaignEdit,
    ) -> Result<bool, AppError> {
        let tz = self.settings.schedule.tz();
        let (old, new) = self.check_edit(id, edit).await?;
        let now = self.now();
        let changes = differences(&old, &new, tz);
        if changes.is_empty() {
            return Ok(false);
        }
        let plan = self.plan(Some(new.fiscal_year)).await?;
        self.check_renders(
            templates,
            &plan,
            &new.theme_slug,
            new.channel,
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
            Err(Refusal::EndedWhileEdited { id }.into())
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
