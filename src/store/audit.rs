//! The audit tree's tables (migration 0012): rows waiting to be sealed (queued by triggers in the row's own
//! transaction), the leaves, and the signed checkpoints; the sealer's step, and the reads that verify,
//! prove and export.

use futures::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::sql::{Store, Tx};
use super::{StoreError, StoreResult};
use crate::domain::audit::merkle::{Hash, leaf_hash};
use crate::domain::audit::rows::{ActionRow, ConsentRow, LogKind, LoggedRow, SendRow};
use crate::domain::audit::{Checkpoint, Frontier, Signer, leaf_bytes};

/// Leaves written per INSERT statement (four binds each: well under both databases' limits).
const LEAVES_PER_STATEMENT: usize = 200;

/// The log's name and the key of its personal hashes, made once by the first sealer.
#[derive(Clone)]
pub struct AuditKeys {
    pub origin: String,
    pub personal_key: Vec<u8>,
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeys")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A checkpoint as stored.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    pub size: i64,
    /// Hex.
    pub root: String,
    pub at: i64,
    pub note: String,
    /// Hex hashes, comma-separated.
    pub frontier: String,
}

/// A leaf as stored, with the row it stands for (`None` when that row is gone).
#[derive(Debug, Clone)]
pub struct StoredLeaf {
    pub index: i64,
    pub kind: LogKind,
    pub row_id: i64,
    /// Hex.
    pub leaf_hash: String,
    pub row: Option<LoggedRow>,
}

/// What one seal did.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub leaves: u64,
    /// None when every row taken was sealed already (queued twice).
    pub checkpoint: Option<Checkpoint>,
}

/// The columns of the three logged tables, joined to a row of `audit_pending` or `audit_leaves` named `l`.
const ROW_COLUMNS: &str = "s.id AS s_id, s.delivery_id, s.attempt, s.run_id, s.campaign_id, s.recipient, \
    s.message_id, s.outcome, s.smtp_code, s.at AS s_at, s.content_sha256, \
    a.id AS a_id, a.at AS a_at, a.actor_kind, a.actor, a.action, a.target, a.summary, \
    e.id AS e_id, e.at AS e_at, m.email_norm AS member_email, e.theme_slug, e.event, e.source";
const ROW_JOINS: &str = "LEFT JOIN send_log s ON l.kind = 'send_attempt' AND s.id = l.row_id \
    LEFT JOIN actions a ON l.kind = 'staff_action' AND a.id = l.row_id \
    LEFT JOIN member_events e ON l.kind = 'consent_change' AND e.id = l.row_id \
    LEFT JOIN members m ON m.id = e.member_id";

/// The checkpoints, as `stored_checkpoint` reads them.
const CHECKPOINTS: &str = "SELECT size, root, at, note, frontier FROM audit_checkpoints";

/// The leaves with their rows, as `stored_leaf` reads them.
fn leaves_with_rows() -> String {
    format!("SELECT l.leaf_index, l.kind, l.row_id, l.leaf_hash, {ROW_COLUMNS} FROM audit_leaves l {ROW_JOINS}")
}

fn logged_row(row: &AnyRow, kind: LogKind) -> StoreResult<Option<LoggedRow>> {
    Ok(match kind {
        LogKind::SendAttempt => match row.try_get::<Option<i64>, _>("s_id")? {
            None => None,
            Some(id) => Some(LoggedRow::Send(SendRow {
                id,
                delivery_id: row.try_get("delivery_id")?,
                attempt: row.try_get("attempt")?,
                run_id: row.try_get("run_id")?,
                campaign_id: row.try_get("campaign_id")?,
                recipient: row.try_get("recipient")?,
                message_id: row.try_get("message_id")?,
                outcome: row.try_get("outcome")?,
                smtp_code: row.try_get("smtp_code")?,
                at: row.try_get("s_at")?,
                content_sha256: row.try_get("content_sha256")?,
            })),
        },
        LogKind::StaffAction => match row.try_get::<Option<i64>, _>("a_id")? {
            None => None,
            Some(id) => Some(LoggedRow::Action(ActionRow {
                id,
                at: row.try_get("a_at")?,
                actor_kind: row.try_get("actor_kind")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                summary: row.try_get("summary")?,
            })),
        },
        LogKind::ConsentChange => match row.try_get::<Option<i64>, _>("e_id")? {
            None => None,
            Some(id) => Some(LoggedRow::Consent(ConsentRow {
                id,
                at: row.try_get("e_at")?,
                // A consent row whose member is gone reads as an empty address, and so fails to verify.
                member_email: row.try_get::<Option<String>, _>("member_email")?.unwrap_or_default(),
                theme_slug: row.try_get("theme_slug")?,
                event: row.try_get("event")?,
                source: row.try_get("source")?,
            })),
        },
    })
}

