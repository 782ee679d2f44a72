//! The staff-action log: appended in the transaction of the change it records, read with filters.

use sqlx::{AssertSqlSafe, Row};

use super::sql::{Store, Tx};
use super::{ActionFilter, Keyset, StoreResult};
use crate::domain::action::canonical_json;
use crate::domain::{Action, ActionRecord};

/// Appends the action to the log, in the transaction of the change it records.
pub async fn record(tx: &mut Tx, action: &Action, at: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO actions (at, actor_kind, actor, address, action, target, summary) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(at)
    .bind(action.actor.kind())
    .bind(action.actor.name())
    .bind(action.address.clone())
    .bind(action.action)
    .bind(action.target.clone())
    .bind(canonical_json(&action.summary))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// One change and its record: `change` runs in a write transaction and returns the action it made (none
    /// when it changed nothing), which is appended to the log in the same transaction. Both commit, or neither.
    pub async fn change<T>(
        &self,
        now: i64,
        change: impl AsyncFnOnce(&mut Tx) -> StoreResult<(T, Option<Action>)>,
    ) -> StoreResult<T> {
        let mut tx = self.write().await?;
        let (out, action) = change(&mut tx).await?;
        if let Some(action) = action {
            record(&mut tx, &action, now).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn actions(&self, filter: &ActionFilter) -> StoreResult<Vec<ActionRecord>> {
        self.actions_after(filter, 0, None).await
    }

    /// One page of the log: the rows after `after_id` in id order, at most `limit` (all without one). The
    /// primary key orders and bounds the page, so a page costs the same at the start and the end of the log.
    pub async fn actions_after(
        &self,
        filter: &ActionFilter,
        after_id: i64,
        limit: Option<u32>,
    ) -> StoreResult<Vec<ActionRecord>> {
        self.actions_page(filter, Keyset::After(after_id), limit).await
    }

    /// One page of the log before or after an id, in ascending id order. Each filter has an index that leads
    /// with its column and ends with id (migration 0007), so a page reads only its own rows.
    pub async fn actions_page(
        &self,
        filter: &ActionFilter,
        keyset: Keyset,
        limit: Option<u32>,
    ) -> StoreResult<Vec<ActionRecord>> {
        let (cursor, order, cursor_id) = keyset.sql();
        let mut clauses = vec![cursor.to_owned()];
        let mut n = 1;
        // Each `?` of a clause is the next bind's number.
        let mut next = |clause: &str| {
            let mut numbered = String::new();
            for (i, part) in clause.split('?').enumerate() {
                if i > 0 {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                }
                numbered.push_str(part);
            }
            clauses.push(numbered);
        };
        // Same order as the binds below.
        if filter.actor.is_some() {
            next("actor = ?");
        }
        // A renamed action is found under its old spelling too: the log is append-only, its rows keep theirs.
        let legacy = filter
            .action
            .as_deref()
            .and_then(crate::domain::action::former_spelling)
            .map(str::to_owned);
        match (&filter.action, &legacy) {
            (Some(_), Some(_)) => next("action IN (?, ?)"),
            (Some(_), None) => next("action = ?"),
            _ => {}
        }
        if filter.target.is_some() {
            next("target = ?");
        }
        if filter.since_ms.is_some() {
            next("at >= ?");
        }
        if filter.until_ms.is_some() {
            next("at < ?");
        }
        let limit = limit.map_or_else(String::new, |l| format!(" LIMIT {l}"));
        let sql = format!(
            "SELECT id, at, actor_kind, actor, address, action, target, summary FROM actions WHERE {} \
             ORDER BY id {order}{limit}",
            clauses.join(" AND ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(cursor_id);
        for v in [&filter.actor, &filter.action, &legacy, &filter.target]
            .into_iter()
            .flatten()
        {
            query = query.bind(v.clone());
        }
        for v in [filter.since_ms, filter.until_ms].into_iter().flatten() {
            query = query.bind(v);
        }
        let mut rows = query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(ActionRecord {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor_kind: r.try_get("actor_kind")?,
                    actor: r.try_get("actor")?,
                    address: r.try_get("address")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    summary: r.try_get("summary")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        if order == "DESC" {
            rows.reverse();
        }
        Ok(rows)
    }
}
