//! The rules for every text a person gives — at the command line, in the pages or through the API — checked once
//! here and used by all three (the CSV import applies the same rules to its columns). No control characters
//! (Unicode category Cc: NUL, tab, CR, LF, ESC, DEL and the C1 controls): these texts are printed on operators'
//! terminals, go into mail headers and log lines, and PostgreSQL cannot store NUL. Each field has a length limit
//! in characters, so a 60 KB name is refused where it is typed, not found later in a table.
//!
//! Rows written before these rules may still hold such characters: [`printable`] shows them escaped wherever
//! stored text reaches a terminal.

use std::borrow::Cow;

/// A field a person fills in: how the services name it (as its command-line option, which is also the API's
/// field and the form's, see `web::api::error`) and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub option: &'static str,
    pub max_chars: usize,
}

/// A campaign's internal name, as staff find it.
pub const CAMPAIGN_NAME: Field = Field {
    option: "--name",
    max_chars: 200,
};
/// The member-facing title of a campaign.
pub const TITLE: Field = Field {
    option: "--title",
    max_chars: 200,
};
/// A Tosho Shimbun manuscript's issue.
pub const ISSUE: Field = Field {
    option: "--issue",
    max_chars: 200,
};
/// Why staff suppressed, unsubscribed or lifted a suppression.
pub const REASON: Field = Field {
    option: "--reason",
    max_chars: 500,
};
/// A search term (members by address, company or name).
pub const SEARCH: Field = Field {
    option: "--query",
    max_chars: 200,
};
/// An API token's name, as admins tell tokens apart.
pub const TOKEN_NAME: Field = Field {
    option: "--name",
    max_chars: 100,
};
/// An address someone typed (a member's, a user's, a recipient's), before any parsing.
pub const EMAIL: Field = Field {
    option: "--email",
    max_chars: 254,
};

/// What is wrong with a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Empty,
    Control(char),
    TooLong { chars: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct TextError {
    pub field: Field,
    pub problem: Problem,
}

impl TextError {
    fn message(&self) -> String {
        let option = self.field.option;
        match self.problem {
            Problem::Empty => format!("{option} must not be empty"),
            Problem::Control(c) => format!(
                "{option} must not contain control characters (U+{:04X} found)",
                u32::from(c)
            ),
            Problem::TooLong { chars } => format!(
                "{option} is {chars} characters long, longer than the limit of {}",
                self.field.max_chars
            ),
        }
    }

    /// The same problem, told of a field the caller names otherwise (`--recipient` for an address filter).
    pub fn named(self, option: &'static str) -> Self {
        Self {
            field: Field { option, ..self.field },
            ..self
        }
    }

    /// The problem in the reader's language, for a message beside a form field.
    pub fn explain(&self, english: bool) -> String {
        let max = self.field.max_chars;
        match (self.problem, english) {
            (Problem::Empty, false) => "入力してください。".to_owned(),
            (Problem::Empty, true) => "Enter a value.".to_owned(),
            (Problem::Control(_), false) => "改行や制御文字は使えません。".to_owned(),
            (Problem::Control(_), true) => "No line breaks or control characters.".to_owned(),
            (Problem::TooLong { .. }, false) => format!("{max}文字以内で入力してください。"),
            (Problem::TooLong { .. }, true) => format!("At most {max} characters."),
        }
    }
}

impl Field {
    /// The text trimmed, if it obeys the field's rules; an empty text is allowed (see [`Field::required`]).
    pub fn check<'a>(&self, value: &'a str) -> Result<&'a str, TextError> {
        let error = |problem| TextError { field: *self, problem };
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(error(Problem::Control(c)));
        }
        let value = value.trim();
        let chars = value.chars().count();
        if chars > self.max_chars {
            return Err(error(Problem::TooLong { chars }));
        }
        Ok(value)
    }

    /// As [`Field::check`], and not empty.
    pub fn required<'a>(&self, value: &'a str) -> Result<&'a str, TextError> {
        match self.check(value)? {
            "" => Err(TextError {
                field: *self,
                problem: Problem::Empty,
            }),
            value => Ok(value),
        }
    }

    /// An optional text: `None` when not given; given but blank is refused (leave it out for the default).
    pub fn optional<'a>(&self, value: Option<&'a str>) -> Result<Option<&'a str>, TextError> {
        value.map(|v| self.required(v)).transpose()
    }
}

/// The text without its control characters and cut to `max_chars`: what is recorded of a text that was refused
/// (a failed sign-in keeps the address typed, minus what no log should hold).
pub fn cleaned(value: &str, max_chars: usize) -> String {
    value.chars().filter(|c| !c.is_control()).take(max_chars).collect()
}

/// Stored text as a terminal may show it: control characters other than tab written as escapes (`\n`, `\0`,
/// `\u{1b}`), so a stored name cannot forge a line or change the terminal's colours.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_lengths_are_refused_by_field() {
        for bad in ["a\0b", "a\rb", "a\nb", "a\u{1b}[31mb", "a\u{7f}", "a\u{85}", "a\tb"] {
            let e = CAMPAIGN_NAME.check(bad).unwrap_err();
            assert!(matches!(e.problem, Problem::Control(_)), "{bad:?}");
            assert!(
                e.to_string()
                    .starts_with("--name must not contain control characters (U+"),
                "{e}"
            );
        }
        let long = "あ".repeat(201);
        let e = TITLE.check(&long).unwrap_err();
        assert_eq!(e.problem, Problem::TooLong { chars: 201 });
        assert_eq!(
            e.to_string(),
            "--title is 201 characters long, longer than the limit of 200"
        );
        assert_eq!(TITLE.check(&"あ".repeat(200)).map(str::len), Ok(600));
        assert_eq!(REASON.check("  理由  "), Ok("理由"));
        assert_eq!(REASON.required("   ").unwrap_err().problem, Problem::Empty);
        assert_eq!(ISSUE.optional(None), Ok(None));
        assert_eq!(ISSUE.optional(Some(" ")).unwrap_err().problem, Problem::Empty);
        assert!(CAMPAIGN_NAME.check("").is_ok());
    }

    #[test]
    fn printable_escapes_what_a_terminal_would_obey() {
        assert_eq!(printable("月次\tニュース"), "月次\tニュース");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(printable("x\r\nforged\u{1b}[31m\0"), "x\\r\\nforged\\u{1b}[31m\\0");
        assert_eq!(cleaned("admin@example.org\0\u{1b}", 254), "admin@example.org");
        assert_eq!(cleaned("abc", 2), "ab");
    }
}
