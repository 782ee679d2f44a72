//! What is wrong with a row of a recipient file, or with the whole file, as typed values carrying the data their
//! message needs. `Display` is the English the command line and the API show (and always showed); a page words
//! the same values in its own language (`src/web/staff/import_problems.rs`).

use std::fmt;

use crate::domain::member::ParseLocaleError;

/// A column of the two files, as the header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Email,
    Company,
    ContactName,
    Themes,
    Locale,
    Name,
    Branch,
}

impl Column {
    /// The column's name in the header.
    pub const fn as_str(self) -> &'static str {
        match self {
            Column::Email => "email",
            Column::Company => "company",
            Column::ContactName => "contact_name",
            Column::Themes => "themes",
            Column::Locale => "locale",
            Column::Name => "name",
            Column::Branch => "branch",
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The header a file must have, as a message writes it: `email,name,branch`.
pub fn header_of(columns: &[Column]) -> String {
    columns.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
}

/// A text of the file as a message shows it: at most [`Excerpt::SHOWN`] characters of it, and its length when it
/// was longer (a binary file's "header" can be kilobytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// The text, or its first [`Excerpt::SHOWN`] characters.
    pub shown: String,
    /// How many characters the whole text has.
    pub chars: usize,
}

impl Excerpt {
    pub const SHOWN: usize = 80;

    pub fn of(text: &str) -> Self {
        let shown = match text.char_indices().nth(Self::SHOWN) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        Excerpt {
            shown: shown.to_owned(),
            chars: text.chars().count(),
        }
    }

    /// Whether only the start of the text is shown.
    pub fn is_cut(&self) -> bool {
        self.chars > self.shown.chars().count()
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_cut() {
            write!(f, "{}… ({} characters)", self.shown, self.chars)
        } else {
            f.write_str(&self.shown)
        }
    }
}

/// Why the address parser refused an address (`lettre`'s `AddressError`, which a later version may extend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressFault {
    /// No `@`.
    MissingParts,
    Unbalanced,
    /// The part before `@`.
    InvalidUser,
    /// The part after `@`.
    InvalidDomain,
    InvalidInput,
    /// A fault this program does not know, in the parser's words.
    Other(String),
}

impl From<lettre::address::AddressError> for AddressFault {
    fn from(e: lettre::address::AddressError) -> Self {
        use lettre::address::AddressError as E;
        match e {
            E::MissingParts => AddressFault::MissingParts,
            E::Unbalanced => AddressFault::Unbalanced,
            E::InvalidUser => AddressFault::InvalidUser,
            E::InvalidDomain => AddressFault::InvalidDomain,
            E::InvalidInput => AddressFault::InvalidInput,
            other => AddressFault::Other(other.to_string()),
        }
    }
}

impl fmt::Display for AddressFault {
    /// The parser's own words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressFault::MissingParts => "Missing domain or user",
            AddressFault::Unbalanced => "Unbalanced angle bracket",
            AddressFault::InvalidUser => "Invalid email user",
            AddressFault::InvalidDomain => "Invalid email domain",
            AddressFault::InvalidInput => "Invalid input",
            AddressFault::Other(text) => text,
        })
    }
}

/// One problem of a row, or of the whole file (the header, an empty file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// The record could not be read as CSV; `detail` is the CSV reader's message.
    Unreadable { detail: String },
    /// The record spans lines that are not valid UTF-8 (the file being neither UTF-8 nor Shift_JIS).
    InvalidUtf8 {
        /// The line the record starts on.
        record_line: usize,
        /// The broken lines.
        lines: Vec<usize>,
    },
    /// The record has another number of fields than the header.
    FieldCount { expected: usize, found: usize },
    /// A field holds a control character (the first one is named).
    ControlCharacter { column: Column, character: char },
    /// A field is longer than its column allows, in characters.
    TooLong { column: Column, chars: usize, limit: usize },
    /// A required field is empty.
    Required(Column),
    /// `email` is empty.
    MissingAddress,
    /// `email` does not parse as an address.
    InvalidAddress { value: String, fault: AddressFault },
    /// The part of the address before `@` is not ASCII.
    NonAsciiUser,
    /// The domain fails IDNA (UTS #46).
    DomainNotIdna { domain: String },
    /// The address is too long once its domain is in ASCII form.
    AsciiFormTooLong { chars: usize, limit: usize },
    /// An earlier row has the same address.
    DuplicateAddress { value: String, first_line: usize },
    /// `themes` names no theme.
    NoThemes,
    /// `themes` mixes `*` with slugs.
    StarMixedWithSlugs { value: String },
    /// `themes` names slugs the plan does not have.
    UnknownThemes { unknown: Vec<String>, known: Vec<String> },
    /// `locale` is neither `ja` nor `en`.
    UnknownLocale(ParseLocaleError),
    /// The file has no record at all.
    EmptyFile { expected: &'static [Column] },
    /// The header could not be read as CSV; `detail` is the CSV reader's message.
    UnreadableHeader {
        detail: String,
        expected: &'static [Column],
    },
    /// The header does not name the columns: what is missing, unexpected (lower-cased) and named twice.
    InvalidHeader {
        header: Excerpt,
        /// The header is on a line that is neither UTF-8 nor Shift_JIS.
        undecodable: bool,
        expected: &'static [Column],
        missing: Vec<Column>,
        unexpected: Vec<Excerpt>,
        duplicated: Vec<Column>,
    },
}

