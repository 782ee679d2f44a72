//! From a logged row, as the database keeps it, to its audit event (`leaf.rs`): the one place that decides
//! which stored fields a leaf commits to and which personal ones it hashes, for the sealer, the verifier and
//! the export alike.

use serde_json::Value;

use super::leaf::{AuditEvent, LeafError, PersonalHmac, personal_hmac};
use crate::domain::delivery::Outcome;
use crate::domain::states::MemberEventKind;

/// What an erased personal value is replaced with: this prefix and the value's personal hash, so that the
/// leaf recomputed from the erased row is the leaf sealed before (docs/audit-format.md §1.3).
pub const ERASED_PREFIX: &str = "erased:";

/// The personal hash of a value as stored: the hash a pseudonym carries, or the keyed hash of the value.
pub fn stored_personal_hash(key: &[u8], stored: &str) -> PersonalHmac {
    stored
        .strip_prefix(ERASED_PREFIX)
        .and_then(PersonalHmac::from_hex)
        .unwrap_or_else(|| personal_hmac(key, stored))
}

/// The pseudonym that replaces a stored value when it is erased: `erased:` and its personal hash. A value
/// already erased is its own pseudonym.
pub fn pseudonym(key: &[u8], stored: &str) -> String {
    format!("{ERASED_PREFIX}{}", stored_personal_hash(key, stored).as_str())
}

/// The three kinds of logged rows, by the name the tree's tables use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogKind {
    SendAttempt,
    StaffAction,
    ConsentChange,
}

impl LogKind {
    pub const ALL: [LogKind; 3] = [LogKind::SendAttempt, LogKind::StaffAction, LogKind::ConsentChange];

    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::SendAttempt => "send_attempt",
            LogKind::StaffAction => "staff_action",
            LogKind::ConsentChange => "consent_change",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The table the row is in, for messages.
    pub fn table(self) -> &'static str {
        match self {
            LogKind::SendAttempt => "send_log",
            LogKind::StaffAction => "actions",
            LogKind::ConsentChange => "member_events",
        }
    }
}

/// A row of the send log, as stored.
#[derive(Debug, Clone)]
pub struct SendRow {
    pub id: i64,
    pub delivery_id: i64,
    pub attempt: i64,
    pub run_id: i64,
    pub campaign_id: i64,
    pub recipient: String,
    pub message_id: String,
    pub outcome: String,
    pub smtp_code: Option<i64>,
    pub at: i64,
    pub content_sha256: String,
}

/// A row of the staff-action log, as stored (`summary` is its JSON text).
#[derive(Debug, Clone)]
pub struct ActionRow {
    pub id: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub summary: String,
}

/// A row of the consent history, with its member's address as stored.
#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub id: i64,
    pub at: i64,
    pub member_email: String,
    pub theme_slug: Option<String>,
    pub event: String,
    pub source: String,
}

#[derive(Debug, Clone)]
pub enum LoggedRow {
    Send(SendRow),
    Action(ActionRow),
    Consent(ConsentRow),
}

impl LoggedRow {
    pub fn kind(&self) -> LogKind {
        match self {
            LoggedRow::Send(_) => LogKind::SendAttempt,
            LoggedRow::Action(_) => LogKind::StaffAction,
            LoggedRow::Consent(_) => LogKind::ConsentChange,
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            LoggedRow::Send(r) => r.id,
            LoggedRow::Action(r) => r.id,
            LoggedRow::Consent(r) => r.id,
        }
    }

