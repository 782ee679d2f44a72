//! The queue of deliveries: claims with leases in database time, outcomes, releases.

use sqlx::{AssertSqlSafe, Row};

use super::members::suppress_member;
use super::sql::*;
use super::*;
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::domain::member::MemberSource;
use crate::domain::{Action, Actor};

/// Deliveries of runs that may send: never from a paused or cancelled campaign.
const ACTIVE_RUN: &str = "d.run_id IN (SELECT r.id FROM runs r JOIN campaigns c ON c.id = r.campaign_id \
                          WHERE r.status = 'sending' AND c.state IN ('scheduled', 'finished'))";

/// What a worker may claim, in two parts so each reads an index in order and stops at its LIMIT: leases that
/// ran out or whose instance is no longer live (stopped, found dead on its machine, or silent past `timeout`, a
/// placeholder for milliseconds), compared in database time (`db_now`); then queued deliveries whose time has
/// come (`now`, a placeholder bound to the service's clock, which schedules retries). One `OR` made SQLite
/// collect and sort the whole queue.
fn due_parts(now: &str, db_now: &str, timeout: &str) -> [String; 2] {
    let live = super::instances::live("i", db_now, timeout);
    [
        format!(
            "d.status = 'sending' AND (d.lease_until < {db_now} OR d.lease_owner IN \
             (SELECT i.id FROM instances i WHERE NOT {live})) AND {ACTIVE_RUN}"
        ),
        format!("d.status = 'queued' AND d.next_attempt_at <= {now} AND {ACTIVE_RUN}"),
    ]
}