fn kind_of(row: &AnyRow) -> StoreResult<LogKind> {
    let kind: String = row.try_get("kind")?;
    LogKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("audit row of unknown kind {kind:?}")))
}

fn stored_leaf(row: &AnyRow) -> StoreResult<StoredLeaf> {
    let kind = kind_of(row)?;
    Ok(StoredLeaf {
        index: row.try_get("leaf_index")?,
        kind,
        row_id: row.try_get("row_id")?,
        leaf_hash: row.try_get("leaf_hash")?,
        row: logged_row(row, kind)?,
    })
}

fn stored_checkpoint(row: &AnyRow) -> StoreResult<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        size: row.try_get("size")?,
        root: row.try_get("root")?,
        at: row.try_get("at")?,
        note: row.try_get("note")?,
        frontier: row.try_get("frontier")?,
    })
}

/// `$first, $first+1, …` for `count` binds.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn frontier_of(stored: Option<&StoredCheckpoint>) -> StoreResult<Frontier> {
    let Some(stored) = stored else {
        return Ok(Frontier::new());
    };
    let corrupt = || StoreError::Corrupt(format!("the frontier of the checkpoint of size {}", stored.size));
    let hashes = stored
        .frontier
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or_else(corrupt)
        })
        .collect::<StoreResult<Vec<Hash>>>()?;
    let size = u64::try_from(stored.size).map_err(|_| corrupt())?;
    Frontier::from_parts(size, hashes).map_err(|_| corrupt())
}

