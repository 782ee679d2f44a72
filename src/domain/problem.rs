//! What is wrong with what a person gave, as a value: a [`Problem`] (the message key and its arguments) about a
//! [`Field`]. Each way in words it for its reader — the command line in English with its options
//! (`--name must not be empty`), the API in English with its JSON field names, the staff pages beside the field in
//! Japanese or English from the pages' catalogue — and none of them reads a message to find the field.

use super::field::Field;

/// What is wrong, with what the message needs to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Empty,
    Control(char),
    TooLong {
        chars: usize,
        max: usize,
    },
    NotAnAddress(String),
    /// More values than allowed (test mails go to at most ten addresses).
    TooMany {
        given: usize,
        max: usize,
    },
    /// Not a local date and time (`2020-06-01T09:00`).
    BadDateTime(String),
    /// Not a local date (`2020-06-01`).
    BadDate(String),
    BadCron {
        expr: String,
        reason: String,
    },
    /// Both or neither of a date and time and a cron expression.
    OneSchedule,
    /// A schedule with no firing time left; `between` is the campaign's window when it has one.
    NeverFires {
        schedule: String,
        once: bool,
        between: Option<(String, String)>,
    },
    /// An issue is for the Tosho Shimbun's manuscripts only.
    IssueForManuscripts,
    UnknownTheme {
        slug: String,
        known: Vec<String>,
    },
    UnknownChannel(String),
    NoDuty {
        theme: String,
        channel: String,
    },
    /// English mails are for newsletters only.
    EnglishForNewsletters,
    ExpiresDays(u32),
    PasswordShort {
        chars: usize,
        min: usize,
    },
    PasswordControl,
    PasswordCommon,
    PasswordLikeAddress,
    UnknownRole(String),
    /// Not an outcome of the send log.
    UnknownOutcome(String),
    /// The campaign's mail does not render for its audience (the template's error).
    DoesNotRender(String),
}

/// How the English text names the field: as the command line's option or as the API's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    Option,
    Api,
}

/// A problem with one field (or with the request as a whole when `field` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.english(Naming::Option))]
pub struct FieldError {
    pub field: Option<Field>,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: Field, problem: Problem) -> Self {
        Self {
            field: Some(field),
            problem,
        }
    }

    /// In English, naming the field as the command line or the API does.
    pub fn english(&self, naming: Naming) -> String {
        let f = match (self.field, naming) {
            (Some(field), Naming::Option) => field.option(),
            (Some(field), Naming::Api) => field.api_name().unwrap_or(field.option()),
            (None, _) => "the value",
        };
        let (at, cron) = match naming {
            Naming::Option => ("--at", "--cron"),
            Naming::Api => ("at", "cron"),
        };
        match &self.problem {
            // The schedule as a whole is two options (fields): say which.
            Problem::Empty | Problem::OneSchedule if self.field == Some(Field::Schedule) => {
                format!("give exactly one of {at} and {cron}")
            }
            Problem::Empty => format!("{f} must not be empty"),
            Problem::Control(c) => format!(
                "{f} must not contain control characters (U+{:04X} found)",
                u32::from(*c)
            ),
            Problem::TooLong { chars, max } => {
                format!("{f} is {chars} characters long, longer than the limit of {max}")
            }
            Problem::NotAnAddress(given) => format!("{given:?} is not an e-mail address"),
            Problem::TooMany { given, max } => format!("{f}: {given} given, at most {max}"),
            Problem::BadDateTime(given) => format!("invalid {f} {given:?}: expected YYYY-MM-DDTHH:MM[:SS]"),
            Problem::BadDate(given) => format!("invalid {f} {given:?}: expected YYYY-MM-DD"),
            Problem::BadCron { expr, reason } => format!("invalid cron expression {expr:?}: {reason}"),
            Problem::OneSchedule => format!("give exactly one of {at} and {cron}"),
            Problem::NeverFires { schedule, between, .. } => match between {
                Some((from, until)) => format!("the schedule {schedule} never fires between {from} and {until}"),
                None => format!("the schedule {schedule} never fires from now on"),
            },
            Problem::IssueForManuscripts => {
                format!("{f} names the Tosho Shimbun issue a manuscript is for: only for tosho-shimbun campaigns")
            }
            Problem::UnknownTheme { slug, known } => format!("unknown theme {slug:?} (known: {})", known.join(", ")),
            Problem::UnknownChannel(given) => {
                let valid: Vec<&str> = super::Channel::ALL.iter().map(|c| c.slug()).collect();
                format!("unknown channel {given:?}: expected one of {}", valid.join(", "))
            }
            Problem::NoDuty { theme, channel } => {
                format!("the plan names no duty on channel {channel} for theme {theme}")
            }
            Problem::EnglishForNewsletters => {
                format!("{f} en: only newsletters have English mails; advisors and the editorial desk read Japanese")
            }
            Problem::ExpiresDays(days) => format!("{f} {days}: give 1 to 3650 days"),
            Problem::PasswordShort { chars, min } => {
                format!("the password is {chars} characters long; it must have at least {min}")
            }
            Problem::PasswordControl => "the password contains a control character".to_owned(),
            Problem::PasswordCommon => {
                "the password is on the list of the most common passwords; choose another".to_owned()
            }
            Problem::PasswordLikeAddress => "the password is mostly the address; choose another".to_owned(),
            Problem::UnknownRole(given) => format!("{given:?} is not a role: admin, staff or auditor"),
            Problem::UnknownOutcome(given) => format!("{f} {given:?}: expected sent, deferred, failed or skipped"),
            Problem::DoesNotRender(cause) => {
                format!("the template does not render for this campaign's audience: {cause}")
            }
        }
    }
}

/// Every problem found in one request (at least one), in the order of its fields, so that a form shows them all
/// at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.english(Naming::Option))]
pub struct Invalid(Vec<FieldError>);

impl Invalid {
    /// The problems, if any were found.
    pub fn check(problems: Vec<FieldError>) -> Result<(), Invalid> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Invalid(problems))
        }
    }

    pub fn problems(&self) -> &[FieldError] {
        &self.0
    }

    /// The first problem: the one the API's `field` names.
    pub fn first(&self) -> Option<&FieldError> {
        self.0.first()
    }

    /// All problems in English, `; ` between them.
    pub fn english(&self, naming: Naming) -> String {
        let texts: Vec<String> = self.0.iter().map(|p| p.english(naming)).collect();
        texts.join("; ")
    }
}

impl From<FieldError> for Invalid {
    fn from(e: FieldError) -> Self {
        Invalid(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_words_the_same_problem_with_its_own_field_name() {
        let e = FieldError::new(Field::FiscalYear, Problem::Empty);
        assert_eq!(e.to_string(), "--fiscal-year must not be empty");
        assert_eq!(e.english(Naming::Api), "fiscal_year must not be empty");
        let e = FieldError::new(Field::Name, Problem::Empty);
        let both = FieldError::new(Field::Schedule, Problem::OneSchedule);
        assert_eq!(both.to_string(), "give exactly one of --at and --cron");
        assert_eq!(both.english(Naming::Api), "give exactly one of at and cron");
        let neither = FieldError::new(Field::Schedule, Problem::Empty);
        assert_eq!(neither.english(Naming::Api), "give exactly one of at and cron");
        let all = Invalid(vec![e, both]);
        assert_eq!(
            all.to_string(),
            "--name must not be empty; give exactly one of --at and --cron"
        );
        assert!(Invalid::check(Vec::new()).is_ok());
    }
}
