//! A request the stored state refuses, as a value: what is missing or in the way, with what a message needs to
//! say so. The command line and the API say it in English (`Display`, the texts they always printed); the pages
//! word it from their catalogue by its kind and data, so a Japanese page never shows the English.

use super::campaign::CampaignState;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no campaign {0}")]
    NoCampaign(i64),
    #[error("no run {0}")]
    NoRun(i64),
    #[error("no member {0}")]
    NoMember(String),
    #[error("no advisor {0}")]
    NoAdvisor(String),
    #[error("no API token {0}")]
    NoToken(i64),
    #[error("no send-log row {0}")]
    NoLogRecord(i64),
    /// Only a scheduled campaign is sent now.
    #[error("campaign {id} is {}", state.as_str())]
    NotSendable { id: i64, state: CampaignState },
    #[error("campaign {id} is {}: only a scheduled or paused campaign can be edited", state.as_str())]
    NotEditable { id: i64, state: CampaignState },
    #[error("campaign {id} ended while it was being edited; nothing changed")]
    EndedWhileEdited { id: i64 },
    /// A state only the worker or the scheduler sets (sending, finished).
    #[error("a campaign cannot be made {} by hand", .0.as_str())]
    NotByHand(CampaignState),
    /// A campaign held for its template resumes only once its mail renders again.
    #[error("campaign {id} stays paused: {error}")]
    StaysPaused { id: i64, error: String },
    #[error("campaign {id} is {}; it cannot become {}", state.as_str(), to.as_str())]
    CannotBecome {
        id: i64,
        state: CampaignState,
        to: CampaignState,
    },
    #[error("{0} is not suppressed")]
    NotSuppressed(String),
    #[error("there already is an account for {0}")]
    AccountExists(String),
}

/// How a refusal is answered: the same kinds as every other error (`crate::error::ErrorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    NotFound,
    Conflict,
    Invalid,
}

impl Refusal {
    pub fn kind(&self) -> RefusalKind {
        use Refusal::*;
        match self {
            NoCampaign(_) | NoRun(_) | NoMember(_) | NoAdvisor(_) | NoToken(_) | NoLogRecord(_) => {
                RefusalKind::NotFound
            }
            NotByHand(_) | StaysPaused { .. } => RefusalKind::Invalid,
            NotSendable { .. }
            | NotEditable { .. }
            | EndedWhileEdited { .. }
            | CannotBecome { .. }
            | NotSuppressed(_)
            | AccountExists(_) => RefusalKind::Conflict,
        }
    }
}
