//! The send log: one row per SMTP attempt, read page by page. Every filter has an index leading with its
//! column and ending with `id` (migrations 0001 and 0007), so a page walks only the rows it returns, at the
//! start of a log of millions of rows as at its end.

use sqlx::AssertSqlSafe;

use super::sql::*;
use super::*;
use crate::domain::member::normalize_email;

const LOG_COLUMNS: &str = "id, at, delivery_id, attempt, run_id, campaign_id, theme_slug, duty, channel, recipient, \
                           message_id, template, content_sha256, smtp_code, smtp_reply, sender, outcome";

impl Store {
    pub async fn send_log(&self, filter: &LogFilter, after_id: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        self.send_log_page(filter, Keyset::After(after_id), limit).await
    }

    /// One page of the log before or after an id, in ascending id order.
    pub async fn send_log_page(&self, filter: &LogFilter, keyset: Keyset, limit: u32) -> StoreResult<Vec<LogEntry>> {
        let (cursor, order, cursor_id) = keyset.sql();
        let mut clauses = vec![cursor.to_owned()];
        let mut n = 1;
        let mut next = |column: &str, op: &str| {
            n += 1;
            clauses.push(format!("{column} {op} ${n}"));
        };
        // Same order as the binds below.
        if filter.campaign_id.is_some() {
            next("campaign_id", "=");
        }
        if filter.theme_slug.is_some() {
            next("theme_slug", "=");
        }
        if filter.channel.is_some() {
            next("channel", "=");
        }
        if filter.recipient.is_some() {
            next("LOWER(recipient)", "=");
        }
        if filter.outcome.is_some() {
            next("outcome", "=");
        }
        if filter.from_ms.is_some() {
            next("at", ">=");
        }
        if filter.to_ms.is_some() {
            next("at", "<");
        }
        let sql = format!(
            "SELECT {LOG_COLUMNS} FROM send_log WHERE {} ORDER BY id {order} LIMIT {limit}",
            clauses.join(" AND "),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(cursor_id);
        if let Some(v) = filter.campaign_id {
            query = query.bind(v);
        }
        for v in [&filter.theme_slug, &filter.channel].into_iter().flatten() {
            query = query.bind(v.clone());
        }
        if let Some(v) = &filter.recipient {
            query = query.bind(normalize_email(v));
        }
        if let Some(v) = filter.outcome {
            query = query.bind(v.as_str());
        }
        for v in [filter.from_ms, filter.to_ms].into_iter().flatten() {
            query = query.bind(v);
        }
        let mut rows = query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(log_from)
            .collect::<StoreResult<Vec<_>>>()?;
        if order == "DESC" {
            rows.reverse();
        }
        Ok(rows)
    }

    /// One row of the log.
    pub async fn log_entry(&self, id: i64) -> StoreResult<Option<LogEntry>> {
        let sql = format!("SELECT {LOG_COLUMNS} FROM send_log WHERE id = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(log_from)
            .transpose()
    }

    /// Every attempt of one delivery, first to last (the unique key (delivery_id, attempt) is the index).
    pub async fn delivery_attempts(&self, delivery_id: i64) -> StoreResult<Vec<LogEntry>> {
        let sql = format!("SELECT {LOG_COLUMNS} FROM send_log WHERE delivery_id = $1 ORDER BY attempt, id");
        sqlx::query(AssertSqlSafe(sql))
            .bind(delivery_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(log_from)
            .collect()
    }
}