    /// The row's audit event, personal fields hashed under `key`.
    pub fn event(&self, key: &[u8]) -> Result<AuditEvent, LeafError> {
        let corrupt = |what: &str, value: &str| LeafError::Encoding(format!("{what} {value:?} is not a known value"));
        Ok(match self {
            LoggedRow::Send(r) => AuditEvent::SendAttempt {
                delivery_id: r.delivery_id,
                attempt: r.attempt,
                run_id: r.run_id,
                campaign_id: r.campaign_id,
                recipient_hmac: stored_personal_hash(key, &r.recipient),
                message_id: r.message_id.clone(),
                outcome: Outcome::parse(&r.outcome).ok_or_else(|| corrupt("outcome", &r.outcome))?,
                reply_code: r.smtp_code,
                attempted_at: r.at,
                content_sha256: r.content_sha256.clone(),
            },
            LoggedRow::Action(r) => {
                let summary: Value = serde_json::from_str(&r.summary)
                    .map_err(|e| LeafError::Encoding(format!("the action's summary is not JSON: {e}")))?;
                let personal = is_about_a_person(&r.action);
                AuditEvent::StaffAction {
                    action_id: r.id,
                    at: r.at,
                    actor_kind: r.actor_kind.clone(),
                    actor_hmac: stored_personal_hash(key, &r.actor),
                    action: r.action.clone(),
                    target: depersonalised(key, &r.target, personal),
                    details: depersonalised_value(key, summary, personal),
                }
            }
            LoggedRow::Consent(r) => AuditEvent::ConsentChange {
                event_id: r.id,
                at: r.at,
                member_hmac: stored_personal_hash(key, &r.member_email),
                theme: r.theme_slug.clone(),
                event: MemberEventKind::parse(&r.event).ok_or_else(|| corrupt("event", &r.event))?,
                source: r.source.clone(),
            },
        })
    }
}

impl ActionRow {
    /// The row with its personal texts replaced by pseudonyms, giving the same leaf: the actor when
    /// `actor_too`, and every text the leaf hashes in the target and the summary (a client's address, which no
    /// leaf holds, is emptied by the caller). `None` when nothing would change.
    pub fn erased(&self, key: &[u8], actor_too: bool) -> Option<ActionRow> {
        let personal = is_about_a_person(&self.action);
        // Exactly the texts the leaf hashes: erased, they give the same hash.
        let erase = |text: &str| {
            if is_hashed(text, personal) {
                pseudonym(key, text)
            } else {
                text.to_owned()
            }
        };
        let summary = match serde_json::from_str::<Value>(&self.summary) {
            Ok(value) => crate::domain::action::canonical_json(&map_strings(value, &erase)),
            Err(_) => self.summary.clone(),
        };
        let actor = if actor_too {
            pseudonym(key, &self.actor)
        } else {
            self.actor.clone()
        };
        let erased = ActionRow {
            actor,
            target: erase(&self.target),
            summary,
            ..self.clone()
        };
        let changed = erased.actor != self.actor || erased.target != self.target || erased.summary != self.summary;
        changed.then_some(erased)
    }
}

