//! The send log: one row per SMTP attempt, read page by page. Every filter has an index leading with its
//! column and ending with `id` (migrations 0007 and 0008), so a page walks only the rows it returns, at the
//! start of a log of millions of rows as at its end.

use sqlx::AssertSqlSafe;

use super::sql::*;
use super::*;
use crate::domain::member::normalize_email;

const LOG_COLUMNS: &str = "id, at, delivery_id, attempt, run_id, campaign_id, theme_slug, duty, channel, recipient, \
                           message_id, template, content_sha256, smtp_code, smtp_reply, sender, outcome";

/// A value bound to a filter.
#[derive(Debug, Clone)]
enum Bound {
    Int(i64),
    Text(String),
}

impl Store {
    pub async fn send_log(&self, filter: &LogFilter, after_id: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        self.send_log_page(filter, Keyset::After(after_id), limit).await
    }

    /// One page of the log before or after an id, in ascending id order.
    pub async fn send_log_page(&self, filter: &LogFilter, keyset: Keyset, limit: u32) -> StoreResult<Vec<LogEntry>> {
        let (cursor, order, cursor_id) = keyset.sql();
        // Equality filters, most selective first: (column, value).
        let mut equal: Vec<(&str, Bound)> = Vec::new();
        if let Some(v) = &filter.recipient {
            equal.push(("LOWER(recipient)", Bound::Text(normalize_email(v))));
        }
        if let Some(v) = filter.campaign_id {
            equal.push(("campaign_id", Bound::Int(v)));
        }
        for (column, v) in [("theme_slug", &filter.theme_slug), ("channel", &filter.channel)] {
            if let Some(v) = v {
                equal.push((column, Bound::Text(v.clone())));
            }
        }
        if let Some(v) = filter.outcome {
            equal.push(("outcome", Bound::Text(v.as_str().to_owned())));
        }
        let mut clauses = vec![cursor.to_owned()];
        let mut binds = vec![Bound::Int(cursor_id)];
        let mut bind = |clause: String, value: Bound, binds: &mut Vec<Bound>| {
            binds.push(value);
            clauses.push(clause.replace('?', &format!("${}", binds.len())));
        };
        // Rows of a recipient, a campaign or a theme lie together in the log, not spread along it as the planners
        // assume: reading along the primary key and filtering walks every row before them (measured: 270 ms on
        // PostgreSQL for a month in the middle of 1,000,000 rows). The first filter is written as a range of one
        // value and the page ordered by (it, id): only its index gives that order, and is read from the cursor on
        // for just the page's rows. (As `col = ?` PostgreSQL's planner would drop the column from the order and
        // take the primary key again. SQLite keeps it, and needs the equality to seek to the cursor's id: a range
        // on the first column would walk the value's rows from their start, measured 44 ms at id 900,000.)
        let range = self.backend() == Backend::Postgres;
        let mut order_by = format!("id {order}");
        for (i, (column, value)) in equal.into_iter().enumerate() {
            if i == 0 && !range {
                bind(format!("{column} = ?"), value, &mut binds);
                order_by = format!("{column} {order}, id {order}");
            } else if i == 0 {
                bind(format!("{column} >= ?"), value.clone(), &mut binds);
                bind(format!("{column} <= ?"), value, &mut binds);
                order_by = format!("{column} {order}, id {order}");
            } else {
                bind(format!("{column} = ?"), value, &mut binds);
            }
        }
        let window = filter.from_ms.is_some() || filter.to_ms.is_some();
        if let Some(v) = filter.from_ms {
            bind("at >= ?".to_owned(), Bound::Int(v), &mut binds);
        }
        if let Some(v) = filter.to_ms {
            bind("at < ?".to_owned(), Bound::Int(v), &mut binds);
        }
        let condition = clauses.join(" AND ");
        let sql = if window && !order_by.contains(',') {
            // A date window alone: its ids first, from the (at, id) index (materialized, so the plan cannot fall
            // back to the primary key), then the page's rows.
            format!(
                "WITH matching AS MATERIALIZED (SELECT id FROM send_log WHERE {condition}) \
                 SELECT {LOG_COLUMNS} FROM send_log WHERE id IN \
                 (SELECT id FROM matching ORDER BY id {order} LIMIT {limit}) ORDER BY id {order}"
            )
        } else {
            format!("SELECT {LOG_COLUMNS} FROM send_log WHERE {condition} ORDER BY {order_by} LIMIT {limit}")
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in binds {
            query = match value {
                Bound::Int(v) => query.bind(v),
                Bound::Text(v) => query.bind(v),
            };
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