fn joined<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for RowProblem {
    /// The English of the command line and the API.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowProblem::Unreadable { detail } => write!(f, "unreadable CSV record: {detail}"),
            RowProblem::InvalidUtf8 { record_line, lines } => {
                if lines.as_slice() == [*record_line] {
                    f.write_str("invalid UTF-8 (the file is neither valid UTF-8 nor Shift_JIS)")
                } else {
                    write!(
                        f,
                        "invalid UTF-8 on line {} (the file is neither valid UTF-8 nor Shift_JIS)",
                        joined(lines)
                    )
                }
            }
            RowProblem::FieldCount { expected, found } => write!(f, "expected {expected} fields, found {found}"),
            RowProblem::ControlCharacter { column, character } => write!(
                f,
                "{column}: control character U+{:04X} is not allowed",
                u32::from(*character)
            ),
            RowProblem::TooLong { column, chars, limit } => {
                write!(f, "{column}: {chars} characters, longer than the limit of {limit}")
            }
            RowProblem::Required(column) => write!(f, "{column} is empty (required)"),
            RowProblem::MissingAddress => f.write_str("missing address: email is empty"),
            RowProblem::InvalidAddress { value, fault } => write!(f, "invalid address {value:?}: {fault}"),
            RowProblem::NonAsciiUser => f.write_str(
                "email: the part before @ is not ASCII; most mail servers cannot deliver to it (no SMTPUTF8)",
            ),
            RowProblem::DomainNotIdna { domain } => write!(
                f,
                "email: the domain {domain:?} is not a valid internationalised domain name (IDNA)"
            ),
            RowProblem::AsciiFormTooLong { chars, limit } => write!(
                f,
                "email: {chars} characters in its ASCII form, longer than the limit of {limit}"
            ),
            RowProblem::DuplicateAddress { value, first_line } => {
                write!(f, "duplicate address {value} (first on line {first_line})")
            }
            RowProblem::NoThemes => {
                f.write_str("themes is empty: a member must choose at least one theme, or `*` for all")
            }
            RowProblem::StarMixedWithSlugs { value } => write!(
                f,
                "themes {value:?} mixes `*` with theme slugs: use `*` alone or a list of slugs"
            ),
            RowProblem::UnknownThemes { unknown, known } => {
                let names: Vec<String> = unknown.iter().map(|u| format!("{u:?}")).collect();
                let known_list = if known.is_empty() {
                    "none are defined".to_owned()
                } else {
                    known.join(", ")
                };
                write!(
                    f,
                    "unknown theme{} {} (known themes: {known_list})",
                    if unknown.len() == 1 { "" } else { "s" },
                    names.join(", ")
                )
            }
            RowProblem::UnknownLocale(e) => write!(f, "{e}"),
            RowProblem::EmptyFile { expected } => {
                write!(f, "empty file: expected the header {}", header_of(expected))
            }
            RowProblem::UnreadableHeader { detail, expected } => write!(
                f,
                "unreadable CSV record: {detail}; expected the header {}",
                header_of(expected)
            ),
            RowProblem::InvalidHeader {
                header,
                undecodable,
                expected,
                missing,
                unexpected,
                duplicated,
            } => {
                let note = if *undecodable {
                    " (the file is neither valid UTF-8 nor Shift_JIS)"
                } else {
                    ""
                };
                let mut details = Vec::new();
                if !missing.is_empty() {
                    details.push(format!("missing: {}", joined(missing)));
                }
                if !unexpected.is_empty() {
                    let names: Vec<String> = unexpected.iter().map(|n| format!("{:?}", n.to_string())).collect();
                    details.push(format!("unexpected: {}", names.join(", ")));
                }
                if !duplicated.is_empty() {
                    details.push(format!("duplicated: {}", joined(duplicated)));
                }
                write!(
                    f,
                    "invalid header {:?}{note}: expected the columns {} (in any order); {}",
                    header.to_string(),
                    header_of(expected),
                    details.join("; ")
                )
            }
        }
    }
}

/// The problems of one row, or (as the `Err` of the parse functions) of the whole file, with the physical
/// 1-based line on which the record starts. `Display`: `line {line}: {reason}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    /// Never empty.
    pub problems: Vec<RowProblem>,
}

impl RowError {
    pub fn new(line: usize, problem: RowProblem) -> Self {
        RowError {
            line,
            problems: vec![problem],
        }
    }

    /// The problems in English, joined with `"; "`.
    pub fn reason(&self) -> String {
        self.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason())
    }
}

impl std::error::Error for RowError {}
