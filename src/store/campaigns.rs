//! Campaigns and their state.

use sqlx::{AssertSqlSafe, Row};

use super::sql::*;
use super::*;
use crate::domain::Action;
use crate::domain::campaign::{Campaign, CampaignState, NewCampaign, Schedule};

impl Store {
    /// [`transition`] and its action, in one transaction; false when the campaign is in none of `t.from`.
    pub async fn transition(&self, id: i64, t: &Transition<'_>, now: i64, action: Action) -> StoreResult<bool> {
        self.change(now, async move |tx| {
            let moved = transition(tx, id, t, now).await?;
            Ok((moved, moved.then_some(action)))
        })
        .await
    }

    pub async fn campaign(&self, id: i64) -> StoreResult<Option<Campaign>> {
        sqlx::query("SELECT * FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(campaign_from)
            .transpose()
    }

    pub async fn campaigns(&self) -> StoreResult<Vec<Campaign>> {
        sqlx::query("SELECT * FROM campaigns ORDER BY id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(campaign_from)
            .collect()
    }

    pub async fn scheduled_campaigns(&self) -> StoreResult<Vec<Campaign>> {
        sqlx::query("SELECT * FROM campaigns WHERE state = 'scheduled' ORDER BY id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(campaign_from)
            .collect()
    }

    pub async fn settle(&self, id: i64, previous_ms: i64, settled_ms: i64) -> StoreResult<bool> {
        Ok(
            sqlx::query("UPDATE campaigns SET settled_ms = $1 WHERE id = $2 AND settled_ms = $3")
                .bind(settled_ms)
                .bind(id)
                .bind(previous_ms)
                .execute(self.pool())
                .await?
                .rows_affected()
                == 1,
        )
    }
}

pub async fn create_campaign(tx: &mut Tx, c: &NewCampaign, now: i64) -> StoreResult<i64> {
    let (at_ms, cron, time_zone) = match &c.schedule {
        Schedule::Once { at_ms } => (Some(*at_ms), None, String::new()),
        Schedule::Cron { expr, time_zone, .. } => (None, Some(expr.clone()), time_zone.clone()),
    };
    let id: i64 = sqlx::query(
        "INSERT INTO campaigns (name, fiscal_year, theme_slug, duty, channel, template, at_ms, cron, time_zone, \
         from_ms, until_ms, state, state_reason, settled_ms, created_at, updated_at, title, issue) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'scheduled', '', $12, $13, $13, $14, $15) \
         RETURNING id",
    )
    .bind(c.name.clone())
    .bind(i64::from(c.fiscal_year))
    .bind(c.theme_slug.clone())
    .bind(c.duty.clone())
    .bind(c.channel.slug())
    .bind(c.template.clone())
    .bind(at_ms)
    .bind(cron)
    .bind(time_zone)
    .bind(c.from_ms)
    .bind(c.until_ms)
    .bind(c.settled_ms)
    .bind(now)
    // Empty when not given: the mail shows the theme's title, the manuscript an upcoming issue.
    .bind(c.title.clone().unwrap_or_default())
    .bind(c.issue.clone().unwrap_or_default())
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    Ok(id)
}

/// Stores an edit of a scheduled or paused campaign (name, title, issue, schedule, settled mark); false when it
/// has ended meanwhile.
pub async fn edit(tx: &mut Tx, c: &Campaign, now: i64) -> StoreResult<bool> {
    let (at_ms, cron, time_zone) = match &c.schedule {
        Schedule::Once { at_ms } => (Some(*at_ms), None, String::new()),
        Schedule::Cron { expr, time_zone, .. } => (None, Some(expr.clone()), time_zone.clone()),
    };
    Ok(sqlx::query(
        "UPDATE campaigns SET name = $1, title = $2, issue = $3, at_ms = $4, cron = $5, time_zone = $6, \
         settled_ms = CASE WHEN $7 > settled_ms THEN $7 ELSE settled_ms END, updated_at = $8 \
         WHERE id = $9 AND state IN ('scheduled', 'paused')",
    )
    .bind(c.name.clone())
    .bind(c.title.clone().unwrap_or_default())
    .bind(c.issue.clone().unwrap_or_default())
    .bind(at_ms)
    .bind(cron)
    .bind(time_zone)
    .bind(c.settled_ms)
    .bind(now)
    .bind(c.id)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Makes the transition if the campaign is in one of its `from` states; false when it is not.
pub async fn transition(tx: &mut Tx, id: i64, t: &Transition<'_>, now: i64) -> StoreResult<bool> {
    let to = t.to;
    let states = t
        .from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "UPDATE campaigns SET state = $1, state_reason = $2, updated_at = $3, \
         settled_ms = CASE WHEN $4 > settled_ms THEN $4 ELSE settled_ms END WHERE id = $5 AND state IN ({states})"
    );
    let changed = sqlx::query(AssertSqlSafe(sql))
        .bind(to.as_str())
        .bind(t.reason.encode())
        .bind(now)
        .bind(t.settled_ms.unwrap_or(i64::MIN))
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1;
    if changed && to == CampaignState::Cancelled {
        // Nothing of a cancelled campaign goes out any more; what was already sent stays in the log.
        sqlx::query(
            "UPDATE deliveries SET status = 'cancelled', updated_at = $1 WHERE status = 'queued' \
             AND run_id IN (SELECT id FROM runs WHERE campaign_id = $2)",
        )
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    if !changed {
        return Ok(false);
    }
    Ok(changed)
}
