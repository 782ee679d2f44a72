//! Parsing of the two recipient CSV imports: member companies (会員企業) and
//! business advisors (経営指導員).
//!
//! This module is pure: it takes the bytes of an uploaded file and returns the
//! good rows together with *every* row problem, each tagged with the physical
//! 1-based line on which its record starts (the header is line 1). Whether a
//! file with bad rows is rejected as a whole or imported without them is up to
//! the caller.
//!
//! # Files
//!
//! * Members: header `email,company,contact_name,themes,locale`. `themes` is a
//!   `;`-separated list of theme slugs, or `*` for all known themes; `locale`
//!   is `ja` or `en`, empty meaning `ja`.
//! * Advisors: header `email,name,branch`.
//!
//! A leading `'` before `=`, `+`, `-` or `@` is dropped: it is how `members export` keeps a spreadsheet from
//! reading such a cell as a formula, so an export edited and imported back is unchanged.
//!
//! The header must name exactly those columns, in any order; names are compared
//! after trimming and case-insensitively. Every field is trimmed. Blank lines
//! (and lines whose fields are all empty, such as `,,,,`) are skipped.
//!
//! # Field rules
//!
//! Every field, once trimmed, must obey these rules; a row that breaks them is
//! reported with these problems alone, each naming its field (like an
//! unreadable row, its other checks wait until the text is fixed):
//!
//! * No control characters (Unicode category Cc: NUL, tab, CR, LF, DEL and the
//!   C1 controls). The values go into mail headers and greetings, where a line
//!   break could forge a header line, and PostgreSQL cannot store NUL. That
//!   includes a line break inside a quoted field. Tab is refused too: no field
//!   here is free text that needs one.
//! * No more characters (not bytes) than the column's limit: `email` 254
//!   ([`EMAIL_MAX_CHARS`]), `company` 200 ([`COMPANY_MAX_CHARS`]),
//!   `contact_name` 100 ([`CONTACT_NAME_MAX_CHARS`]), `name` 100
//!   ([`NAME_MAX_CHARS`]), `branch` 100 ([`BRANCH_MAX_CHARS`]) and `themes`
//!   1000 ([`THEMES_MAX_CHARS`]). `locale` has no limit of its own: only `ja`
//!   and `en` pass its check.
//!
//! # Addresses
//!
//! An address must parse as an email address, and its part before `@` must be
//! ASCII: delivering to any other needs the SMTPUTF8 extension, which most mail
//! servers lack, so such a row would be deferred for ever. The domain must pass
//! IDNA (UTS #46); an internationalised domain is stored and sent in its ASCII
//! form (`user@例え.jp` becomes `user@xn--r8jz45g.jp`), which must then also fit
//! in [`EMAIL_MAX_CHARS`]. An ASCII domain is kept as written. Duplicates are
//! found on [`normalize_email`], so `user@例え.jp` and `USER@xn--r8jz45g.jp` in
//! one file are the same address.
//!
//! # Encoding
//!
//! Excel in Japan saves CSV as Shift_JIS (Windows-31J), or as UTF-8 with a byte
//! order mark. The encoding is decided as follows:
//!
//! 1. A leading UTF-8 BOM is stripped and the rest is read as UTF-8
//!    ([`SourceEncoding::Utf8Bom`]).
//! 2. Otherwise, if all bytes are valid UTF-8, the file is UTF-8
//!    ([`SourceEncoding::Utf8`]).
//! 3. Otherwise each line is classified. If no line is valid UTF-8 containing
//!    non-ASCII characters, and the whole input decodes as Shift_JIS without a
//!    single error, the file is Shift_JIS ([`SourceEncoding::ShiftJis`]).
//! 4. Otherwise the file is UTF-8 with broken lines ([`SourceEncoding::Utf8`]):
//!    each record containing a line that is not valid UTF-8 is reported as an
//!    `invalid UTF-8` row error, and the other rows still parse.
//!
//! # Problems
//!
//! Each problem is a typed [`RowProblem`] carrying its data (the column, the value, the limit, the first line
//! of a duplicate); its `Display` is the English the command line and the API show, and a [`RowError`] joins a
//! row's problems with `"; "` after `line {line}: `. Pages word the same values in their own language.
//! `table.rs` reads the file into records; `problem.rs` holds the problems.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use lettre::Address;

mod problem;
mod table;
#[cfg(test)]
mod tests;

use table::read_table;

pub use problem::{AddressFault, Column, Excerpt, RowError, RowProblem, header_of};

