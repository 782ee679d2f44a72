//! Who changed what: the actor of every change, and the staff-action log row each change appends in the
//! same transaction. The log is append-only; each row has a canonical serialisation, the bytes a
//! tamper-evident chain over the log will hash.

use serde::Serialize;

use super::account::Role;
use super::campaign::StateReason;
use serde_json::{Value, json};

/// Who (or what) makes a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Actor {
    /// A person at the command line: `--as EMAIL`, else the login name.
    Operator(String),
    /// A person signed in on the web or holding an API token.
    User { email: String, role: Role },
    /// A member, through a signed link in a mail (their member id).
    Member(i64),
    /// The mail server's answers (an automatic pause after refusals).
    Smtp,
    /// The scheduler (a campaign finishing by itself).
    Scheduler,
}

impl Actor {
    pub fn operator(name: impl Into<String>) -> Self {
        Actor::Operator(name.into())
    }

    /// The operator at this terminal: `--as`, else the login name.
    pub fn from_login(given: Option<&str>) -> Self {
        let name = given
            .map(str::to_owned)
            .or_else(|| std::env::var("LOGNAME").ok())
            .or_else(|| std::env::var("USER").ok())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "operator".to_owned());
        Actor::Operator(name.trim().to_owned())
    }

    /// What this actor may do: staff at the command line anything; a signed-in person what their role allows;
    /// a member only leave or join through their link; the mail server's answers only pause a campaign or
    /// suppress an address; the scheduler only finish a campaign.
    pub fn may(&self, action: &str) -> bool {
        match self {
            Actor::Operator(_) => true,
            Actor::User { role, .. } => role.may(action),
            Actor::Member(_) => matches!(action, "member.unsubscribe" | "member.join" | "member.link_mailed"),
            Actor::Smtp => matches!(action, "campaign.pause" | "member.suppress"),
            Actor::Scheduler => action == "campaign.finish",
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Operator(_) => "operator",
            Actor::User { .. } => "user",
            Actor::Member(_) => "member",
            Actor::Smtp => "smtp",
            Actor::Scheduler => "scheduler",
        }
    }

    pub fn name(&self) -> String {
        match self {
            Actor::Operator(name) => name.clone(),
            Actor::User { email, .. } => email.clone(),
            Actor::Member(id) => format!("member {id}"),
            Actor::Smtp => "smtp".to_owned(),
            Actor::Scheduler => "scheduler".to_owned(),
        }
    }
}

/// The spelling an action had before it was renamed to one style (`campaign.send_now` was `campaign.send-now`),
/// so filters find the rows recorded under it.
pub fn former_spelling(action: &str) -> Option<&'static str> {
    match action {
        "campaign.send_now" => Some("campaign.send-now"),
        _ => None,
    }
}

/// A change about to be made: who, what, on what, and a short summary of what changed (filled in further by
/// the store where only it knows, such as an import's counts).
#[derive(Debug, Clone)]
pub struct Action {
    pub actor: Actor,
    /// `campaign.pause`, `members.import`, ….
    pub action: &'static str,
    pub target: String,
    pub summary: Value,
    /// The client's address (web requests); empty at the command line.
    pub address: String,
}

impl Action {
    pub fn new(actor: &Actor, action: &'static str, target: impl Into<String>) -> Self {
        Self {
            actor: actor.clone(),
            action,
            target: target.into(),
            summary: json!({}),
            address: String::new(),
        }
    }

    /// The scheduler finishing a campaign, with its reason: when no firing is left, and when a one-time
    /// campaign's run is done.
    pub fn campaign_finished(campaign_id: i64, reason: &StateReason) -> Self {
        Action::new(&Actor::Scheduler, "campaign.finish", format!("campaign {campaign_id}"))
            .with("reason", reason.to_string())
    }

    /// The client's address, for a change made over the web.
    pub fn from_address(mut self, address: &str) -> Self {
        address.clone_into(&mut self.address);
        self
    }

    /// Adds `key: value` to the summary.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let Value::Object(map) = &mut self.summary {
            map.insert(key.to_owned(), value.into());
        }
        self
    }
}

/// A row of the staff-action log as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRecord {
    pub id: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor: String,
    pub address: String,
    pub action: String,
    pub target: String,
    /// Canonical JSON (keys sorted, no spaces).
    pub summary: String,
}

impl ActionRecord {
    /// The row's canonical serialisation: one line of JSON with sorted keys and no spaces, the summary
    /// embedded as parsed JSON, so equal rows always give equal bytes.
    pub fn canonical(&self) -> String {
        let summary: Value = serde_json::from_str(&self.summary).unwrap_or(Value::String(self.summary.clone()));
        json!({
            "id": self.id,
            "at": self.at,
            "actor_kind": self.actor_kind,
            "actor": self.actor,
            "address": self.address,
            "action": self.action,
            "target": self.target,
            "summary": summary,
        })
        .to_string()
    }
}

/// JSON text with sorted keys and no spaces (serde_json's map is ordered by key).
pub fn canonical_json(value: &Value) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_actor_may_do_only_its_part() {
        assert!(Actor::operator("a@example.org").may("campaign.cancel"));
        assert!(Actor::Member(3).may("member.unsubscribe"));
        assert!(!Actor::Member(3).may("member.suppress"));
        assert!(!Actor::Member(3).may("campaign.pause"));
        assert!(Actor::Smtp.may("campaign.pause") && !Actor::Smtp.may("campaign.cancel"));
        assert!(Actor::Scheduler.may("campaign.finish") && !Actor::Scheduler.may("members.import"));
    }

    #[test]
    fn canonical_serialisation_is_sorted_and_stable() {
        let row = ActionRecord {
            id: 7,
            at: 1_600_000_000_000,
            actor_kind: "operator".into(),
            actor: "suzuki@example.org".into(),
            address: String::new(),
            action: "campaign.pause".into(),
            target: "campaign 3".into(),
            summary: canonical_json(&json!({"to": "paused", "from": "scheduled"})),
        };
        assert_eq!(
            row.canonical(),
            r#"{"action":"campaign.pause","actor":"suzuki@example.org","actor_kind":"operator","address":"","at":1600000000000,"id":7,"summary":{"from":"scheduled","to":"paused"},"target":"campaign 3"}"#
        );
    }
}
