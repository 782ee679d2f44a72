//! What a leaf of the audit log holds: one audit event as RFC 8785 (JCS) canonical JSON, so that anyone can
//! recompute the bytes from an exported row with any JSON library that sorts keys (`docs/audit-format.md`).
//!
//! JCS rather than serde_json's `to_string`: JCS is a specification (sorted keys by UTF-16 code units, one
//! spelling of strings and numbers), serde_json's output is whatever a version prints. The encoder is the
//! `serde_json_canonicalizer` crate, which the RFC's reference repository (cyberphone/json-canonicalization)
//! lists as the Rust implementation and which is kept up; `serde_jcs`, the other one, sorts keys by UTF-8
//! and prints large integers outside the RFC's rules (its open issues, and that crate's README).
//!
//! Numbers are held to integers of at most 2^53 - 1 in magnitude (I-JSON, RFC 7493, which JCS assumes):
//! JCS prints every number as an IEEE double would, so a larger id would silently lose digits, and a
//! fraction would need ECMAScript's number formatting in every verifier. Without them the JCS text is also
//! what Python's standard `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` prints,
//! as long as no key holds a character beyond U+FFFF (ours are ASCII).
//!
//! No leaf holds an address or a name (issue 17, item 4): those fields are a keyed hash, `PersonalHmac`,
//! which only `personal_hmac` (or a hash read back from the store) makes. Erasing the person's data later
//! leaves the hash, so old leaves, roots and proofs still verify. Free texts that might quote an address
//! (a mail server's reply, a consent change's reason) are left out of the leaf altogether.

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

use crate::domain::delivery::Outcome;
use crate::domain::states::MemberEventKind;

/// The largest integer every JSON reader holds exactly (2^53 - 1, I-JSON's limit).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why an event has no leaf encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    #[error("{0} is not an integer of at most 2^53 - 1 in magnitude, which a leaf can hold exactly")]
    Number(String),
    #[error("the event does not encode as canonical JSON: {0}")]
    Encoding(String),
}

/// HMAC-SHA256 of a personal value under the installation's key, as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PersonalHmac(String);