const MEMBER_COLUMNS: [Column; 5] = [
    Column::Email,
    Column::Company,
    Column::ContactName,
    Column::Themes,
    Column::Locale,
];
const ADVISOR_COLUMNS: [Column; 3] = [Column::Email, Column::Name, Column::Branch];
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Longest `email`, in characters: the longest address SMTP carries (RFC 5321: a
/// path of 256 octets, angle brackets included).
pub const EMAIL_MAX_CHARS: usize = 254;
/// Longest `company` (member files), in characters.
pub const COMPANY_MAX_CHARS: usize = 200;
/// Longest `contact_name` (member files), in characters.
pub const CONTACT_NAME_MAX_CHARS: usize = 100;
/// Longest `name` (advisor files), in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// Longest `branch` (advisor files), in characters.
pub const BRANCH_MAX_CHARS: usize = 100;
/// Longest `themes` (member files), in characters: room for every theme slug.
pub const THEMES_MAX_CHARS: usize = 1000;

pub use crate::domain::member::{AdvisorRow, Locale, MemberRow, ParseLocaleError, ThemeSelection, normalize_email};

/// How the input bytes were decoded (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEncoding {
    Utf8,
    Utf8Bom,
    ShiftJis,
}

/// The outcome of parsing a file whose header was acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The good rows, in file order.
    pub rows: Vec<T>,
    /// Every row problem, sorted by line.
    pub errors: Vec<RowError>,
    pub encoding: SourceEncoding,
}

/// Parses a member file (`email,company,contact_name,themes,locale`).
///
/// Theme slugs are matched against `known_themes` case-insensitively (ASCII)
/// and stored in their spelling from `known_themes`.
///
/// Returns `Err` only when the file is empty or its header is wrong.
pub fn parse_members(bytes: &[u8], known_themes: &[&str]) -> Result<Parsed<MemberRow>, RowError> {
    parse_rows(bytes, &MEMBER_COLUMNS, |line, fields, seen, problems| {
        let [email, company, contact_name, themes, locale] = fields;
        let email = check_email(email, line, seen, problems);
        require(company, Column::Company, problems);
        require(contact_name, Column::ContactName, problems);
        let themes = parse_themes(themes, known_themes).map_err(|p| problems.push(p)).ok();
        let locale = parse_locale(locale).map_err(|p| problems.push(p)).ok();
        Some(MemberRow {
            line,
            email: email?,
            company: company.clone(),
            contact_name: contact_name.clone(),
            themes: themes?,
            locale: locale?,
        })
    })
}

/// Parses a business advisor file (`email,name,branch`). `branch` may be empty.
///
/// Returns `Err` only when the file is empty or its header is wrong.
pub fn parse_advisors(bytes: &[u8]) -> Result<Parsed<AdvisorRow>, RowError> {
    parse_rows(bytes, &ADVISOR_COLUMNS, |line, fields, seen, problems| {
        let [email, name, branch] = fields;
        let email = check_email(email, line, seen, problems);
        require(name, Column::Name, problems);
        Some(AdvisorRow {
            line,
            email: email?,
            name: name.clone(),
            branch: branch.clone(),
        })
    })
}

