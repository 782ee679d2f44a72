//! Runs: one per (campaign, tick), with their audience frozen as deliveries.

use sqlx::{AssertSqlSafe, Row};

use super::sql::*;
use super::*;
use crate::domain::campaign::StateReason;
use crate::domain::member::normalize_email;
use crate::domain::{Action, Trigger};

pub(super) const RUN_COLUMNS: &str =
    "id, campaign_id, scheduled_for, trigger, status, audience, created_at, finished_at";

impl Store {
    pub async fn runs(&self, campaign_id: Option<i64>) -> StoreResult<Vec<Run>> {
        let rows = match campaign_id {
            Some(id) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE campaign_id = $1 ORDER BY scheduled_for, id"
                )))
                .bind(id)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {RUN_COLUMNS} FROM runs ORDER BY scheduled_for, id"
                )))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(run_from).collect()
    }

    pub async fn run(&self, id: i64) -> StoreResult<Option<Run>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(run_from)
            .transpose()
    }

    pub async fn run_counts(&self, run_id: i64) -> StoreResult<RunCounts> {
        let mut counts = RunCounts::default();
        for r in sqlx::query("SELECT status, COUNT(*) AS n FROM deliveries WHERE run_id = $1 GROUP BY status")
            .bind(run_id)
            .fetch_all(self.pool())
            .await?
        {
            let n: i64 = r.try_get("n")?;
            match r.try_get::<String, _>("status")?.as_str() {
                "queued" => counts.queued = n,
                "sending" => counts.sending = n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                "cancelled" => counts.cancelled = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// How many addresses a run would freeze for `audience` now (each address once), without starting one.
    pub async fn audience_size(&self, audience: &Audience) -> StoreResult<i64> {
        let row = match audience {
            Audience::Members { theme_slug } => {
                sqlx::query(
                    "SELECT COUNT(DISTINCT m.email_norm) AS n FROM members m JOIN member_themes t \
                     ON t.member_id = m.id AND t.theme_slug = $1 AND t.subscribed = 1 WHERE m.status = 'active'",
                )
                .bind(theme_slug.clone())
                .fetch_one(self.pool())
                .await?
            }
            Audience::Advisors => {
                sqlx::query("SELECT COUNT(DISTINCT email_norm) AS n FROM advisors WHERE active = 1")
                    .fetch_one(self.pool())
                    .await?
            }
            Audience::Addresses(addresses) => {
                let mut distinct: Vec<String> = addresses.iter().map(|a| normalize_email(a)).collect();
                distinct.sort();
                distinct.dedup();
                return i64::try_from(distinct.len()).map_err(|_| corrupt("audience size"));
            }
        };
        Ok(row.try_get("n")?)
    }

    pub async fn finish_runs(&self, now: i64) -> StoreResult<Vec<i64>> {
        let mut tx = self.write().await?;
        let done: Vec<i64> = sqlx::query(
            "UPDATE runs SET status = 'done', finished_at = $1 WHERE status = 'sending' AND NOT EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.run_id = runs.id AND d.status IN ('queued', 'sending')) RETURNING id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        if !done.is_empty() {
            // A one-time campaign whose firing has run is finished, with its reason and its action row, in this
            // transaction: the same record the scheduler writes when a campaign has no firing left.
            let reason = StateReason::NoFiringLeft;
            let finished: Vec<i64> = sqlx::query(
                "UPDATE campaigns SET state = 'finished', state_reason = $2, updated_at = $1 \
                 WHERE state = 'scheduled' AND at_ms IS NOT NULL AND EXISTS (SELECT 1 FROM runs r \
                 WHERE r.campaign_id = campaigns.id AND r.status = 'done' AND r.trigger <> 'manual') RETURNING id",
            )
            .bind(now)
            .bind(reason.encode())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
            for id in finished {
                super::actions::record(&mut tx, &Action::campaign_finished(id, &reason), now).await?;
            }
        }
        tx.commit().await?;
        Ok(done)
    }
}

pub async fn start_run(
    tx: &mut Tx,
    campaign_id: i64,
    scheduled_for: i64,
    trigger: Trigger,
    audience: &Audience,
    now: i64,
) -> StoreResult<Option<Run>> {
    let sql = format!(
        "INSERT INTO runs (campaign_id, scheduled_for, trigger, status, audience, created_at) \
         VALUES ($1, $2, $3, 'sending', 0, $4) ON CONFLICT (campaign_id, scheduled_for) DO NOTHING \
         RETURNING {RUN_COLUMNS}"
    );
    let Some(row) = sqlx::query(AssertSqlSafe(sql))
        .bind(campaign_id)
        .bind(scheduled_for)
        .bind(trigger.as_str())
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let mut run = run_from(&row)?;
    // Set-based, so the audience is never held in memory; ON CONFLICT keeps each address once.
    let frozen = match audience {
        Audience::Members { theme_slug } => sqlx::query(
            "INSERT INTO deliveries (run_id, recipient_kind, recipient_id, email, email_norm, status, attempts, \
                 next_attempt_at, updated_at) \
                 SELECT $1, 'member', m.id, m.email, m.email_norm, 'queued', 0, $2, $2 FROM members m \
                 JOIN member_themes t ON t.member_id = m.id AND t.theme_slug = $3 AND t.subscribed = 1 \
                 WHERE m.status = 'active' ON CONFLICT (run_id, email_norm) DO NOTHING",
        )
        .bind(run.id)
        .bind(now)
        .bind(theme_slug.clone())
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        Audience::Advisors => sqlx::query(
            "INSERT INTO deliveries (run_id, recipient_kind, recipient_id, email, email_norm, status, attempts, \
                 next_attempt_at, updated_at) \
                 SELECT $1, 'advisor', a.id, a.email, a.email_norm, 'queued', 0, $2, $2 FROM advisors a \
                 WHERE a.active = 1 ON CONFLICT (run_id, email_norm) DO NOTHING",
        )
        .bind(run.id)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        Audience::Addresses(addresses) => {
            let mut n = 0;
            for address in addresses {
                n += sqlx::query(
                    "INSERT INTO deliveries (run_id, recipient_kind, recipient_id, email, email_norm, status, \
                     attempts, next_attempt_at, updated_at) VALUES ($1, 'editorial', NULL, $2, $3, 'queued', 0, $4, $4) \
                     ON CONFLICT (run_id, email_norm) DO NOTHING",
                )
                .bind(run.id)
                .bind(address.trim().to_owned())
                .bind(normalize_email(address))
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            }
            n
        }
    };
    run.audience = i64::try_from(frozen).map_err(|_| corrupt("audience size"))?;
    sqlx::query("UPDATE runs SET audience = $1 WHERE id = $2")
        .bind(run.audience)
        .bind(run.id)
        .execute(&mut **tx)
        .await?;
    Ok(Some(run))
}

pub async fn retry_failed(tx: &mut Tx, run_id: i64, now: i64) -> StoreResult<u64> {
    let n = sqlx::query(
        "UPDATE deliveries SET status = 'queued', next_attempt_at = $1, updated_at = $1 \
         WHERE run_id = $2 AND status = 'failed'",
    )
    .bind(now)
    .bind(run_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n > 0 {
        sqlx::query("UPDATE runs SET status = 'sending', finished_at = NULL WHERE id = $1")
            .bind(run_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(n)
}