impl PersonalHmac {
    /// A hash as the store keeps it: exactly 64 lowercase hex digits, else `None`.
    pub fn from_hex(text: &str) -> Option<Self> {
        let hex = text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The keyed hash of `value` (its UTF-8 bytes, as given: the caller hashes an address as the store keeps it).
/// Keyed, not a plain hash, so that no one without the installation's key can test guesses of an address.
pub fn personal_hmac(key: &[u8], value: &str) -> PersonalHmac {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(value.as_bytes());
    PersonalHmac(hex::encode(mac.finalize().into_bytes()))
}

/// One audited fact. The `kind` member names the variant; every field is always present (`null` when
/// absent), so a leaf's keys depend on its kind alone. Times are milliseconds since 1970-01-01T00:00:00Z,
/// as the store keeps them, so they are recomputed exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditEvent {
    /// One attempt to deliver one mail: a row of the send log.
    SendAttempt {
        delivery_id: i64,
        /// 1 for the first attempt; with `delivery_id`, the send log row's key.
        attempt: i64,
        run_id: i64,
        campaign_id: i64,
        /// The recipient's address, hashed.
        recipient_hmac: PersonalHmac,
        message_id: String,
        outcome: Outcome,
        /// The mail server's reply code, if it answered.
        reply_code: Option<i64>,
        attempted_at: i64,
        /// SHA-256 of the mail as sent, hex.
        content_sha256: String,
    },
    /// A change made by staff, a member's link, the mail server's answers or the scheduler: a row of the
    /// staff-action log.
    StaffAction {
        action_id: i64,
        at: i64,
        /// `operator`, `user`, `member`, `smtp` or `scheduler`.
        actor_kind: String,
        /// The actor's name (a login or an address), hashed.
        actor_hmac: PersonalHmac,
        /// `campaign.pause`, `members.import`, ….
        action: String,
        /// What was changed (`campaign 3`); the caller hashes any personal part first.
        target: String,
        /// The action's summary (JSON); the caller hashes any personal part first.
        details: Value,
    },
    /// A member's consent to one theme changing: a row of the consent history.
    ConsentChange {
        event_id: i64,
        at: i64,
        /// The member's address, hashed.
        member_hmac: PersonalHmac,
        /// The theme's slug; `null` for an event about the member as a whole.
        theme: Option<String>,
        event: MemberEventKind,
        /// Where the change came from (`link`, `import`, `smtp`, `staff`, …).
        source: String,
    },
}

/// The leaf's bytes: the event as RFC 8785 canonical JSON, UTF-8, no trailing newline.
pub fn leaf_bytes(event: &AuditEvent) -> Result<Vec<u8>, LeafError> {
    let value = serde_json::to_value(event).map_err(|e| LeafError::Encoding(e.to_string()))?;
    check_numbers(&value)?;
    serde_json_canonicalizer::to_vec(&value).map_err(|e| LeafError::Encoding(e.to_string()))
}

fn check_numbers(value: &Value) -> Result<(), LeafError> {
    match value {
        Value::Number(number) => {
            let magnitude = number.as_i64().map(i64::unsigned_abs).or_else(|| number.as_u64());
            match magnitude {
                Some(m) if m <= MAX_SAFE_INTEGER => Ok(()),
                _ => Err(LeafError::Number(number.to_string())),
            }
        }
        Value::Array(items) => items.iter().try_for_each(check_numbers),
        Value::Object(members) => members.values().try_for_each(check_numbers),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::audit::merkle::leaf_hash;

    /// The example of docs/audit-format.md, "Leaf encoding".
    pub(crate) fn example_send_attempt() -> AuditEvent {
        AuditEvent::SendAttempt {
            delivery_id: 1042,
            attempt: 1,
            run_id: 17,
            campaign_id: 5,
            recipient_hmac: personal_hmac(&[0x42; 32], "member@example.org"),
            message_id: "<1042.1@outreach.example>".to_owned(),
            outcome: Outcome::Sent,
            reply_code: Some(250),
            attempted_at: 1_796_634_000_000,
            content_sha256: hex::encode(<Sha256 as sha2::Digest>::digest("Hello")),
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 §4.3, test case 2.
        let hash = personal_hmac(b"Jefe", "what do ya want for nothing?");
        assert_eq!(
            hash.as_str(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(PersonalHmac::from_hex(hash.as_str()), Some(hash));
        assert_eq!(PersonalHmac::from_hex("member@example.org"), None);
        assert_eq!(PersonalHmac::from_hex(&"A".repeat(64)), None);
    }

    /// The expected bytes and hash were computed apart from this code, with Python's standard library
    /// (`hmac`, `hashlib`, `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`).
    #[test]
    fn the_example_leaf_has_the_documented_bytes_and_hash() {
        let bytes = leaf_bytes(&example_send_attempt()).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            concat!(
                r#"{"attempt":1,"attempted_at":1796634000000,"campaign_id":5,"#,
                r#""content_sha256":"185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969","#,
                r#""delivery_id":1042,"kind":"send_attempt","message_id":"<1042.1@outreach.example>","#,
                r#""outcome":"sent","#,
                r#""recipient_hmac":"aa2f7f9995180b61c5e17d7f5d553cffddcc42db5eb043cb8d74c7e726574ede","#,
                r#""reply_code":250,"run_id":17}"#
            )
        );
        assert_eq!(
            hex::encode(leaf_hash(&bytes)),
            "c0119824eaadf19c4e9abd5f7dde490ef7038938813ac33e5278a4871e0d3bf2"
        );
    }

    #[test]
    fn strings_are_escaped_and_keys_sorted_as_jcs_says() {
        let event = AuditEvent::StaffAction {
            action_id: 1,
            at: 0,
            actor_kind: "user".to_owned(),
            actor_hmac: PersonalHmac("0".repeat(64)),
            action: "campaign.pause".to_owned(),
            target: "campaign 3".to_owned(),
            details: json!({
                "b": "\"\\\n\u{1}\u{7f}é\u{2028}",
                "a": [null, true, -9007199254740991_i64],
                "\u{FFFD}": 1,
                "\u{1F600}": 2,
            }),
        };
        // RFC 8785 §3.2.2.2: only `"`, `\` and controls are escaped, the latter as \b \t \n \f \r or \u00xx;
        // §3.2.3: keys in UTF-16 code unit order, so U+1F600 (D83D DE00) sorts before U+FFFD.
        let details = "{\"a\":[null,true,-9007199254740991],\"b\":\"\\\"\\\\\\n\\u0001\u{7f}é\u{2028}\",\"\u{1F600}\":2,\"\u{FFFD}\":1}";
        let want = format!(
            r#"{{"action":"campaign.pause","action_id":1,"actor_hmac":"{}","actor_kind":"user","at":0,"details":{details},"kind":"staff_action","target":"campaign 3"}}"#,
            "0".repeat(64)
        );
        assert_eq!(String::from_utf8(leaf_bytes(&event).unwrap()).unwrap(), want);
    }

    #[test]
    fn numbers_a_verifier_cannot_hold_exactly_are_refused() {
        let with = |details: Value| AuditEvent::StaffAction {
            action_id: 1,
            at: 0,
            actor_kind: "smtp".to_owned(),
            actor_hmac: personal_hmac(b"k", "smtp"),
            action: "campaign.pause".to_owned(),
            target: "campaign 3".to_owned(),
            details,
        };
        assert!(leaf_bytes(&with(json!({"n": 9007199254740991_i64}))).is_ok());
        assert!(leaf_bytes(&with(json!({"n": 9007199254740992_i64}))).is_err());
        assert!(leaf_bytes(&with(json!({"n": -9007199254740992_i64}))).is_err());
        assert!(leaf_bytes(&with(json!({"n": [1.5]}))).is_err());
        assert!(leaf_bytes(&with(json!({"n": u64::MAX}))).is_err());
        let mut big_id = example_send_attempt();
        if let AuditEvent::SendAttempt { delivery_id, .. } = &mut big_id {
            *delivery_id = i64::MAX;
        }
        assert_eq!(
            leaf_bytes(&big_id),
            Err(LeafError::Number("9223372036854775807".to_owned()))
        );
    }
}
