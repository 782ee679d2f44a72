//! The fields a person fills in, by whichever way they come — the command line, the staff pages or the API — so
//! that an error names its field as a value, never inside a message: each way shows it in its own words (the
//! option, the label beside the form field, the JSON field).

/// A field a person fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// A campaign's internal name, as staff find it.
    Name,
    /// The member-facing title of a campaign.
    Title,
    /// A Tosho Shimbun manuscript's issue.
    Issue,
    Theme,
    Channel,
    /// When a campaign fires, as a whole: one of `At` and `Cron`, and whether it ever fires.
    Schedule,
    At,
    Cron,
    From,
    Until,
    /// The logs' filters by time and outcome.
    Since,
    To,
    Status,
    FiscalYear,
    /// The language of a preview.
    Locale,
    /// Why staff suppressed, unsubscribed or lifted a suppression.
    Reason,
    /// An address someone typed (a member's, a user's), before any parsing.
    Email,
    /// The send log's recipient filter.
    Recipient,
    /// A search term (members by address, company or name).
    Query,
    /// The action log's filters.
    Actor,
    Action,
    Target,
    Password,
    Role,
    /// An API token's name, as admins tell tokens apart.
    TokenName,
    /// An API token's lifetime in days.
    Expires,
}

impl Field {
    /// The command-line option that gives it.
    pub fn option(self) -> &'static str {
        match self {
            Field::Name | Field::TokenName => "--name",
            Field::Title => "--title",
            Field::Issue => "--issue",
            Field::Theme => "--theme",
            Field::Channel => "--channel",
            Field::Schedule => "--at/--cron",
            Field::At => "--at",
            Field::Cron => "--cron",
            Field::From => "--from",
            Field::Until => "--until",
            Field::Since => "--since",
            Field::To => "--to",
            Field::Status => "--status",
            Field::FiscalYear => "--fiscal-year",
            Field::Locale => "--locale",
            Field::Reason => "--reason",
            Field::Email => "--email",
            Field::Recipient => "--recipient",
            Field::Query => "--query",
            Field::Actor => "--actor",
            Field::Action => "--action",
            Field::Target => "--target",
            Field::Password => "--password-stdin",
            Field::Role => "--role",
            Field::Expires => "--expires",
        }
    }

    /// Its name in the API's JSON (and the staff form's `name=`); `None` for the schedule as a whole, which the
    /// API gives as two fields (`at`, `cron`).
    pub fn api_name(self) -> Option<&'static str> {
        Some(match self {
            Field::Schedule => return None,
            Field::Name | Field::TokenName => "name",
            Field::Title => "title",
            Field::Issue => "issue",
            Field::Theme => "theme",
            Field::Channel => "channel",
            Field::At => "at",
            Field::Cron => "cron",
            Field::From => "from",
            Field::Until => "until",
            Field::Since => "since",
            Field::To => "to",
            // The send log's outcome: `--status` at the command line.
            Field::Status => "outcome",
            Field::FiscalYear => "fiscal_year",
            Field::Locale => "locale",
            Field::Reason => "reason",
            Field::Email => "email",
            Field::Recipient => "recipient",
            Field::Query => "q",
            Field::Actor => "actor",
            Field::Action => "action",
            Field::Target => "target",
            Field::Password => "password",
            Field::Role => "role",
            Field::Expires => "expires_days",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_for_each_way_in() {
        assert_eq!(
            (Field::FiscalYear.option(), Field::FiscalYear.api_name()),
            ("--fiscal-year", Some("fiscal_year"))
        );
        assert_eq!(Field::Schedule.api_name(), None);
    }
}
