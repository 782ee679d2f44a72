//! The plan of each fiscal year: themes, programmes and duties.

use std::collections::HashMap;

use sqlx::Row;

use super::sql::*;
use super::*;
use crate::domain::plan::{Plan, PlanDuty, PlanItem, PlanSaved, Theme};

impl Store {
    pub async fn plan(&self, fiscal_year: Option<i32>) -> StoreResult<Option<Plan>> {
        self.count_plan_load();
        let row = match fiscal_year {
            Some(year) => {
                sqlx::query("SELECT id, fiscal_year, title, source_sha256 FROM plans WHERE fiscal_year = $1")
                    .bind(i64::from(year))
                    .fetch_optional(self.pool())
                    .await?
            }
            None => {
                sqlx::query("SELECT id, fiscal_year, title, source_sha256 FROM plans ORDER BY fiscal_year DESC LIMIT 1")
                    .fetch_optional(self.pool())
                    .await?
            }
        };
        let Some(row) = row else { return Ok(None) };
        let plan_id: i64 = row.try_get("id")?;
        let mut themes = Vec::new();
        let mut index: HashMap<i64, usize> = HashMap::new();
        for r in sqlx::query("SELECT id, slug, title_ja, title_en FROM themes WHERE plan_id = $1 ORDER BY position")
            .bind(plan_id)
            .fetch_all(self.pool())
            .await?
        {
            index.insert(r.try_get("id")?, themes.len());
            themes.push(Theme {
                slug: r.try_get("slug")?,
                title_ja: r.try_get("title_ja")?,
                title_en: r.try_get("title_en")?,
                programmes: Vec::new(),
                duties: Vec::new(),
            });
        }
        for r in sqlx::query(
            "SELECT i.theme_id, i.party, i.text, i.sub_items, i.channels FROM plan_items i \
             JOIN themes t ON t.id = i.theme_id WHERE t.plan_id = $1 ORDER BY i.theme_id, i.party, i.position",
        )
        .bind(plan_id)
        .fetch_all(self.pool())
        .await?
        {
            let theme_id: i64 = r.try_get("theme_id")?;
            let theme = index
                .get(&theme_id)
                .and_then(|i| themes.get_mut(*i))
                .ok_or_else(|| corrupt("plan item"))?;
            let text: String = r.try_get("text")?;
            let sub_items = json_list(&r.try_get::<String, _>("sub_items")?)?;
            if r.try_get::<String, _>("party")? == "tokyo" {
                theme.programmes.push(PlanItem { text, sub_items });
            } else {
                let channels = channels_from(&r.try_get::<String, _>("channels")?)?;
                theme.duties.push(PlanDuty {
                    text,
                    sub_items,
                    channels,
                });
            }
        }
        Ok(Some(Plan {
            fiscal_year: i32::try_from(row.try_get::<i64, _>("fiscal_year")?).map_err(|_| corrupt("fiscal_year"))?,
            title: row.try_get("title")?,
            sha256: row.try_get("source_sha256")?,
            themes,
        }))
    }
}

pub async fn save_plan(tx: &mut Tx, plan: &Plan, replace: bool, now: i64) -> StoreResult<PlanSaved> {
    let existing = sqlx::query("SELECT id, source_sha256 FROM plans WHERE fiscal_year = $1")
        .bind(i64::from(plan.fiscal_year))
        .fetch_optional(&mut **tx)
        .await?;
    let (plan_id, saved) = match existing {
        Some(row) => {
            let id: i64 = row.try_get("id")?;
            let sha: String = row.try_get("source_sha256")?;
            if sha == plan.sha256 {
                return Ok(PlanSaved::Unchanged);
            }
            if !replace {
                return Err(StoreError::Conflict(format!(
                    "fiscal year {} already has a plan from another file (sha256 {}); pass --replace to replace it",
                    plan.fiscal_year, sha
                )));
            }
            sqlx::query("DELETE FROM plan_items WHERE theme_id IN (SELECT id FROM themes WHERE plan_id = $1)")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM themes WHERE plan_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("UPDATE plans SET title = $1, source_sha256 = $2, imported_at = $3 WHERE id = $4")
                .bind(plan.title.clone())
                .bind(plan.sha256.clone())
                .bind(now)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            (id, PlanSaved::Replaced)
        }
        None => {
            let id: i64 = sqlx::query(
                "INSERT INTO plans (fiscal_year, title, source_sha256, imported_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id",
            )
            .bind(i64::from(plan.fiscal_year))
            .bind(plan.title.clone())
            .bind(plan.sha256.clone())
            .bind(now)
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?;
            (id, PlanSaved::Created)
        }
    };
    for (position, theme) in plan.themes.iter().enumerate() {
        let theme_id: i64 = sqlx::query(
            "INSERT INTO themes (plan_id, slug, position, title_ja, title_en) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(plan_id)
        .bind(theme.slug.clone())
        .bind(position as i64)
        .bind(theme.title_ja.clone())
        .bind(theme.title_en.clone())
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?;
        let tokyo = theme
            .programmes
            .iter()
            .map(|p| ("tokyo", &p.text, &p.sub_items, String::new()));
        let chamber = theme.duties.iter().map(|d| {
            let channels = d.channels.iter().map(|c| c.slug()).collect::<Vec<_>>().join(",");
            ("chamber", &d.text, &d.sub_items, channels)
        });
        let mut positions: HashMap<&str, i64> = HashMap::new();
        for (party, text, sub_items, channels) in tokyo.chain(chamber) {
            let position = positions.entry(party).or_insert(0);
            *position += 1;
            sqlx::query(
                "INSERT INTO plan_items (theme_id, party, position, text, sub_items, channels) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(theme_id)
            .bind(party)
            .bind(*position)
            .bind(text.clone())
            .bind(serde_json::to_string(sub_items).unwrap_or_else(|_| "[]".into()))
            .bind(channels)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(saved)
}
