//! Why a campaign is paused, held or finished, as a value: the worker, the scheduler and the services say which
//! reason with its data, the store keeps it as JSON, and each reader words it — the command line and the API in
//! English (`Display`, the text earlier versions stored), the pages from their message catalogue. Nobody reads
//! the words back to learn the reason.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StateReason {
    /// Scheduled or sending: nothing to explain.
    #[default]
    None,
    PausedByStaff,
    CancelledByStaff,
    /// The schedule has no firing time left inside the campaign's dates.
    NoFiringLeft,
    /// The mail server refused the sending itself (not one recipient): its reply as it gave it.
    ServerRefusesSending {
        code: Option<u16>,
        reply: String,
    },
    /// The campaign's mail no longer renders (the template's error): held until it is fixed and resumed.
    DoesNotRender {
        error: String,
    },
    /// More of a run's recorded outcomes failed than `delivery.failure_rate_pause` allows.
    FailureRate {
        failed: u64,
        done: u64,
        run: i64,
        /// Both as fractions (0.3 is 30%).
        rate: f64,
        limit: f64,
    },
    /// A reason an earlier version stored as free text, shown as it was stored.
    Text {
        text: String,
    },
}

impl StateReason {
    /// The column's value: empty for no reason, else the reason as JSON.
    pub fn encode(&self) -> String {
        match self {
            StateReason::None => String::new(),
            // A value of this enum always serialises: no map keys or floats that JSON cannot hold (rates are
            // finite by the configuration's check), so the fallback only keeps the words.
            other => serde_json::to_string(other).unwrap_or_else(|_| other.to_string()),
        }
    }

    /// The stored column back as a reason; text that is not one of ours (older rows) stays text.
    pub fn decode(stored: &str) -> StateReason {
        if stored.is_empty() {
            return StateReason::None;
        }
        serde_json::from_str(stored).unwrap_or_else(|_| StateReason::Text {
            text: stored.to_owned(),
        })
    }

    pub fn is_none(&self) -> bool {
        *self == StateReason::None
    }
}

/// In English, as the command line and the API say it (and as earlier versions stored it).
impl fmt::Display for StateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateReason::None => Ok(()),
            StateReason::PausedByStaff => f.write_str("paused by staff"),
            StateReason::CancelledByStaff => f.write_str("cancelled by staff"),
            StateReason::NoFiringLeft => f.write_str("no firing time left inside the campaign's bounds"),
            StateReason::ServerRefusesSending { code, reply } => {
                write!(f, "paused: the mail server refuses the sending, not a recipient: ")?;
                match code {
                    Some(code) => write!(f, "{code} {reply}"),
                    None => f.write_str(reply),
                }
            }
            StateReason::DoesNotRender { error } => write!(f, "held: the mail does not render: {error}"),
            StateReason::FailureRate {
                failed,
                done,
                run,
                rate,
                limit,
            } => write!(
                f,
                "paused automatically: {failed} of {done} deliveries of run {run} failed ({:.0}% > {:.0}%)",
                rate * 100.0,
                limit * 100.0
            ),
            StateReason::Text { text } => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every() -> Vec<StateReason> {
        vec![
            StateReason::None,
            StateReason::PausedByStaff,
            StateReason::CancelledByStaff,
            StateReason::NoFiringLeft,
            StateReason::ServerRefusesSending {
                code: Some(554),
                reply: "5.7.1 relay denied".into(),
            },
            StateReason::ServerRefusesSending {
                code: None,
                reply: "no reply".into(),
            },
            StateReason::DoesNotRender {
                error: "missing partial".into(),
            },
            StateReason::FailureRate {
                failed: 3,
                done: 10,
                run: 5,
                rate: 0.3,
                limit: 0.2,
            },
            StateReason::Text {
                text: "{ something an older version wrote".into(),
            },
        ]
    }

    #[test]
    fn every_reason_comes_back_as_it_was_stored() {
        for reason in every() {
            assert_eq!(StateReason::decode(&reason.encode()), reason, "{reason:?}");
        }
        assert_eq!(StateReason::None.encode(), "");
    }

    #[test]
    fn english_is_the_text_earlier_versions_stored() {
        let said: Vec<String> = every().iter().map(ToString::to_string).collect();
        assert_eq!(
            said[..8],
            [
                "",
                "paused by staff",
                "cancelled by staff",
                "no firing time left inside the campaign's bounds",
                "paused: the mail server refuses the sending, not a recipient: 554 5.7.1 relay denied",
                "paused: the mail server refuses the sending, not a recipient: no reply",
                "held: the mail does not render: missing partial",
                "paused automatically: 3 of 10 deliveries of run 5 failed (30% > 20%)",
            ]
        );
        // What the migration (0010) makes of the older texts, in PostgreSQL's spelling of JSON.
        assert_eq!(
            StateReason::decode(r#"{"kind" : "server-refuses-sending", "code" : null, "reply" : "554 5.7.1 no"}"#),
            StateReason::ServerRefusesSending {
                code: None,
                reply: "554 5.7.1 no".into()
            }
        );
        // Text from an older version that is not JSON is kept and shown as it was.
        assert_eq!(
            StateReason::decode("paused automatically: 1 of 2"),
            StateReason::Text {
                text: "paused automatically: 1 of 2".into()
            }
        );
    }
}
