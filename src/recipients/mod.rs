//! The people who receive mail: member companies (会員企業), business advisors (経営指導員) and the
//! Tosho Shimbun editorial desk (from configuration).

pub mod csv;

use serde::Serialize;

/// Who or what changed a member's state; kept in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSource {
    /// A CSV import by staff.
    Import,
    /// Staff on the command line.
    Staff,
    /// The member, through a link in a mail.
    Member,
    /// The mail server refused the address.
    Smtp,
}

impl MemberSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberSource::Import => "import",
            MemberSource::Staff => "staff",
            MemberSource::Member => "member",
            MemberSource::Smtp => "smtp",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub company: String,
    pub contact_name: String,
    pub locale: String,
    /// active, unsubscribed (from everything) or suppressed.
    pub status: String,
    /// Slugs of the themes the member is subscribed to, sorted.
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Advisor {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub branch: String,
}

/// One change of a member's state, as kept in the history.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberEvent {
    pub at: i64,
    /// None for a change of the global state.
    pub theme_slug: Option<String>,
    /// created, updated, subscribed, unsubscribed or suppressed.
    pub event: String,
    /// import, staff, member or smtp.
    pub source: String,
    pub reason: String,
}

/// What an import did, row by row in summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// (address, theme) pairs the file asks for but the member had unsubscribed from: left unsubscribed.
    pub kept_unsubscribed: Vec<(String, String)>,
}
