//! What `/readyz` and `/metrics` read: whether the database answers and is migrated, and the gauges an operator
//! watches. Every figure is counted in the database when scraped, so every instance reports the same totals.

use sqlx::{AssertSqlSafe, Row};

use super::StoreResult;
use super::sql::Store;

/// The figures `/metrics` exposes.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// (channel, outcome, attempts) from the send log.
    pub mails: Vec<(String, String, i64)>,
    /// (reply class `2xx`/`4xx`/`5xx`/`none`, attempts) from the send log.
    pub replies: Vec<(String, i64)>,
    /// (delivery status, count) of deliveries not yet settled: queued and sending.
    pub queue: Vec<(String, i64)>,
    /// How long the oldest delivery due now has waited, in milliseconds (database time).
    pub oldest_due_ms: i64,
    /// (run status, count).
    pub runs: Vec<(String, i64)>,
    pub live_instances: i64,
    /// How late the last scheduled run started after its tick, in milliseconds.
    pub scheduler_lag_ms: i64,
}

impl Store {
    /// The newest migration this binary has and the database lacks, if any.
    pub async fn missing_migration(&self) -> StoreResult<Option<i64>> {
        let newest = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success")
            .fetch_one(self.pool())
            .await?
            .try_get("v")?;
        Ok((applied.unwrap_or(0) < newest).then_some(newest))
    }

    pub async fn gauges(&self, instance_timeout_ms: i64) -> StoreResult<Gauges> {
        let now = self.backend().now_ms();
        let pool = self.pool();
        let mut g = Gauges::default();
        // One pass over the send log gives both the outcomes and the reply classes.
        let rows = sqlx::query(
            "SELECT channel, outcome, CASE WHEN smtp_code IS NULL THEN 0 ELSE smtp_code / 100 END AS class, \
             COUNT(*) AS n FROM send_log GROUP BY channel, outcome, class",
        )
        .fetch_all(pool)
        .await?;
        let mut classes = std::collections::BTreeMap::<String, i64>::new();
        for row in &rows {
            let n: i64 = row.try_get("n")?;
            let class: i64 = row.try_get("class")?;
            let class = if class == 0 {
                "none".to_owned()
            } else {
                format!("{class}xx")
            };
            *classes.entry(class).or_default() += n;
            let key = (row.try_get("channel")?, row.try_get("outcome")?);
            match g.mails.iter_mut().find(|(c, o, _)| (c, o) == (&key.0, &key.1)) {
                Some(entry) => entry.2 += n,
                None => g.mails.push((key.0, key.1, n)),
            }
        }
        g.replies = classes.into_iter().collect();
        g.queue = counts(
            self,
            "SELECT status AS k, COUNT(*) AS n FROM deliveries WHERE status IN ('queued', 'sending') GROUP BY status",
        )
        .await?;
        g.runs = counts(self, "SELECT status AS k, COUNT(*) AS n FROM runs GROUP BY status").await?;
        let oldest: Option<i64> = sqlx::query(AssertSqlSafe(format!(
            "SELECT {now} - MIN(next_attempt_at) AS age FROM deliveries \
             WHERE status = 'queued' AND next_attempt_at <= {now}"
        )))
        .fetch_one(pool)
        .await?
        .try_get("age")?;
        g.oldest_due_ms = oldest.unwrap_or(0).max(0);
        let live = super::instances::live("instances", now, "$1");
        g.live_instances = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM instances WHERE {live}"
        )))
        .bind(instance_timeout_ms)
        .fetch_one(pool)
        .await?
        .try_get("n")?;
        let lag: Option<i64> = sqlx::query(
            "SELECT created_at - scheduled_for AS lag FROM runs WHERE trigger = 'schedule' ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await?
        .map(|r| r.try_get("lag"))
        .transpose()?;
        g.scheduler_lag_ms = lag.unwrap_or(0).max(0);
        Ok(g)
    }
}

async fn counts(store: &Store, sql: &'static str) -> StoreResult<Vec<(String, i64)>> {
    sqlx::query(sql)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("k")?, r.try_get("n")?)))
        .collect()
}