impl Store {
    /// The log's name and personal-hash key: the stored ones, or those `make` gives (origin, key) when none
    /// are stored yet. Only the first call of an installation writes; every seal reads.
    pub async fn audit_keys(&self, make: impl FnOnce() -> (String, Vec<u8>)) -> StoreResult<AuditKeys> {
        if let Some(keys) = self.stored_audit_keys().await? {
            return Ok(keys);
        }
        let (origin, personal_key) = make();
        // Another instance may make them at the same moment: the first one's stay.
        sqlx::query(
            "INSERT INTO audit_state (singleton, origin, personal_key) VALUES (1, $1, $2) \
             ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(origin)
        .bind(hex::encode(personal_key))
        .execute(self.pool())
        .await?;
        self.stored_audit_keys()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the audit log's keys were not stored".into()))
    }

    async fn stored_audit_keys(&self) -> StoreResult<Option<AuditKeys>> {
        let Some(row) = sqlx::query("SELECT origin, personal_key FROM audit_state WHERE singleton = 1")
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let key: String = row.try_get("personal_key")?;
        Ok(Some(AuditKeys {
            origin: row.try_get("origin")?,
            personal_key: hex::decode(&key)
                .map_err(|_| StoreError::Corrupt("the audit log's personal-hash key is not hex".into()))?,
        }))
    }

    /// Seals up to `limit` committed rows, oldest queued first, into leaves and one signed checkpoint, in one
    /// transaction. `None` when there was nothing to seal, or when another instance is sealing right now
    /// (PostgreSQL: the state row is locked; it seals what this one would have).
    pub async fn seal(
        &self,
        keys: &AuditKeys,
        signer: &Signer,
        now_ms: i64,
        limit: u32,
    ) -> StoreResult<Option<Sealed>> {
        let mut tx = self.write().await?;
        let lock = format!(
            "SELECT singleton FROM audit_state WHERE singleton = 1 {}",
            self.backend().lock_skipping_locked()
        );
        if sqlx::query(AssertSqlSafe(lock))
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let head = latest_checkpoint(&mut tx).await?;
        let mut frontier = frontier_of(head.as_ref())?;
        let pending = sqlx::query(AssertSqlSafe(format!(
            "SELECT l.id AS pending_id, l.kind, l.row_id, x.leaf_index AS sealed_as, {ROW_COLUMNS} \
             FROM audit_pending l {ROW_JOINS} \
             LEFT JOIN audit_leaves x ON x.kind = l.kind AND x.row_id = l.row_id \
             ORDER BY l.id LIMIT $1"
        )))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        if pending.is_empty() {
            return Ok(None);
        }
        let mut sealed = Vec::with_capacity(pending.len());
        let mut queued = Vec::with_capacity(pending.len());
        let mut in_batch = std::collections::HashSet::with_capacity(pending.len());
        for row in &pending {
            queued.push(row.try_get::<i64, _>("pending_id")?);
            let kind = kind_of(row)?;
            let row_id: i64 = row.try_get("row_id")?;
            // Queued twice (a row put back by hand): it has its leaf already, or gets it once in this batch.
            // The queue has no unique index on purpose: keeping one cost a fifth of the sending rate.
            if row.try_get::<Option<i64>, _>("sealed_as")?.is_some() || !in_batch.insert((kind, row_id)) {
                continue;
            }
            let logged = logged_row(row, kind)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{} row {row_id} is queued for the audit log but gone",
                    kind.table()
                ))
            })?;
            let event = logged
                .event(&keys.personal_key)
                .map_err(|e| StoreError::Corrupt(format!("{} row {row_id} has no audit leaf: {e}", kind.table())))?;
            let bytes = leaf_bytes(&event)
                .map_err(|e| StoreError::Corrupt(format!("{} row {row_id} has no audit leaf: {e}", kind.table())))?;
            let hash = leaf_hash(&bytes);
            let index = i64::try_from(frontier.size()).map_err(|_| StoreError::Corrupt("tree size".into()))?;
            frontier
                .push(hash)
                .map_err(|e| StoreError::Corrupt(format!("the audit tree: {e}")))?;
            sealed.push((index, kind, row_id, hex::encode(hash)));
        }
        for chunk in sealed.chunks(LEAVES_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 4 + 1, 4)))
                .collect();
            let sql = format!(
                "INSERT INTO audit_leaves (leaf_index, kind, row_id, leaf_hash) VALUES {}",
                values.join(", ")
            );
            let mut insert = sqlx::query(AssertSqlSafe(sql));
            for (index, kind, row_id, hash) in chunk {
                insert = insert.bind(*index).bind(kind.as_str()).bind(*row_id).bind(hash.clone());
            }
            insert.execute(&mut *tx).await?;
        }
        // By id, never by range: a row queued with a lower id may commit after this read (PostgreSQL).
        for chunk in queued.chunks(LEAVES_PER_STATEMENT * 4) {
            let sql = format!(
                "DELETE FROM audit_pending WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut delete = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                delete = delete.bind(*id);
            }
            delete.execute(&mut *tx).await?;
        }
        if sealed.is_empty() {
            tx.commit().await?;
            return Ok(Some(Sealed {
                leaves: 0,
                checkpoint: None,
            }));
        }
        let checkpoint = Checkpoint {
            origin: keys.origin.clone(),
            size: frontier.size(),
            root: frontier.root(),
            time: chrono::DateTime::from_timestamp_millis(now_ms),
        };
        let note = signer
            .sign(&checkpoint)
            .map_err(|e| StoreError::Corrupt(format!("cannot sign the checkpoint: {e}")))?;
        let frontier_text: Vec<String> = frontier.hashes().iter().map(hex::encode).collect();
        sqlx::query("INSERT INTO audit_checkpoints (size, root, at, note, frontier) VALUES ($1, $2, $3, $4, $5)")
            .bind(i64::try_from(checkpoint.size).map_err(|_| StoreError::Corrupt("tree size".into()))?)
            .bind(hex::encode(checkpoint.root))
            .bind(now_ms)
            .bind(note)
            .bind(frontier_text.join(","))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Sealed {
            leaves: u64::try_from(sealed.len()).unwrap_or(u64::MAX),
            checkpoint: Some(checkpoint),
        }))
    }

    /// The latest checkpoint, if any was sealed.
    pub async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        let row = sqlx::query(AssertSqlSafe(format!("{CHECKPOINTS} ORDER BY size DESC LIMIT 1")))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(stored_checkpoint).transpose()
    }

    /// The checkpoint of a tree of exactly `size` leaves.
    pub async fn checkpoint_of_size(&self, size: i64) -> StoreResult<Option<StoredCheckpoint>> {
        let row = sqlx::query(AssertSqlSafe(format!("{CHECKPOINTS} WHERE size = $1")))
            .bind(size)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(stored_checkpoint).transpose()
    }

    /// Every checkpoint, smallest first.
    pub async fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>> {
        let rows = sqlx::query(AssertSqlSafe(format!("{CHECKPOINTS} ORDER BY size")))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(stored_checkpoint).collect()
    }

    /// Calls `each` with every leaf below `upto` in tree order, with its row, reading them as a stream (the
    /// log is never held in memory).
    pub async fn each_leaf<E: From<StoreError>>(
        &self,
        upto: i64,
        mut each: impl FnMut(StoredLeaf) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!("{} WHERE l.leaf_index < $1 ORDER BY l.leaf_index", leaves_with_rows());
        let mut rows = sqlx::query(AssertSqlSafe(sql)).bind(upto).fetch(self.pool());
        while let Some(row) = rows.try_next().await.map_err(StoreError::from)? {
            each(stored_leaf(&row)?)?;
        }
        Ok(())
    }

    /// The stored hashes of the leaves below `upto`, in order, for proofs.
    pub async fn leaf_hashes(&self, upto: i64) -> StoreResult<Vec<(i64, String)>> {
        let rows =
            sqlx::query("SELECT leaf_index, leaf_hash FROM audit_leaves WHERE leaf_index < $1 ORDER BY leaf_index")
                .bind(upto)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("leaf_index")?, r.try_get("leaf_hash")?)))
            .collect()
    }

    /// One leaf with its row.
    pub async fn leaf(&self, index: i64) -> StoreResult<Option<StoredLeaf>> {
        let sql = format!("{} WHERE l.leaf_index = $1", leaves_with_rows());
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(index)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(stored_leaf).transpose()
    }

    /// The leaves of the send-log rows of a Message-ID (one per attempt), in order.
    pub async fn leaves_of_message(&self, message_id: &str) -> StoreResult<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT l.leaf_index FROM send_log s JOIN audit_leaves l ON l.kind = 'send_attempt' AND l.row_id = s.id \
             WHERE s.message_id = $1 ORDER BY l.leaf_index",
        )
        .bind(message_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("leaf_index")?)).collect()
    }

    /// How many committed rows wait to be sealed.
    pub async fn pending_seal(&self) -> StoreResult<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM audit_pending")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }

    /// Logged rows that are neither a leaf nor waiting for one: written behind the log's back (the triggers
    /// dropped). At most `limit`, by table then id.
    pub async fn unlogged_rows(&self, limit: u32) -> StoreResult<Vec<(LogKind, i64)>> {
        let mut found = Vec::new();
        for kind in LogKind::ALL {
            let sql = format!(
                "SELECT t.id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM audit_leaves l WHERE l.kind = $1 \
                 AND l.row_id = t.id) AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.kind = $1 \
                 AND p.row_id = t.id) ORDER BY t.id LIMIT $2",
                table = kind.table()
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(kind.as_str())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
            for row in rows {
                found.push((kind, row.try_get("id")?));
            }
        }
        Ok(found)
    }
}

async fn latest_checkpoint(tx: &mut Tx) -> StoreResult<Option<StoredCheckpoint>> {
    let row = sqlx::query(AssertSqlSafe(format!("{CHECKPOINTS} ORDER BY size DESC LIMIT 1")))
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(stored_checkpoint).transpose()
}
