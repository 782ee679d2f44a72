//! The people who receive mail: member companies (会員企業), business advisors (経営指導員) and the
//! Tosho Shimbun editorial desk (from configuration).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// The language a member receives newsletters in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    Ja,
    En,
}

impl Locale {
    /// The code used in CSV files and in the database: `ja` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Ja => "ja",
            Locale::En => "en",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`Locale::from_str`]: the text was neither `ja` nor `en`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown locale {0:?} (valid: ja, en)")]
pub struct ParseLocaleError(pub String);

impl FromStr for Locale {
    type Err = ParseLocaleError;

    /// Accepts `ja` or `en`, trimmed and case-insensitively. An empty string
    /// is an error here; the CSV parser maps an empty locale to `ja` itself.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("ja") {
            Ok(Locale::Ja)
        } else if t.eq_ignore_ascii_case("en") {
            Ok(Locale::En)
        } else {
            Err(ParseLocaleError(t.to_owned()))
        }
    }
}

/// Which themes a member subscribed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThemeSelection {
    /// `*`: every theme known when the file is imported. A theme a later plan adds reaches the member only when
    /// they opt in or a later file says `*` again (consent is to what they were shown).
    All,
    /// The listed known slugs, de-duplicated, in file order.
    Only(Vec<String>),
}

/// A valid member row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// Physical 1-based line on which the record starts.
    pub line: usize,
    /// Trimmed, original case kept; see [`normalize_email`] for the match key.
    pub email: String,
    pub company: String,
    pub contact_name: String,
    pub themes: ThemeSelection,
    pub locale: Locale,
}

/// A valid business advisor row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorRow {
    /// Physical 1-based line on which the record starts.
    pub line: usize,
    /// Trimmed, original case kept; see [`normalize_email`] for the match key.
    pub email: String,
    pub name: String,
    /// May be empty.
    pub branch: String,
}

/// The key members and advisors are matched on: trimmed, lowercased, and the domain in its ASCII (IDNA) form, so
/// `User@例え.jp` and `user@xn--r8jz45g.jp` are one address. Text whose domain IDNA refuses (not an address the
/// import accepts) is only lowercased, so lookups still work on whatever was typed.
pub fn normalize_email(email: &str) -> String {
    let email = email.trim();
    let lower = email.to_lowercase();
    let Some((user, domain)) = email.rsplit_once('@') else {
        return lower;
    };
    match idna::domain_to_ascii(domain) {
        Ok(ascii) => format!("{}@{ascii}", user.to_lowercase()),
        Err(_) => lower,
    }
}

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
    pub const ALL: [MemberSource; 4] = [Self::Import, Self::Staff, Self::Member, Self::Smtp];

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
    pub status: crate::domain::MemberStatus,
    /// Slugs of the themes the member is subscribed to, sorted.
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Advisor {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub branch: String,
    /// Inactive advisors are kept (their past handouts stay in the log) but receive no more.
    pub active: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_email_converts_an_idn_domain_to_ascii() {
        assert_eq!(normalize_email(" User@例え.JP "), "user@xn--r8jz45g.jp");
        assert_eq!(normalize_email("USER@XN--R8JZ45G.jp"), "user@xn--r8jz45g.jp");
        assert_eq!(normalize_email("b@ＥＸＡＭＰＬＥ.jp"), "b@example.jp");
    }

    #[test]
    fn normalize_email_falls_back_to_lowercase_text() {
        // Not a domain IDNA accepts (a C1 control character), and no domain at all.
        assert_eq!(normalize_email("A@Ex\u{80}.JP"), "a@ex\u{80}.jp");
        assert_eq!(normalize_email(" No-At-Sign "), "no-at-sign");
    }
}
