//! Witness mails (migration 0012): which day's checkpoint went to which witness, claimed so that one instance
//! sends each.

use super::StoreResult;
use super::sql::Store;

impl Store {
    /// Claims the mail of `day` to `witness`: true when this caller is to send it (no one has, it failed, or
    /// its sender went silent for `stale_ms`). The claim is in database time, as leases are.
    pub async fn claim_witness_mail(&self, day: &str, witness: &str, size: i64, stale_ms: i64) -> StoreResult<bool> {
        let now = self.backend().now_ms();
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_witness_mails (day, witness, size, state, at) VALUES ($1, $2, $3, 'sending', {now}) \
             ON CONFLICT (day, witness) DO NOTHING"
        )))
        .bind(day)
        .bind(witness)
        .bind(size)
        .execute(self.pool())
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(true);
        }
        let retaken = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE audit_witness_mails SET state = 'sending', size = $3, at = {now} \
             WHERE day = $1 AND witness = $2 AND (state = 'failed' OR (state = 'sending' AND at < {now} - $4))"
        )))
        .bind(day)
        .bind(witness)
        .bind(size)
        .bind(stale_ms)
        .execute(self.pool())
        .await?;
        Ok(retaken.rows_affected() == 1)
    }

    /// Records how the claimed mail ended, with the mail server's reply.
    pub async fn witness_mail_ended(&self, day: &str, witness: &str, sent: bool, reply: &str) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE audit_witness_mails SET state = $3, reply = $4, at = {} WHERE day = $1 AND witness = $2",
            self.backend().now_ms()
        )))
        .bind(day)
        .bind(witness)
        .bind(if sent { "sent" } else { "failed" })
        .bind(reply)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