/// The row loop both files share: every row with the right number of fields goes to `build`, which reports its
/// problems; a row is good only when `build` returns it and reported none.
fn parse_rows<T, const N: usize>(
    bytes: &[u8],
    columns: &'static [Column; N],
    mut build: impl FnMut(usize, &[String; N], &mut HashMap<String, usize>, &mut Vec<RowProblem>) -> Option<T>,
) -> Result<Parsed<T>, RowError> {
    let table = read_table(bytes, columns)?;
    let mut seen = HashMap::new();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for raw in table.rows {
        let line = raw.line;
        let fields = match raw.fields {
            Ok(fields) => fields,
            Err(problem) => {
                errors.push(RowError::new(line, problem));
                continue;
            }
        };
        let Ok(fields) = <&[String; N]>::try_from(fields.as_slice()) else {
            let found = fields.len();
            errors.push(RowError::new(line, RowProblem::FieldCount { expected: N, found }));
            continue;
        };
        let mut problems = Vec::new();
        for (column, value) in columns.iter().zip(fields) {
            check_field(*column, value, &mut problems);
        }
        if !problems.is_empty() {
            errors.push(RowError { line, problems });
            continue;
        }
        match build(line, fields, &mut seen, &mut problems) {
            Some(row) if problems.is_empty() => rows.push(row),
            _ => errors.push(RowError { line, problems }),
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok(Parsed {
        rows,
        errors,
        encoding: table.encoding,
    })
}

/// The rules every field obeys whatever its column (see the module documentation).
fn check_field(column: Column, value: &str, problems: &mut Vec<RowProblem>) {
    if let Some(character) = value.chars().find(|c| c.is_control()) {
        problems.push(RowProblem::ControlCharacter { column, character });
    }
    if let Some(limit) = max_chars(column) {
        let chars = value.chars().count();
        if chars > limit {
            problems.push(RowProblem::TooLong { column, chars, limit });
        }
    }
}

fn max_chars(column: Column) -> Option<usize> {
    match column {
        Column::Email => Some(EMAIL_MAX_CHARS),
        Column::Company => Some(COMPANY_MAX_CHARS),
        Column::ContactName => Some(CONTACT_NAME_MAX_CHARS),
        Column::Name => Some(NAME_MAX_CHARS),
        Column::Branch => Some(BRANCH_MAX_CHARS),
        Column::Themes => Some(THEMES_MAX_CHARS),
        Column::Locale => None,
    }
}

/// Validates the address, records it for duplicate detection, and returns the
/// form to store (see the module documentation). An address counts as taken
/// from the first row where it is valid, even if that row has other problems:
/// the file is ambiguous either way.
fn check_email(
    email: &str,
    line: usize,
    seen: &mut HashMap<String, usize>,
    problems: &mut Vec<RowProblem>,
) -> Option<String> {
    if email.is_empty() {
        problems.push(RowProblem::MissingAddress);
        return None;
    }
    let address = match email.parse::<Address>() {
        Ok(address) => address,
        Err(e) => {
            problems.push(RowProblem::InvalidAddress {
                value: email.to_owned(),
                fault: e.into(),
            });
            return None;
        }
    };
    let stored = match deliverable_form(address.user(), address.domain()) {
        Ok(stored) => stored,
        Err(problem) => {
            problems.push(problem);
            return None;
        }
    };
    match seen.entry(normalize_email(&stored)) {
        Entry::Occupied(first) => problems.push(RowProblem::DuplicateAddress {
            value: email.to_owned(),
            first_line: *first.get(),
        }),
        Entry::Vacant(slot) => {
            slot.insert(line);
        }
    }
    Some(stored)
}

/// The address as mail servers without SMTPUTF8 take it: the part before `@` as
/// written (it must be ASCII), the domain in its ASCII form.
fn deliverable_form(user: &str, domain: &str) -> Result<String, RowProblem> {
    if !user.is_ascii() {
        return Err(RowProblem::NonAsciiUser);
    }
    // An address literal such as [192.0.2.1] is not a domain name.
    if domain.starts_with('[') {
        return Ok(format!("{user}@{domain}"));
    }
    let ascii = idna::domain_to_ascii(domain).map_err(|_| RowProblem::DomainNotIdna {
        domain: domain.to_owned(),
    })?;
    // An ASCII domain is kept as written, so a file imported before stays unchanged.
    let stored = if domain.is_ascii() {
        format!("{user}@{domain}")
    } else {
        format!("{user}@{ascii}")
    };
    let chars = stored.chars().count();
    if chars > EMAIL_MAX_CHARS {
        return Err(RowProblem::AsciiFormTooLong {
            chars,
            limit: EMAIL_MAX_CHARS,
        });
    }
    Ok(stored)
}

fn require(value: &str, column: Column, problems: &mut Vec<RowProblem>) {
    if value.is_empty() {
        problems.push(RowProblem::Required(column));
    }
}

fn parse_locale(raw: &str) -> Result<Locale, RowProblem> {
    if raw.is_empty() {
        return Ok(Locale::Ja);
    }
    raw.parse::<Locale>().map_err(RowProblem::UnknownLocale)
}

fn parse_themes(raw: &str, known: &[&str]) -> Result<ThemeSelection, RowProblem> {
    let parts: Vec<&str> = raw.split(';').map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(RowProblem::NoThemes);
    }
    let stars = parts.iter().filter(|p| **p == "*").count();
    if stars == parts.len() {
        return Ok(ThemeSelection::All);
    }
    if stars > 0 {
        return Err(RowProblem::StarMixedWithSlugs { value: raw.to_owned() });
    }
    let mut selected: Vec<String> = Vec::new();
    let mut unknown: Vec<&str> = Vec::new();
    for part in parts {
        match known.iter().find(|k| k.eq_ignore_ascii_case(part)) {
            Some(slug) => {
                if !selected.iter().any(|s| s == slug) {
                    selected.push((*slug).to_owned());
                }
            }
            None => {
                if !unknown.contains(&part) {
                    unknown.push(part);
                }
            }
        }
    }
    if unknown.is_empty() {
        return Ok(ThemeSelection::Only(selected));
    }
    Err(RowProblem::UnknownThemes {
        unknown: unknown.iter().map(|u| (*u).to_owned()).collect(),
        known: known.iter().map(|k| (*k).to_owned()).collect(),
    })
}
