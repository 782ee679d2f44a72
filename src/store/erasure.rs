//! Erasing personal data from the logged rows (issue 17, item 4): each personal field becomes the pseudonym of
//! its personal hash, so every leaf, root and proof made before stays valid, and the free texts no leaf holds
//! are emptied. Migration 0013's triggers allow exactly these updates of the append-only rows.

use sqlx::{AssertSqlSafe, Row};

use super::StoreResult;
use super::sql::Tx;
use crate::domain::audit::rows::{ActionRow, ERASED_PREFIX, pseudonym};

/// Whose data, or how old.
#[derive(Debug, Clone)]
pub enum Scope {
    /// One member: their rows in every log, their deliveries, and their member record.
    Member { id: i64, email_norm: String },
    /// Every logged row written before this time (epoch ms); member records, current data, are kept.
    Before(i64),
}

/// How many rows were (or, in a dry run, would be) changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub send_log: u64,
    pub actions: u64,
    pub consent: u64,
    pub deliveries: u64,
}

/// Replaces the personal data in `scope` by pseudonyms, in the caller's transaction.
pub async fn erase(tx: &mut Tx, key: &[u8], scope: &Scope, now: i64) -> StoreResult<Erased> {
    let mut erased = Erased::default();
    let not_erased = format!("NOT LIKE '{ERASED_PREFIX}%'");
    // The send log: each spelling of an address once, as the leaves hashed it.
    let (rows_of, bind) = match scope {
        Scope::Member { id, .. } => (
            "delivery_id IN (SELECT id FROM deliveries WHERE recipient_kind = 'member' AND recipient_id = $2)",
            *id,
        ),
        Scope::Before(at) => ("at < $2", *at),
    };
    let spellings = sqlx::query(AssertSqlSafe(format!(
        "SELECT DISTINCT recipient FROM send_log WHERE recipient {not_erased} AND {}",
        rows_of.replace("$2", "$1")
    )))
    .bind(bind)
    .fetch_all(&mut **tx)
    .await?;
    for row in spellings {
        let recipient: String = row.try_get("recipient")?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE send_log SET recipient = $1, smtp_reply = '' WHERE {rows_of} AND recipient = $3"
        )))
        .bind(pseudonym(key, &recipient))
        .bind(bind)
        .bind(&recipient)
        .execute(&mut **tx)
        .await?;
        erased.send_log = erased.send_log.saturating_add(done.rows_affected());
    }

    // The action log: by the rule the leaves follow (`ActionRow::erased`).
    let (which, actor_of) = match scope {
        Scope::Member { email_norm, .. } => (
            sqlx::query(
                "SELECT id, at, actor_kind, actor, action, target, summary FROM actions \
                 WHERE lower(actor) = $1 OR lower(target) = $1 OR lower(summary) LIKE $2",
            )
            .bind(email_norm.clone())
            .bind(format!("%{email_norm}%")),
            Some(email_norm.as_str()),
        ),
        Scope::Before(at) => (
            sqlx::query("SELECT id, at, actor_kind, actor, action, target, summary FROM actions WHERE at < $1")
                .bind(*at),
            None,
        ),
    };
    for row in which.fetch_all(&mut **tx).await? {
        let action = ActionRow {
            id: row.try_get("id")?,
            at: row.try_get("at")?,
            actor_kind: row.try_get("actor_kind")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            summary: row.try_get("summary")?,
        };
        let actor_too = match actor_of {
            Some(email) => action.actor.to_lowercase() == email,
            None => action.actor.contains('@'),
        };
        if let Some(new) = action.erased(key, actor_too) {
            sqlx::query("UPDATE actions SET actor = $1, target = $2, summary = $3, address = '' WHERE id = $4")
                .bind(new.actor)
                .bind(new.target)
                .bind(new.summary)
                .bind(new.id)
                .execute(&mut **tx)
                .await?;
            erased.actions = erased.actions.saturating_add(1);
        }
    }

    // The consent history keeps its events; only their free-text reasons go.
    let reasons = match scope {
        Scope::Member { id, .. } => {
            sqlx::query("UPDATE member_events SET reason = '' WHERE member_id = $1 AND reason <> ''").bind(*id)
        }
        Scope::Before(at) => {
            sqlx::query("UPDATE member_events SET reason = '' WHERE at < $1 AND reason <> ''").bind(*at)
        }
    };
    erased.consent = reasons.execute(&mut **tx).await?.rows_affected();

    if let Scope::Member { id, email_norm } = scope {
        let alias = pseudonym(key, email_norm);
        let deliveries = sqlx::query(
            "UPDATE deliveries SET email = $1, email_norm = $1, last_reply = '' \
             WHERE recipient_kind = 'member' AND recipient_id = $2",
        )
        .bind(&alias)
        .bind(*id)
        .execute(&mut **tx)
        .await?;
        erased.deliveries = deliveries.rows_affected();
        sqlx::query(
            "UPDATE members SET email = $1, email_norm = $1, company = '', contact_name = '', updated_at = $2 \
             WHERE id = $3",
        )
        .bind(&alias)
        .bind(now)
        .bind(*id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(erased)
}