fn map_strings(value: Value, f: &impl Fn(&str) -> String) -> Value {
    match value {
        Value::String(text) => Value::String(f(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(members) => Value::Object(members.into_iter().map(|(k, v)| (k, map_strings(v, f))).collect()),
        other => other,
    }
}

/// Actions on members and accounts name people (their address is the target, their names may be in the
/// summary): every text of theirs is hashed. Other actions name campaigns, runs and plans, and only a text
/// that holds an address (`@`) is hashed.
fn is_about_a_person(action: &str) -> bool {
    ["member.", "members.", "user.", "advisor.", "advisors."]
        .iter()
        .any(|prefix| action.starts_with(prefix))
}

/// A text as a leaf holds it: `hmac:` and its personal hash when it may name a person, else as it is.
/// Whether a leaf holds the text hashed: when it may name a person. An erased text was hashed before it was
/// erased (that is why it was erased), so it stays hashed.
fn is_hashed(text: &str, personal: bool) -> bool {
    !text.is_empty() && (personal || text.contains('@') || text.starts_with(ERASED_PREFIX))
}

fn depersonalised(key: &[u8], text: &str, personal: bool) -> String {
    if !is_hashed(text, personal) {
        return text.to_owned();
    }
    format!("hmac:{}", stored_personal_hash(key, text).as_str())
}

fn depersonalised_value(key: &[u8], value: Value, personal: bool) -> Value {
    map_strings(value, &|text| depersonalised(key, text, personal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::leaf_bytes;

    const KEY: &[u8] = &[0x42; 32];

    /// An action by a staff user, as stored.
    fn staff_action(action: &str, target: &str, summary: &str) -> ActionRow {
        ActionRow {
            id: 9,
            at: 0,
            actor_kind: "user".into(),
            actor: "sato@example.org".into(),
            action: action.into(),
            target: target.into(),
            summary: summary.into(),
        }
    }

    #[test]
    fn an_erased_row_gives_the_leaf_it_gave_before() {
        let row = |recipient: &str| {
            LoggedRow::Send(SendRow {
                id: 1,
                delivery_id: 1042,
                attempt: 1,
                run_id: 17,
                campaign_id: 5,
                recipient: recipient.to_owned(),
                message_id: "<1042.1@outreach.example>".to_owned(),
                outcome: "sent".to_owned(),
                smtp_code: Some(250),
                at: 1_796_634_000_000,
                content_sha256: "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969".to_owned(),
            })
        };
        let before = leaf_bytes(&row("member@example.org").event(KEY).unwrap()).unwrap();
        let erased = pseudonym(KEY, "member@example.org");
        assert_eq!(pseudonym(KEY, &erased), erased, "a pseudonym is its own");
        assert!(!erased.contains("member"));
        assert_eq!(leaf_bytes(&row(&erased).event(KEY).unwrap()).unwrap(), before);
        // The example of docs/audit-format.md §1.4.
        assert!(
            String::from_utf8(before)
                .unwrap()
                .contains("\"recipient_hmac\":\"aa2f7f9995180b61c5e17d7f5d553cffddcc42db5eb043cb8d74c7e726574ede\"")
        );
    }

    #[test]
    fn texts_that_name_people_are_hashed() {
        let row = |action: &str, target: &str, summary: &str| LoggedRow::Action(staff_action(action, target, summary));
        let text = |r: LoggedRow| String::from_utf8(leaf_bytes(&r.event(KEY).unwrap()).unwrap()).unwrap();
        let member = text(row(
            "member.update",
            "member@example.org",
            r#"{"company":["山田商店","山田商事"]}"#,
        ));
        for personal in ["sato@", "member@", "山田"] {
            assert!(!member.contains(personal), "{member}");
        }
        let campaign = text(row(
            "campaign.update",
            "campaign 3",
            r#"{"name":["四月号","五月号"],"to":"x@example.org"}"#,
        ));
        assert!(campaign.contains("\"target\":\"campaign 3\"") && campaign.contains("四月号"));
        assert!(!campaign.contains("x@example.org"), "{campaign}");
        assert!(row("campaign.pause", "campaign 3", "not json").event(KEY).is_err());
        // The example of docs/audit-format.md §1.3.
        let suppress = text(row("member.suppress", "member@example.org", "{}"));
        assert!(
            suppress.contains(r#""target":"hmac:aa2f7f9995180b61c5e17d7f5d553cffddcc42db5eb043cb8d74c7e726574ede""#),
            "{suppress}"
        );
    }

    #[test]
    fn an_erased_action_gives_the_leaf_it_gave_before() {
        for (action, target, summary) in [
            (
                "member.update",
                "member@example.org",
                r#"{"company":["山田商店","山田商事"],"n":3}"#,
            ),
            (
                "campaign.update",
                "campaign 3",
                r#"{"name":["四月号","五月号"],"to":"x@example.org"}"#,
            ),
        ] {
            let row = staff_action(action, target, summary);
            let leaf = |r: &ActionRow| leaf_bytes(&LoggedRow::Action(r.clone()).event(KEY).unwrap()).unwrap();
            let erased = row.erased(KEY, true).expect("something to erase");
            assert_eq!(leaf(&erased), leaf(&row), "{action}");
            let stored = format!("{} {} {}", erased.actor, erased.target, erased.summary);
            for personal in ["sato@", "member@", "山田", "x@example"] {
                assert!(!stored.contains(personal), "{stored}");
            }
            assert!(erased.erased(KEY, true).is_none(), "erasing twice changes nothing");
        }
    }
}
