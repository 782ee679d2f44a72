//! The send log: one row per SMTP attempt, read page by page.

use sqlx::AssertSqlSafe;

use super::sql::*;
use super::*;
use crate::domain::member::normalize_email;

const LOG_COLUMNS: &str = "id, at, delivery_id, attempt, run_id, campaign_id, theme_slug, duty, channel, recipient, \
                           message_id, template, content_sha256, smtp_code, smtp_reply, sender, outcome";

impl Store {
    pub async fn send_log(&self, filter: &LogFilter, after_id: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        let mut clauses = vec!["id > $1".to_owned()];
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
            "SELECT {LOG_COLUMNS} FROM send_log WHERE {} ORDER BY id LIMIT {}",
            clauses.join(" AND "),
            limit
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(after_id);
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
        query.fetch_all(self.pool()).await?.iter().map(log_from).collect()
    }
}
