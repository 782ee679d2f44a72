//! What the staff dashboard counts: mails per theme, month and outcome from the send log, members per theme,
//! and the runs worth watching (sending, or finished lately) with their delivery counts.
//!
//! The send log can hold millions of rows. Its counts read only the rows of the period asked for, through the
//! `(at, id)` index (migration 0008), and group them in one pass: the months are a `CASE` over instants the
//! caller computed in its time zone, so the SQL is the same on both backends and needs no date functions.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};

use super::runs::RUN_COLUMNS;
use super::sql::*;
use super::*;

/// Attempts logged in one month (an index into the boundaries given) for one theme, with one outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthCount {
    pub month: usize,
    pub theme_slug: String,
    pub outcome: Outcome,
    pub attempts: i64,
}

impl Store {
    /// Send-log rows with `bounds[0] <= at < bounds[last]`, counted by month (`i` for
    /// `bounds[i] <= at < bounds[i + 1]`), theme and outcome. `bounds` ascend and number at least two.
    pub async fn mails_by_month(&self, bounds: &[i64]) -> StoreResult<Vec<MonthCount>> {
        let (Some(first), Some(last)) = (bounds.first(), bounds.last()) else {
            return Ok(Vec::new());
        };
        // `at >= $1 AND at < $2` is the index range; the CASE only labels the rows it reads. Its limits are
        // bound parameters ($3 …), one per inner boundary; the cast makes the label a BIGINT on PostgreSQL too.
        let arms: String = (1..bounds.len() - 1)
            .map(|i| format!("WHEN at < ${} THEN {} ", i + 2, i - 1))
            .collect();
        let sql = format!(
            "SELECT CAST(CASE {arms}ELSE {} END AS BIGINT) AS month, theme_slug, outcome, COUNT(*) AS n FROM send_log \
             WHERE at >= $1 AND at < $2 GROUP BY month, theme_slug, outcome",
            bounds.len() - 2
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(*first).bind(*last);
        for bound in &bounds[1..bounds.len() - 1] {
            query = query.bind(*bound);
        }
        query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                let month: i64 = row.try_get("month")?;
                Ok(MonthCount {
                    month: usize::try_from(month).map_err(|_| corrupt(format!("month {month}")))?,
                    theme_slug: row.try_get("theme_slug")?,
                    outcome: state(row, "outcome", Outcome::parse)?,
                    attempts: row.try_get("n")?,
                })
            })
            .collect()
    }

    /// Active members subscribed to each theme (the audience a member run of the theme would freeze, before
    /// addresses shared by two members are counted once), from the `(theme_slug, subscribed)` index.
    pub async fn members_per_theme(&self) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query(
            "SELECT t.theme_slug AS theme, COUNT(*) AS n FROM member_themes t JOIN members m ON m.id = t.member_id \
             WHERE t.subscribed = 1 AND m.status = 'active' GROUP BY t.theme_slug",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("theme")?, r.try_get("n")?)))
        .collect()
    }

    /// Runs still sending and runs finished at or after `since`, oldest first, each with its counts: what the
    /// dashboard shows and polls. Two queries whatever the number of runs.
    pub async fn runs_to_watch(&self, since: i64) -> StoreResult<Vec<(Run, RunCounts)>> {
        let runs = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE status = 'sending' OR finished_at >= $1 ORDER BY created_at, id"
        )))
        .bind(since)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(run_from)
        .collect::<StoreResult<Vec<Run>>>()?;
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
        // The ids are numbers of our own rows: safe to inline (`id_list`).
        let sql = format!(
            "SELECT run_id, status, COUNT(*) AS n FROM deliveries WHERE run_id IN ({}) GROUP BY run_id, status",
            id_list(&ids)
        );
        let mut counts: HashMap<i64, RunCounts> = HashMap::new();
        for row in sqlx::query(AssertSqlSafe(sql)).fetch_all(self.pool()).await? {
            let c = counts.entry(row.try_get("run_id")?).or_default();
            let n: i64 = row.try_get("n")?;
            match row.try_get::<String, _>("status")?.as_str() {
                "queued" => c.queued = n,
                "sending" => c.sending = n,
                "sent" => c.sent = n,
                "failed" => c.failed = n,
                "cancelled" => c.cancelled = n,
                other => return Err(corrupt(format!("delivery status {other:?}"))),
            }
        }
        Ok(runs
            .into_iter()
            .map(|run| {
                let c = counts.get(&run.id).copied().unwrap_or_default();
                (run, c)
            })
            .collect())
    }
}
