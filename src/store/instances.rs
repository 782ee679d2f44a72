//! Instances, leases and the installation id, all in database time: a machine's own clock is never compared
//! with another's.

use sqlx::{AssertSqlSafe, Row};

use super::sql::{Store, flag};
use super::{Held, InstanceInfo, InstanceStatus, Neighbour, StoreResult, Waiting};

/// Whether the instance `i` counts as live, in database time: not stopped, not found dead on its machine, heard
/// from within `timeout` milliseconds (a placeholder or a literal). Claims, reports and reloads all judge by
/// this one predicate, so what one calls dead another never calls live.
pub(super) fn live(i: &str, db_now: &str, timeout: &str) -> String {
    format!("({i}.stopped_at IS NULL AND {i}.dead_at IS NULL AND {i}.heartbeat_at >= {db_now} - {timeout})")
}

impl Store {
    pub async fn register_instance(&self, i: &InstanceInfo) -> StoreResult<()> {
        let now = self.backend().now_ms();
        let mut tx = self.write().await?;
        // Instances stopped or silent for a week are history nobody reads.
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM instances WHERE heartbeat_at < {now} - 604800000"
        )))
        .execute(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO instances (id, host, pid, version, role, started_at, heartbeat_at, boot_id, pid_ns, \
             proc_start) VALUES ($1, $2, $3, $4, $5, {now}, {now}, $6, $7, $8)"
        )))
        .bind(i.id.clone())
        .bind(i.host.clone())
        .bind(i.pid)
        .bind(i.version.clone())
        .bind(i.role.clone())
        .bind(i.process.as_ref().map(|p| p.boot_id.clone()))
        .bind(i.process.as_ref().map(|p| p.pid_ns.clone()))
        .bind(i.process.as_ref().map(|p| p.start_ticks))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn heartbeat(&self, id: &str, lease_ms: i64) -> StoreResult<bool> {
        let now = self.backend().now_ms();
        let mut tx = self.write().await?;
        let (reload, found_dead) = match sqlx::query("SELECT reload_asked, dead_at FROM instances WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&mut *tx)
            .await?
        {
            Some(r) => (
                flag(&r, "reload_asked")?,
                r.try_get::<Option<i64>, _>("dead_at")?.is_some(),
            ),
            None => (false, false),
        };
        if found_dead {
            // Only a wrong judgement of this process gets here. Live again, so that what it claims from now on
            // is not taken from it too; what was taken is fenced (its outcomes are not recorded over).
            tracing::error!(
                instance = id,
                "this instance was found dead by another process of this machine: its deliveries were taken over"
            );
        }
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE instances SET heartbeat_at = {now}, reload_asked = 0, dead_at = NULL WHERE id = $1"
        )))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        // A live instance's long wait on a server never loses its lease. Rows are locked in id order, as
        // recording outcomes does, so the two never deadlock (PostgreSQL; SQLite has one writer).
        let lock = self.backend().lock_in_id_order();
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE deliveries SET lease_until = {now} + $1 WHERE id IN (SELECT id FROM deliveries \
             WHERE status = 'sending' AND lease_owner = $2 {lock})"
        )))
        .bind(lease_ms)
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(reload)
    }

    /// Asks every live `serve` instance to reload its templates; how many were asked.
    pub async fn ask_reload(&self, timeout_ms: i64) -> StoreResult<u64> {
        let live = live("instances", self.backend().now_ms(), "$1");
        Ok(sqlx::query(AssertSqlSafe(format!(
            "UPDATE instances SET reload_asked = 1 WHERE role = 'serve' AND {live}"
        )))
        .bind(timeout_ms)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    pub async fn stop_instance(&self, id: &str) -> StoreResult<()> {
        let now = self.backend().now_ms();
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE instances SET stopped_at = {now}, heartbeat_at = {now} WHERE id = $1"
        )))
        .bind(id.to_owned())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn instances(&self, timeout_ms: i64) -> StoreResult<Vec<InstanceStatus>> {
        let now = self.backend().now_ms();
        let live = live("i", now, "$1");
        let sql = format!(
            "SELECT i.id, i.host, i.pid, i.version, i.role, i.started_at, i.heartbeat_at, i.stopped_at, \
             {now} - i.heartbeat_at AS silent_ms, CASE WHEN {live} THEN 1 ELSE 0 END AS live, \
             (SELECT COUNT(*) FROM deliveries d WHERE d.status = 'sending' AND d.lease_owner = i.id) AS holding, \
             (SELECT MAX(d.lease_until) FROM deliveries d WHERE d.status = 'sending' AND d.lease_owner = i.id) \
             AS held_until \
             FROM instances i ORDER BY i.started_at DESC, i.id"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(timeout_ms)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let stopped_at: Option<i64> = r.try_get("stopped_at")?;
                let silent_ms: i64 = r.try_get("silent_ms")?;
                Ok(InstanceStatus {
                    id: r.try_get("id")?,
                    host: r.try_get("host")?,
                    pid: r.try_get("pid")?,
                    version: r.try_get("version")?,
                    role: r.try_get("role")?,
                    started_at: r.try_get("started_at")?,
                    heartbeat_at: r.try_get("heartbeat_at")?,
                    silent_ms,
                    state: if stopped_at.is_some() {
                        "stopped"
                    } else if flag(r, "live")? {
                        "live"
                    } else {
                        "dead"
                    },
                    holding: r.try_get("holding")?,
                    held_until: r.try_get("held_until")?,
                })
            })
            .collect()
    }

    /// Due deliveries that live instances other than `owner` hold.
    pub async fn held_elsewhere(&self, owner: &str, timeout_ms: i64) -> StoreResult<Vec<Held>> {
        let now = self.backend().now_ms();
        let live = live("i", now, "$2");
        let sql = format!(
            "SELECT d.lease_owner AS owner, COUNT(*) AS n, MAX(d.lease_until) AS until, \
             MAX({now} - COALESCE(i.heartbeat_at, 0)) AS silent_ms \
             FROM deliveries d LEFT JOIN instances i ON i.id = d.lease_owner \
             WHERE d.status = 'sending' AND d.lease_owner <> $1 AND d.lease_until >= {now} \
             AND {live} GROUP BY d.lease_owner ORDER BY d.lease_owner"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(owner.to_owned())
            .bind(timeout_ms)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Held {
                    instance: r.try_get("owner")?,
                    deliveries: r.try_get("n")?,
                    until: r.try_get("until")?,
                    silent_ms: r.try_get("silent_ms")?,
                })
            })
            .collect()
    }

    /// The instances still counted live whose process runs in the same boot and pid namespace as `owner`'s,
    /// so that `owner`'s process can look whether theirs still runs.
    pub async fn neighbours(&self, owner: &str, timeout_ms: i64) -> StoreResult<Vec<Neighbour>> {
        let live = live("o", self.backend().now_ms(), "$2");
        let sql = format!(
            "SELECT o.id, o.pid, o.proc_start FROM instances o JOIN instances me ON me.id = $1 \
             WHERE o.id <> me.id AND o.boot_id = me.boot_id AND o.pid_ns = me.pid_ns \
             AND o.proc_start IS NOT NULL AND {live} ORDER BY o.id"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(owner.to_owned())
            .bind(timeout_ms)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Neighbour {
                    id: r.try_get("id")?,
                    pid: r.try_get("pid")?,
                    start_ticks: r.try_get("proc_start")?,
                })
            })
            .collect()
    }

    /// Records that the instance's process is gone, in database time; from now on its leases are taken over
    /// like a silent instance's. False when it had stopped or was found dead already.
    pub async fn found_dead(&self, id: &str) -> StoreResult<bool> {
        let now = self.backend().now_ms();
        let marked = sqlx::query(AssertSqlSafe(format!(
            "UPDATE instances SET dead_at = {now} WHERE id = $1 AND stopped_at IS NULL AND dead_at IS NULL"
        )))
        .bind(id.to_owned())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(marked == 1)
    }

    /// Why a run's unsent deliveries wait: queued (for their time, a retry, or a resume), or held by an
    /// instance, grouped.
    pub async fn waiting(&self, run_id: i64) -> StoreResult<Vec<Waiting>> {
        sqlx::query(
            "SELECT status, lease_owner, COUNT(*) AS n, MIN(next_attempt_at) AS next_at, MAX(lease_until) AS until, \
             MAX(last_reply) AS reply FROM deliveries WHERE run_id = $1 AND status IN ('queued', 'sending') \
             GROUP BY status, lease_owner ORDER BY status, lease_owner",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Waiting {
                held_by: r.try_get("lease_owner")?,
                deliveries: r.try_get("n")?,
                next_attempt_at: r.try_get("next_at")?,
                held_until: r.try_get("until")?,
                last_reply: r.try_get::<Option<String>, _>("reply")?.unwrap_or_default(),
            })
        })
        .collect()
    }

    /// This installation's id, created once; every process of the installation reads the same.
    pub async fn installation_id(&self, candidate: &str, now: i64) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO installation (singleton, id, created_at) VALUES (1, $1, $2) ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(candidate.to_owned())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(sqlx::query("SELECT id FROM installation WHERE singleton = 1")
            .fetch_one(self.pool())
            .await?
            .try_get("id")?)
    }

    /// The id of the key that signs member links, as recorded; empty when no link was signed yet.
    pub async fn link_key_id(&self) -> StoreResult<String> {
        Ok(sqlx::query("SELECT link_key_id FROM installation WHERE singleton = 1")
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get("link_key_id"))
            .transpose()?
            .unwrap_or_default())
    }

    /// Records `kid` as the key that signs member links, if the stored one is empty or `replaces`.
    /// False when another key is recorded (the caller refuses to sign with this one).
    pub async fn record_link_key(&self, kid: &str, replaces: Option<&str>) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE installation SET link_key_id = $1 WHERE singleton = 1 \
             AND (link_key_id = '' OR link_key_id = $1 OR link_key_id = $2)",
        )
        .bind(kid.to_owned())
        .bind(replaces.unwrap_or(kid).to_owned())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }
}
