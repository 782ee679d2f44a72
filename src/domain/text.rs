//! The rules for every text a person gives — at the command line, in the pages or through the API — checked once
//! here and used by all three (the CSV import applies the same rules to its columns). No control characters
//! (Unicode category Cc: NUL, tab, CR, LF, ESC, DEL and the C1 controls): these texts are printed on operators'
//! terminals, go into mail headers and log lines, and PostgreSQL cannot store NUL. Each field has a length limit
//! in characters, so a 60 KB name is refused where it is typed, not found later in a table.
//!
//! Rows written before these rules may still hold such characters: [`printable`] shows them escaped wherever
//! stored text reaches a terminal.

use std::borrow::Cow;

use super::field::Field;
use super::problem::{FieldError, Problem};

impl Field {
    /// The field's one length rule, in characters. Fields that are parsed after this check (dates, cron, a role)
    /// are held to a limit too, so a pasted 60 KB never reaches a parser or a message.
    pub fn max_chars(self) -> usize {
        match self {
            Field::Reason => 500,
            Field::Email | Field::Recipient => 254,
            Field::TokenName => 100,
            _ => 200,
        }
    }

    /// The text trimmed, if it obeys the field's rules; an empty text is allowed (see [`Field::required`]).
    pub fn check(self, value: &str) -> Result<&str, FieldError> {
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(FieldError::new(self, Problem::Control(c)));
        }
        let value = value.trim();
        let chars = value.chars().count();
        let max = self.max_chars();
        if chars > max {
            return Err(FieldError::new(self, Problem::TooLong { chars, max }));
        }
        Ok(value)
    }

    /// As [`Field::check`], and not empty.
    pub fn required(self, value: &str) -> Result<&str, FieldError> {
        match self.check(value)? {
            "" => Err(FieldError::new(self, Problem::Empty)),
            value => Ok(value),
        }
    }

    /// An optional text: `None` when not given; given but blank is refused (leave it out for the default).
    pub fn optional(self, value: Option<&str>) -> Result<Option<&str>, FieldError> {
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
            let e = Field::Name.check(bad).unwrap_err();
            assert!(matches!(e.problem, Problem::Control(_)), "{bad:?}");
            assert!(
                e.to_string()
                    .starts_with("--name must not contain control characters (U+"),
                "{e}"
            );
        }
        let long = "あ".repeat(201);
        let e = Field::Title.check(&long).unwrap_err();
        assert_eq!(e.problem, Problem::TooLong { chars: 201, max: 200 });
        assert_eq!(
            e.to_string(),
            "--title is 201 characters long, longer than the limit of 200"
        );
        assert_eq!(Field::Title.check(&"あ".repeat(200)).map(str::len), Ok(600));
        assert_eq!(Field::Reason.check("  理由  "), Ok("理由"));
        assert_eq!(Field::TokenName.max_chars(), 100);
        assert_eq!(Field::Reason.required("   ").unwrap_err().problem, Problem::Empty);
        assert_eq!(Field::Issue.optional(None), Ok(None));
        assert_eq!(Field::Issue.optional(Some(" ")).unwrap_err().problem, Problem::Empty);
        assert!(Field::Name.check("").is_ok());
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
