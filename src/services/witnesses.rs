//! Witnesses (issue 17): each day's latest checkpoint goes by mail to the addresses of `audit.witnesses`, so
//! that people outside the Chamber (its contact at the Metropolitan Government) keep checkpoints the Chamber
//! cannot take back; whoever kept one can later check, with the independent verifier, that the log extends it.

use serde_json::json;

use crate::Application;
use crate::domain::campaign::schedule::format_local;
use crate::error::AppError;
use crate::mail::message::compose_with_file;
use crate::mail::transport::{Reply, Transport};

/// A claim whose sender went silent this long is taken again (it died while sending).
const STALE_CLAIM_MS: i64 = 10 * 60 * 1000;

impl Application {
    /// Mails today's latest checkpoint (Tokyo day, `schedule.time_zone`) to every witness who has not had one
    /// today; how many were sent. Several instances may call it at once: each mail is claimed in the database
    /// first, so one instance sends it.
    pub async fn mail_witnesses(&self, transport: &dyn Transport) -> Result<usize, AppError> {
        let witnesses = &self.settings.audit.witnesses;
        if witnesses.is_empty() {
            return Ok(0);
        }
        let Some(checkpoint) = self.store.latest_checkpoint().await? else {
            return Ok(0);
        };
        let tz = self.settings.schedule.tz();
        let day = chrono::DateTime::from_timestamp_millis(self.now())
            .map(|t| t.with_timezone(&tz).date_naive().to_string())
            .ok_or_else(|| AppError::Internal("the clock is out of range".into()))?;
        let (_, signer) = self.audit_signer().await?;
        let file = format!("checkpoint-{}.txt", checkpoint.size);
        let mail = self.templates()?.render(
            "audit-witness",
            json!({
                "org": self.settings.organization,
                "day": day,
                "size": checkpoint.size,
                "time": format_local(checkpoint.at, tz),
                "key": signer.verifier_key(),
                "file": file,
            }),
        )?;
        let from = self.from_mailbox()?;
        let mut sent = 0;
        for witness in witnesses {
            if !self
                .store
                .claim_witness_mail(&day, witness, checkpoint.size, STALE_CLAIM_MS)
                .await?
            {
                continue;
            }
            let nonce = format!("{:016x}", rand::random::<u64>());
            let message_id = format!(
                "<outreach.witness.{day}.{nonce}@{}>",
                self.settings.delivery.message_id_domain
            );
            let composed = compose_with_file(&from, witness, &mail, &message_id, &file, &checkpoint.note)
                .map_err(|e| AppError::input(e.to_string()))?;
            let reply = transport
                .send(&composed.envelope, &composed.bytes, &format!("witness-{day}-{nonce}"))
                .await;
            let accepted = matches!(reply, Reply::Accepted { .. });
            self.store
                .witness_mail_ended(&day, witness, accepted, reply.text())
                .await?;
            if accepted {
                sent += 1;
            } else {
                tracing::warn!(witness = %witness, reply = %reply.text(), "the checkpoint mail to a witness was not taken; tried again later");
            }
        }
        Ok(sent)
    }
}