/// One attempt inside a group commit: the delivery's new state, the member's suppression, the log row.
async fn record_one(tx: &mut Tx, a: &AttemptRecord) -> StoreResult<()> {
    let status = match a.outcome {
        Outcome::Sent => "sent",
        Outcome::Deferred => "queued",
        Outcome::Failed => "failed",
        Outcome::Skipped => "cancelled",
    };
    let owned = sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_code = $4, last_reply = $5, \
             lease_owner = NULL, lease_until = NULL, updated_at = $6 \
             WHERE id = $7 AND status = 'sending' AND lease_owner = $8 AND attempts = $2",
    )
    .bind(status)
    .bind(a.attempt)
    .bind(a.next_attempt_at)
    .bind(a.smtp_code)
    .bind(a.smtp_reply.clone())
    .bind(a.at)
    .bind(a.delivery_id)
    .bind(a.owner.clone())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if owned == 0 {
        tracing::warn!(
            delivery = a.delivery_id,
            attempt = a.attempt,
            "lease lost before the outcome was recorded (another instance took the delivery over); \
             logging the attempt only"
        );
    }
    // The suppression is a change of the member's consent like any other: its action row, by the mail server,
    // goes with it (only when it changed something: a member already suppressed gets no second row).
    if let Some(member_id) = a.suppress_member
        && suppress_member(tx, member_id, &a.smtp_reply, MemberSource::Smtp, a.at).await?
    {
        let action = Action::new(&Actor::Smtp, "member.suppress", a.recipient.clone())
            .with("reason", a.smtp_reply.clone())
            .with("delivery", a.delivery_id);
        super::actions::record(tx, &action, a.at).await?;
    }
    sqlx::query(
        "INSERT INTO send_log (at, delivery_id, attempt, run_id, campaign_id, theme_slug, duty, channel, recipient, \
             message_id, template, content_sha256, smtp_code, smtp_reply, sender, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (delivery_id, attempt) DO NOTHING",
    )
    .bind(a.at)
    .bind(a.delivery_id)
    .bind(a.attempt)
    .bind(a.run_id)
    .bind(a.campaign_id)
    .bind(a.theme_slug.clone())
    .bind(a.duty.clone())
    .bind(a.channel.clone())
    .bind(a.recipient.clone())
    .bind(a.message_id.clone())
    .bind(a.template.clone())
    .bind(a.content_sha256.clone())
    .bind(a.smtp_code)
    .bind(a.smtp_reply.clone())
    .bind(a.owner.clone())
    .bind(a.outcome.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn claim(&self, owner: &str, now: i64, lease: Lease, limit: u32) -> StoreResult<Vec<ClaimedDelivery>> {
        let lock = self.backend().lock_skipping_locked();
        let db_now = self.backend().now_ms();
        let mut tx = self.write().await?;
        let mut ids: Vec<i64> = Vec::new();
        for due in due_parts("$3", db_now, "$5") {
            let room = i64::from(limit) - ids.len() as i64;
            if room <= 0 {
                break;
            }
            let sql = format!(
                "UPDATE deliveries SET status = 'sending', lease_owner = $1, lease_until = {db_now} + $2, \
                 attempts = attempts + 1, updated_at = $3 \
                 WHERE id IN (SELECT d.id FROM deliveries d WHERE {due} \
                 ORDER BY d.next_attempt_at, d.id LIMIT $4 {lock}) RETURNING id"
            );
            for row in sqlx::query(AssertSqlSafe(sql))
                .bind(owner.to_owned())
                .bind(lease.ms)
                .bind(now)
                .bind(room)
                .bind(lease.instance_timeout_ms)
                .fetch_all(&mut *tx)
                .await?
            {
                ids.push(row.try_get("id")?);
            }
        }
        tx.commit().await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.id, d.run_id, r.campaign_id, r.scheduled_for, d.attempts, d.email, d.recipient_kind, \
             d.recipient_id, COALESCE(m.contact_name, a.name, '') AS name, COALESCE(m.company, '') AS company, \
             COALESCE(a.branch, '') AS branch, COALESCE(m.locale, 'ja') AS locale, \
             CASE d.recipient_kind WHEN 'member' THEN (CASE WHEN m.status = 'active' AND t.subscribed = 1 \
             THEN 1 ELSE 0 END) WHEN 'advisor' THEN COALESCE(a.active, 0) ELSE 1 END AS still_wanted \
             FROM deliveries d JOIN runs r ON r.id = d.run_id JOIN campaigns c ON c.id = r.campaign_id \
             LEFT JOIN members m ON d.recipient_kind = 'member' AND m.id = d.recipient_id \
             LEFT JOIN member_themes t ON t.member_id = m.id AND t.theme_slug = c.theme_slug \
             LEFT JOIN advisors a ON d.recipient_kind = 'advisor' AND a.id = d.recipient_id \
             WHERE d.id IN ({}) ORDER BY d.id",
            id_list(&ids)
        );
        sqlx::query(AssertSqlSafe(sql))
            // A new text every batch: caching it as a prepared statement would only grow memory.
            .persistent(false)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(ClaimedDelivery {
                    id: r.try_get("id")?,
                    run_id: r.try_get("run_id")?,
                    campaign_id: r.try_get("campaign_id")?,
                    scheduled_for: r.try_get("scheduled_for")?,
                    attempt: r.try_get("attempts")?,
                    email: r.try_get("email")?,
                    recipient_kind: r.try_get("recipient_kind")?,
                    recipient_id: r.try_get("recipient_id")?,
                    name: r.try_get("name")?,
                    company: r.try_get("company")?,
                    branch: r.try_get("branch")?,
                    locale: state(r, "locale", |l| l.parse().ok())?,
                    still_wanted: flag(r, "still_wanted")?,
                })
            })
            .collect()
    }

    pub async fn record_attempts(&self, records: &[AttemptRecord]) -> StoreResult<()> {
        // In delivery order: every writer of leased rows locks them in id order, so none deadlocks another.
        let mut ordered: Vec<&AttemptRecord> = records.iter().collect();
        ordered.sort_by_key(|a| (a.delivery_id, a.attempt));
        let mut tx = self.write().await?;
        for a in ordered {
            record_one(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn due_count(&self, now: i64, lease: Lease) -> StoreResult<i64> {
        let mut total = 0;
        for due in due_parts("$1", self.backend().now_ms(), "$2") {
            let sql = format!("SELECT COUNT(*) AS n FROM deliveries d WHERE {due}");
            total += sqlx::query(AssertSqlSafe(sql))
                .bind(now)
                .bind(lease.instance_timeout_ms)
                .fetch_one(self.pool())
                .await?
                .try_get::<i64, _>("n")?;
        }
        Ok(total)
    }

    pub async fn release(&self, owner: &str, ids: Option<&[i64]>, now: i64) -> StoreResult<()> {
        let which = match ids {
            Some([]) => return Ok(()),
            Some(ids) => format!("AND id IN ({})", id_list(ids)),
            None => String::new(),
        };
        // Rows locked in id order, like every other writer of leased rows (no deadlock with the heartbeat).
        let lock = self.backend().lock_in_id_order();
        let sql = format!(
            "UPDATE deliveries SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, \
             updated_at = $1 WHERE id IN (SELECT id FROM deliveries WHERE status = 'sending' AND lease_owner = $2 \
             {which} {lock})"
        );
        sqlx::query(AssertSqlSafe(sql))
            // A new text every batch: caching it as a prepared statement would only grow memory.
            .persistent(false)
            .bind(now)
            .bind(owner.to_owned())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
