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

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use encoding_rs::SHIFT_JIS;
use lettre::Address;

const MEMBER_COLUMNS: [&str; 5] = ["email", "company", "contact_name", "themes", "locale"];
const ADVISOR_COLUMNS: [&str; 3] = ["email", "name", "branch"];
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

/// A problem with one row, or (as the `Err` of the parse functions) with the
/// whole file. All problems of one row are joined with `"; "` in `reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RowError {
    pub line: usize,
    pub reason: String,
}

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
        require(company, "company", problems);
        require(contact_name, "contact_name", problems);
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
        require(name, "name", problems);
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
    columns: &[&str; N],
    mut build: impl FnMut(usize, &[String; N], &mut HashMap<String, usize>, &mut Vec<String>) -> Option<T>,
) -> Result<Parsed<T>, RowError> {
    let table = read_table(bytes, columns)?;
    let mut seen = HashMap::new();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for raw in table.rows {
        let line = raw.line;
        let fields = match raw.fields {
            Ok(fields) => fields,
            Err(reason) => {
                errors.push(RowError { line, reason });
                continue;
            }
        };
        let Ok(fields) = <&[String; N]>::try_from(fields.as_slice()) else {
            errors.push(RowError {
                line,
                reason: format!("expected {N} fields, found {}", fields.len()),
            });
            continue;
        };
        let mut problems = Vec::new();
        for (column, value) in columns.iter().zip(fields) {
            check_field(column, value, &mut problems);
        }
        if !problems.is_empty() {
            errors.push(RowError {
                line,
                reason: problems.join("; "),
            });
            continue;
        }
        match build(line, fields, &mut seen, &mut problems) {
            Some(row) if problems.is_empty() => rows.push(row),
            _ => errors.push(RowError {
                line,
                reason: problems.join("; "),
            }),
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok(Parsed {
        rows,
        errors,
        encoding: table.encoding,
    })
}

/// At most 80 characters of a header for a message: a binary file's "header" can be kilobytes.
fn shortened(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()),
        None => text.to_owned(),
    }
}

/// A cell our exports (and careful staff) protected from spreadsheet formulas, `'=…`, `'+…`, `'-…`, `'@…`,
/// read as it was typed: the export's leading `'` is not part of the value.
fn unneutralised(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => field,
    }
}

/// The rules every field obeys whatever its column (see the module documentation).
fn check_field(column: &str, value: &str, problems: &mut Vec<String>) {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        problems.push(format!(
            "{column}: control character U+{:04X} is not allowed",
            u32::from(c)
        ));
    }
    if let Some(limit) = max_chars(column) {
        let chars = value.chars().count();
        if chars > limit {
            problems.push(format!(
                "{column}: {chars} characters, longer than the limit of {limit}"
            ));
        }
    }
}

fn max_chars(column: &str) -> Option<usize> {
    match column {
        "email" => Some(EMAIL_MAX_CHARS),
        "company" => Some(COMPANY_MAX_CHARS),
        "contact_name" => Some(CONTACT_NAME_MAX_CHARS),
        "name" => Some(NAME_MAX_CHARS),
        "branch" => Some(BRANCH_MAX_CHARS),
        "themes" => Some(THEMES_MAX_CHARS),
        _ => None,
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
    problems: &mut Vec<String>,
) -> Option<String> {
    if email.is_empty() {
        problems.push("missing address: email is empty".to_owned());
        return None;
    }
    let address = match email.parse::<Address>() {
        Ok(address) => address,
        Err(e) => {
            problems.push(format!("invalid address {email:?}: {e}"));
            return None;
        }
    };
    let stored = match deliverable_form(address.user(), address.domain()) {
        Ok(stored) => stored,
        Err(reason) => {
            problems.push(format!("email: {reason}"));
            return None;
        }
    };
    match seen.entry(normalize_email(&stored)) {
        Entry::Occupied(first) => problems.push(format!("duplicate address {email} (first on line {})", first.get())),
        Entry::Vacant(slot) => {
            slot.insert(line);
        }
    }
    Some(stored)
}

/// The address as mail servers without SMTPUTF8 take it: the part before `@` as
/// written (it must be ASCII), the domain in its ASCII form.
fn deliverable_form(user: &str, domain: &str) -> Result<String, String> {
    if !user.is_ascii() {
        return Err("the part before @ is not ASCII; most mail servers cannot deliver to it (no SMTPUTF8)".to_owned());
    }
    // An address literal such as [192.0.2.1] is not a domain name.
    if domain.starts_with('[') {
        return Ok(format!("{user}@{domain}"));
    }
    let ascii = idna::domain_to_ascii(domain)
        .map_err(|_| format!("the domain {domain:?} is not a valid internationalised domain name (IDNA)"))?;
    // An ASCII domain is kept as written, so a file imported before stays unchanged.
    let stored = if domain.is_ascii() {
        format!("{user}@{domain}")
    } else {
        format!("{user}@{ascii}")
    };
    let chars = stored.chars().count();
    if chars > EMAIL_MAX_CHARS {
        return Err(format!(
            "{chars} characters in its ASCII form, longer than the limit of {EMAIL_MAX_CHARS}"
        ));
    }
    Ok(stored)
}

fn require(value: &str, column: &str, problems: &mut Vec<String>) {
    if value.is_empty() {
        problems.push(format!("{column} is empty (required)"));
    }
}

fn parse_locale(raw: &str) -> Result<Locale, String> {
    if raw.is_empty() {
        return Ok(Locale::Ja);
    }
    raw.parse::<Locale>().map_err(|e| e.to_string())
}

fn parse_themes(raw: &str, known: &[&str]) -> Result<ThemeSelection, String> {
    let parts: Vec<&str> = raw.split(';').map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err("themes is empty: a member must choose at least one theme, or `*` for all".to_owned());
    }
    let stars = parts.iter().filter(|p| **p == "*").count();
    if stars == parts.len() {
        return Ok(ThemeSelection::All);
    }
    if stars > 0 {
        return Err(format!(
            "themes {raw:?} mixes `*` with theme slugs: use `*` alone or a list of slugs"
        ));
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
    let names: Vec<String> = unknown.iter().map(|u| format!("{u:?}")).collect();
    let known_list = if known.is_empty() {
        "none are defined".to_owned()
    } else {
        known.join(", ")
    };
    Err(format!(
        "unknown theme{} {} (known themes: {known_list})",
        if unknown.len() == 1 { "" } else { "s" },
        names.join(", ")
    ))
}

/// A data record with its fields trimmed and in the order of the expected
/// columns, or the reason it could not be read.
struct RawRow {
    line: usize,
    fields: Result<Vec<String>, String>,
}

struct Table {
    rows: Vec<RawRow>,
    encoding: SourceEncoding,
}

struct Decoded {
    text: String,
    encoding: SourceEncoding,
    /// 1-based physical lines that are not valid UTF-8 (only for UTF-8 input).
    bad_lines: Vec<usize>,
}

/// Applies the encoding rule of the module documentation.
fn decode(bytes: &[u8]) -> Decoded {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return decode_utf8_lossy(rest, SourceEncoding::Utf8Bom);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_owned(),
            encoding: SourceEncoding::Utf8,
            bad_lines: Vec::new(),
        };
    }
    let some_line_is_utf8 = bytes
        .split(|&b| b == b'\n')
        .any(|line| !line.is_ascii() && std::str::from_utf8(line).is_ok());
    if !some_line_is_utf8 && let Some(text) = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        return Decoded {
            text: text.into_owned(),
            encoding: SourceEncoding::ShiftJis,
            bad_lines: Vec::new(),
        };
    }
    decode_utf8_lossy(bytes, SourceEncoding::Utf8)
}

/// Decodes as UTF-8, replacing invalid sequences (newlines, quotes and commas
/// survive, so the record structure is kept), and notes the broken lines.
fn decode_utf8_lossy(bytes: &[u8], encoding: SourceEncoding) -> Decoded {
    let bad_lines = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| std::str::from_utf8(line).is_err())
        .map(|(i, _)| i + 1)
        .collect();
    Decoded {
        text: String::from_utf8_lossy(bytes).into_owned(),
        encoding,
        bad_lines,
    }
}

/// Maps byte offsets of the decoded text to physical 1-based lines.
///
/// The `csv` crate records a record's position where reading for it began,
/// i.e. before the line terminator of the previous record (for CRLF) and before
/// skipped blank lines, so its line number can be too small. We therefore take
/// its byte offset, skip the `\r`/`\n` bytes the reader skips, and count the
/// newlines before that.
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a [u8]) -> Self {
        let newlines = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        LineIndex { text, newlines }
    }

    fn line(&self, pos: Option<&::csv::Position>) -> Option<usize> {
        let mut start = usize::try_from(pos?.byte()).ok()?;
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        Some(self.newlines.partition_point(|&nl| nl < start) + 1)
    }
}

/// Decodes, splits into records, checks the header against `columns`, and
/// returns the data records.
fn read_table(bytes: &[u8], columns: &[&str]) -> Result<Table, RowError> {
    let decoded = decode(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(decoded.text.as_bytes());

    // (start line, fields or read error), blank records left out.
    let mut records: Vec<(usize, Result<Vec<String>, String>)> = Vec::new();
    let lines = LineIndex::new(decoded.text.as_bytes());
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line(record.position()).unwrap_or(1);
                let fields: Vec<String> = record.iter().map(|f| unneutralised(f.trim()).to_owned()).collect();
                if fields.iter().all(String::is_empty) {
                    continue;
                }
                records.push((line, Ok(fields)));
            }
            Err(e) => {
                // Not expected for in-memory UTF-8 input with flexible records;
                // report it on its row rather than give up on the file.
                let line = lines
                    .line(e.position())
                    .or_else(|| records.last().map(|(l, _)| l + 1))
                    .unwrap_or(1);
                let recoverable = matches!(
                    e.kind(),
                    ::csv::ErrorKind::Utf8 { .. } | ::csv::ErrorKind::UnequalLengths { .. }
                );
                records.push((line, Err(format!("unreadable CSV record: {e}"))));
                if !recoverable {
                    break;
                }
            }
        }
    }

    let expected_header = columns.join(",");
    let mut records = records.into_iter();
    let Some((header_line, header)) = records.next() else {
        return Err(RowError {
            line: 1,
            reason: format!("empty file: expected the header {expected_header}"),
        });
    };
    let header_is_broken = decoded.bad_lines.iter().any(|&l| l <= header_line);
    let header = header.map_err(|reason| RowError {
        line: header_line,
        reason: format!("{reason}; expected the header {expected_header}"),
    })?;
    let order = match column_order(&header, columns) {
        Ok(order) => order,
        Err(detail) => {
            let encoding_note = if header_is_broken {
                " (the file is neither valid UTF-8 nor Shift_JIS)"
            } else {
                ""
            };
            return Err(RowError {
                line: header_line,
                reason: format!(
                    "invalid header {:?}{encoding_note}: expected the columns {expected_header} \
                     (in any order); {detail}",
                    shortened(&header.join(","))
                ),
            });
        }
    };

    let records: Vec<(usize, Result<Vec<String>, String>)> = records.collect();
    // Each broken line belongs to the last record starting at or before it.
    let mut broken: HashMap<usize, Vec<usize>> = HashMap::new();
    for &bad in &decoded.bad_lines {
        let idx = records.partition_point(|(start, _)| *start <= bad);
        if let Some(i) = idx.checked_sub(1) {
            broken.entry(i).or_default().push(bad);
        }
    }

    let rows = records
        .into_iter()
        .enumerate()
        .map(|(i, (line, fields))| {
            let fields = match broken.get(&i) {
                Some(bad) => Err(invalid_utf8_reason(line, bad)),
                None => fields.and_then(|f| reorder(f, &order)),
            };
            RawRow { line, fields }
        })
        .collect();
    Ok(Table {
        rows,
        encoding: decoded.encoding,
    })
}

fn invalid_utf8_reason(start: usize, bad: &[usize]) -> String {
    if bad == [start] {
        "invalid UTF-8 (the file is neither valid UTF-8 nor Shift_JIS)".to_owned()
    } else {
        let lines: Vec<String> = bad.iter().map(usize::to_string).collect();
        format!(
            "invalid UTF-8 on line {} (the file is neither valid UTF-8 nor Shift_JIS)",
            lines.join(", ")
        )
    }
}

/// For each expected column, its index in the header; or what is wrong.
fn column_order(header: &[String], columns: &[&str]) -> Result<Vec<usize>, String> {
    let names: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
    let mut problems = Vec::new();
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if !missing.is_empty() {
        problems.push(format!("missing: {}", missing.join(", ")));
    }
    let unexpected: Vec<String> = names
        .iter()
        .filter(|n| !columns.contains(&n.as_str()))
        .map(|n| format!("{:?}", shortened(n)))
        .collect();
    if !unexpected.is_empty() {
        problems.push(format!("unexpected: {}", unexpected.join(", ")));
    }
    let duplicated: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| names.iter().filter(|n| n == c).count() > 1)
        .collect();
    if !duplicated.is_empty() {
        problems.push(format!("duplicated: {}", duplicated.join(", ")));
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    columns
        .iter()
        .map(|c| names.iter().position(|n| n == c).ok_or_else(|| format!("missing: {c}")))
        .collect()
}

fn reorder(fields: Vec<String>, order: &[usize]) -> Result<Vec<String>, String> {
    if fields.len() != order.len() {
        return Err(format!("expected {} fields, found {}", order.len(), fields.len()));
    }
    order
        .iter()
        .map(|&i| {
            fields
                .get(i)
                .cloned()
                .ok_or_else(|| format!("expected {} fields, found {}", order.len(), fields.len()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["tax", "labour", "export"];
    const MEMBER_HEADER: &str = "email,company,contact_name,themes,locale\n";

    fn members(body: &str) -> Parsed<MemberRow> {
        parse_members(format!("{MEMBER_HEADER}{body}").as_bytes(), KNOWN).unwrap()
    }

    /// The single error of a parse, asserting there is exactly one.
    fn only_error<T: std::fmt::Debug>(parsed: &Parsed<T>) -> &RowError {
        assert_eq!(parsed.errors.len(), 1, "errors: {:?}", parsed.errors);
        &parsed.errors[0]
    }

    fn assert_error(parsed: &Parsed<MemberRow>, line: usize, needle: &str) {
        let e = only_error(parsed);
        assert_eq!(e.line, line, "{e}");
        assert!(e.reason.contains(needle), "{e:?} should contain {needle:?}");
        assert!(parsed.rows.is_empty(), "rows: {:?}", parsed.rows);
    }

    #[test]
    fn good_member_file() {
        let p = members(
            "Taro@Example.co.jp,株式会社テスト商事,山田 太郎,tax;export,en\n\
             hanako@example.jp,  有限会社サンプル , 佐藤 花子 , labour ,ja\n",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.encoding, SourceEncoding::Utf8);
        assert_eq!(
            p.rows,
            vec![
                MemberRow {
                    line: 2,
                    email: "Taro@Example.co.jp".into(),
                    company: "株式会社テスト商事".into(),
                    contact_name: "山田 太郎".into(),
                    themes: ThemeSelection::Only(vec!["tax".into(), "export".into()]),
                    locale: Locale::En,
                },
                MemberRow {
                    line: 3,
                    email: "hanako@example.jp".into(),
                    company: "有限会社サンプル".into(),
                    contact_name: "佐藤 花子".into(),
                    themes: ThemeSelection::Only(vec!["labour".into()]),
                    locale: Locale::Ja,
                },
            ]
        );
    }

    #[test]
    fn good_advisor_file() {
        let p = parse_advisors(
            "email,name,branch\r\n\
             Suzuki@tokyo-cci.or.jp,鈴木 一郎,中央支部\r\n\
             tanaka@tokyo-cci.or.jp,田中 次郎,\r\n"
                .as_bytes(),
        )
        .unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            p.rows,
            vec![
                AdvisorRow {
                    line: 2,
                    email: "Suzuki@tokyo-cci.or.jp".into(),
                    name: "鈴木 一郎".into(),
                    branch: "中央支部".into(),
                },
                AdvisorRow {
                    line: 3,
                    email: "tanaka@tokyo-cci.or.jp".into(),
                    name: "田中 次郎".into(),
                    branch: String::new(),
                },
            ]
        );
    }

    #[test]
    fn star_means_all_themes() {
        let p = members("a@example.jp,A社,A,*,ja\nb@example.jp,B社,B, * ; * ,ja\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].themes, ThemeSelection::All);
        assert_eq!(p.rows[1].themes, ThemeSelection::All);
    }

    #[test]
    fn themes_deduplicated_in_file_order_and_case_insensitive() {
        let p = members("a@example.jp,A社,A,export;TAX;export;;tax,en\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            p.rows[0].themes,
            ThemeSelection::Only(vec!["export".into(), "tax".into()])
        );
    }

    #[test]
    fn empty_locale_defaults_to_ja() {
        let p = members("a@example.jp,A社,A,tax,\nb@example.jp,B社,B,tax,  EN \n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].locale, Locale::Ja);
        assert_eq!(p.rows[1].locale, Locale::En);
    }

    #[test]
    fn header_in_another_order_with_spaces_and_case() {
        let p = parse_members(
            b" Locale , THEMES,email,Contact_Name,company\nen,tax,a@example.jp,Taro,A Co\n",
            KNOWN,
        )
        .unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = &p.rows[0];
        assert_eq!(r.email, "a@example.jp");
        assert_eq!(r.company, "A Co");
        assert_eq!(r.contact_name, "Taro");
        assert_eq!(r.themes, ThemeSelection::Only(vec!["tax".into()]));
        assert_eq!(r.locale, Locale::En);

        let a = parse_advisors(b"branch,EMAIL,name\nNorth,x@example.jp,X\n").unwrap();
        assert_eq!(a.rows[0].branch, "North");
        assert_eq!(a.rows[0].email, "x@example.jp");
        assert_eq!(a.rows[0].name, "X");
    }

    #[test]
    fn invalid_address() {
        let p = members("ok@example.jp,A社,A,tax,ja\nfoo@,B社,B,tax,ja\n");
        let e = only_error(&p);
        assert_eq!(e.line, 3);
        assert!(e.reason.starts_with("invalid address \"foo@\": "), "{e}");
        assert_eq!(p.rows.len(), 1);
    }

    #[test]
    fn missing_address() {
        assert_error(&members("  ,A社,A,tax,ja\n"), 2, "missing address");
    }

    #[test]
    fn unknown_theme_is_named_with_known_slugs() {
        let p = members("a@example.jp,A社,A,tax;golf,ja\n");
        assert_error(&p, 2, "unknown theme \"golf\"");
        assert!(p.errors[0].reason.contains("tax, labour, export"));
    }

    #[test]
    fn empty_themes() {
        assert_error(
            &members("a@example.jp,A社,A, ; ,ja\n"),
            2,
            "must choose at least one theme",
        );
    }

    #[test]
    fn star_mixed_with_slugs() {
        assert_error(
            &members("a@example.jp,A社,A,*;tax,ja\n"),
            2,
            "mixes `*` with theme slugs",
        );
    }

    #[test]
    fn unknown_locale() {
        assert_error(
            &members("a@example.jp,A社,A,tax,fr\n"),
            2,
            "unknown locale \"fr\" (valid: ja, en)",
        );
    }

    #[test]
    fn duplicate_address_differing_only_in_case() {
        let p = members(
            "other@example.jp,O社,O,tax,ja\n\
             x@example.jp,A社,A,tax,ja\n\
             X@Example.JP,B社,B,tax,ja\n",
        );
        let e = only_error(&p);
        assert_eq!(e.line, 4);
        assert_eq!(e.reason, "duplicate address X@Example.JP (first on line 3)");
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[1].email, "x@example.jp");
    }

    #[test]
    fn missing_and_extra_columns() {
        let p = members("a@example.jp,A社,A,tax\nb@example.jp,B社,B,tax,ja,extra\n");
        assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
        assert_eq!(p.errors[0].line, 2);
        assert_eq!(p.errors[0].reason, "expected 5 fields, found 4");
        assert_eq!(p.errors[1].line, 3);
        assert_eq!(p.errors[1].reason, "expected 5 fields, found 6");
        assert!(p.rows.is_empty());
    }

    #[test]
    fn required_fields() {
        let p = members("a@example.jp, ,A,tax,ja\nb@example.jp,B社,,tax,ja\n");
        assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
        assert_eq!(p.errors[0].line, 2);
        assert!(p.errors[0].reason.contains("company is empty"));
        assert_eq!(p.errors[1].line, 3);
        assert!(p.errors[1].reason.contains("contact_name is empty"));

        let a = parse_advisors(b"email,name,branch\nx@example.jp,,North\n").unwrap();
        let e = only_error(&a);
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("name is empty (required)"), "{e}");
    }

    #[test]
    fn several_problems_in_one_row_are_joined() {
        let p = members("bad,,,golf,xx\n");
        let e = only_error(&p);
        let parts: Vec<&str> = e.reason.split("; ").collect();
        assert_eq!(parts.len(), 5, "{e}");
        assert!(parts[0].starts_with("invalid address \"bad\""));
        assert!(parts[1].starts_with("company is empty"));
        assert!(parts[2].starts_with("contact_name is empty"));
        assert!(parts[3].starts_with("unknown theme \"golf\""));
        assert!(parts[4].starts_with("unknown locale \"xx\""));
    }

    #[test]
    fn all_bad_rows_reported_sorted_and_good_rows_kept() {
        let p = members(
            "a@example.jp,A社,A,tax,ja\n\
             foo@,B社,B,tax,ja\n\
             \n\
             c@example.jp,C社,C,golf,ja\n\
             d@example.jp,D社,D,tax,ja\n\
             A@EXAMPLE.JP,E社,E,tax,ja\n\
             f@example.jp,F社,F,tax,de\n",
        );
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5, 7, 8], "{:?}", p.errors);
        assert!(p.errors[2].reason.contains("first on line 2"));
        let good: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(good, vec![2, 6]);
    }

    #[test]
    fn blank_lines_are_skipped() {
        let p = members("\n   \n,,,,\na@example.jp,A社,A,tax,ja\n\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].line, 5);
    }

    #[test]
    fn crlf_and_blank_lines_keep_physical_line_numbers() {
        let p = parse_advisors(b"email,name,branch\r\n\r\n\r\nx@example.jp,X,\r\n\r\nfoo@,Y,\r\nz@example.jp,,\r\n")
            .unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].line, 4);
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![6, 7], "{:?}", p.errors);
    }

    #[test]
    fn multi_line_quoted_field_shifts_line_numbers() {
        // A line break inside a field is refused (see the field rules), but the lines it spans still count.
        let p = members(
            "a@example.jp,\"株式会社\nテスト商事\",A,tax,ja\n\
             b@example.jp,B社,B,tax,ja\n\
             c@example.jp,C社,\"C\n\nC\",tax,ja\n\
             bad,D社,D,tax,ja\n\
             e@example.jp,E社,E,tax,ja\n",
        );
        let good: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(good, [4, 9], "{:?}", p.errors);
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 5, 8]);
    }

    #[test]
    fn shift_jis_file() {
        let text = "email,company,contact_name,themes,locale\r\n\
                    info@test.co.jp,株式会社テスト商事,山田 太郎,tax,ja\r\n\
                    sales@test.co.jp,ソフトバンク表示株式会社,能登 十,export,en\r\n";
        let (bytes, _, had_errors) = SHIFT_JIS.encode(text);
        assert!(!had_errors);
        assert!(std::str::from_utf8(&bytes).is_err(), "test input must not be UTF-8");
        let p = parse_members(&bytes, KNOWN).unwrap();
        assert_eq!(p.encoding, SourceEncoding::ShiftJis);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].company, "株式会社テスト商事");
        assert_eq!(p.rows[0].contact_name, "山田 太郎");
        assert_eq!(p.rows[1].company, "ソフトバンク表示株式会社");
        assert_eq!(p.rows[1].line, 3);
    }

    #[test]
    fn shift_jis_advisor_file() {
        let (bytes, _, had_errors) = SHIFT_JIS.encode("email,name,branch\r\nx@example.jp,鈴木 一郎,中央支部\r\n");
        assert!(!had_errors);
        let p = parse_advisors(&bytes).unwrap();
        assert_eq!(p.encoding, SourceEncoding::ShiftJis);
        assert_eq!(p.rows[0].name, "鈴木 一郎");
        assert_eq!(p.rows[0].branch, "中央支部");
    }

    #[test]
    fn utf8_with_bom() {
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(
            "email,company,contact_name,themes,locale\r\na@example.jp,株式会社テスト商事,A,*,\r\n".as_bytes(),
        );
        let p = parse_members(&bytes, KNOWN).unwrap();
        assert_eq!(p.encoding, SourceEncoding::Utf8Bom);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].email, "a@example.jp");
        assert_eq!(p.rows[0].company, "株式会社テスト商事");
    }

    #[test]
    fn utf8_file_with_one_broken_line() {
        let mut bytes = MEMBER_HEADER.as_bytes().to_vec();
        bytes.extend_from_slice("a@example.jp,株式会社テスト商事,A,tax,ja\n".as_bytes());
        bytes.extend_from_slice(b"b@example.jp,B\xFF\xFE Co,B,tax,ja\n");
        bytes.extend_from_slice(b"c@example.jp,C Co,C,tax,ja\n");
        let p = parse_members(&bytes, KNOWN).unwrap();
        assert_eq!(p.encoding, SourceEncoding::Utf8);
        let e = only_error(&p);
        assert_eq!(e.line, 3);
        assert!(e.reason.starts_with("invalid UTF-8"), "{e}");
        let good: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(good, vec![2, 4]);
    }

    #[test]
    fn ascii_file_with_one_broken_line_is_not_shift_jis() {
        // 0xFF is not Shift_JIS either, so this is UTF-8 with a broken line.
        let bytes = b"email,name,branch\nx@example.jp,X,\xFF\ny@example.jp,Y,\n";
        let p = parse_advisors(bytes).unwrap();
        assert_eq!(p.encoding, SourceEncoding::Utf8);
        let e = only_error(&p);
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("invalid UTF-8"));
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].line, 3);
    }

    #[test]
    fn shift_jis_line_in_utf8_file_is_an_error_on_that_line() {
        let mut bytes = "email,name,branch\nx@example.jp,鈴木,中央\n".as_bytes().to_vec();
        let (sjis, _, _) = SHIFT_JIS.encode("y@example.jp,田中,城南\n");
        bytes.extend_from_slice(&sjis);
        bytes.extend_from_slice("z@example.jp,佐藤,城北\n".as_bytes());
        let p = parse_advisors(&bytes).unwrap();
        assert_eq!(p.encoding, SourceEncoding::Utf8);
        let e = only_error(&p);
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("invalid UTF-8"));
        assert_eq!(p.rows.len(), 2);
    }

    #[test]
    fn broken_line_inside_quoted_field_reported_at_record_start() {
        let mut bytes = MEMBER_HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"a@example.jp,\"A\nCo \xFF\",A,tax,ja\n");
        bytes.extend_from_slice(b"b@example.jp,B,B,tax,ja\n");
        let p = parse_members(&bytes, KNOWN).unwrap();
        let e = only_error(&p);
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("invalid UTF-8 on line 3"), "{e}");
        assert_eq!(p.rows[0].line, 4);
    }

    #[test]
    fn bad_header() {
        let e = parse_members(b"email,company,name,themes,locale\na@example.jp,A,A,tax,ja\n", KNOWN).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("email,company,contact_name,themes,locale"), "{e}");
        assert!(e.reason.contains("missing: contact_name"), "{e}");
        assert!(e.reason.contains("unexpected: \"name\""), "{e}");

        let e = parse_advisors(b"email,name,branch,name\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("duplicated: name"), "{e}");
        assert!(e.reason.contains("email,name,branch"), "{e}");

        // A member file given to the advisor parser.
        let e = parse_advisors(MEMBER_HEADER.as_bytes()).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("missing: name, branch"), "{e}");
    }

    #[test]
    fn empty_input() {
        for input in [&b""[..], b"\n\r\n  \n", UTF8_BOM] {
            let e = parse_members(input, KNOWN).unwrap_err();
            assert_eq!(e.line, 1);
            assert!(e.reason.contains("empty file"), "{e}");
            assert!(e.reason.contains("email,company,contact_name,themes,locale"));
            let e = parse_advisors(input).unwrap_err();
            assert!(e.reason.contains("email,name,branch"), "{e}");
        }
    }

    #[test]
    fn header_only_is_ok_and_empty() {
        let p = members("");
        assert!(p.rows.is_empty() && p.errors.is_empty());
    }

    #[test]
    fn error_display_and_locale_api() {
        let e = RowError {
            line: 3,
            reason: "x".into(),
        };
        assert_eq!(e.to_string(), "line 3: x");
        assert_eq!(" EN ".parse::<Locale>(), Ok(Locale::En));
        assert_eq!(Locale::Ja.as_str(), "ja");
        assert!("".parse::<Locale>().is_err());
        assert_eq!(
            "fr".parse::<Locale>().unwrap_err().to_string(),
            "unknown locale \"fr\" (valid: ja, en)"
        );
    }

    #[test]
    fn normalize_email_trims_and_lowercases() {
        assert_eq!(normalize_email("  Taro@Example.CO.JP "), "taro@example.co.jp");
    }

    #[test]
    fn control_characters_are_refused_naming_field_and_character() {
        let p = members(
            "a@example.jp,A\0社,A,tax,ja\n\
             b@example.jp,\"B社\r\nBcc: x@evil.example\",B,tax,ja\n\
             c@example.jp,C社\u{7f},C,tax,ja\n\
             d@example.jp,D社,D\u{85}D,tax,ja\n\
             e@example.jp,E社,E,tax;\u{1b}export,ja\n\
             f@example.jp,F社,F,tax,ja\n",
        );
        let errors: Vec<String> = p.errors.iter().map(RowError::to_string).collect();
        assert_eq!(
            errors,
            [
                "line 2: company: control character U+0000 is not allowed",
                "line 3: company: control character U+000D is not allowed",
                "line 5: company: control character U+007F is not allowed",
                "line 6: contact_name: control character U+0085 is not allowed",
                "line 7: themes: control character U+001B is not allowed",
            ]
        );
        let good: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(good, [8], "the other rows still parse");
    }

    #[test]
    fn a_quoted_line_feed_or_tab_is_refused() {
        let p = members("a@example.jp,\"A\nBcc: x@evil.example\",A,tax,ja\nb@example.jp,B\t社,B,tax,ja\n");
        let errors: Vec<String> = p.errors.iter().map(RowError::to_string).collect();
        assert_eq!(
            errors,
            [
                "line 2: company: control character U+000A is not allowed",
                "line 4: company: control character U+0009 is not allowed",
            ]
        );
        assert!(p.rows.is_empty());
    }

    #[test]
    fn whitespace_around_a_field_is_trimmed_before_the_rules() {
        let p = members("a@example.jp,\"\tA社\r\n\",A,tax,ja\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].company, "A社");
    }

    #[test]
    fn over_long_fields_are_refused_naming_field_and_limit() {
        let company = "x".repeat(10 * 1024 * 1024);
        let p = members(&format!(
            "a@example.jp,{company},A,tax,ja\n\
             b@example.jp,{},{},tax,ja\n\
             c@example.jp,C社,{},tax,ja\n\
             d@example.jp,D社,D,{},ja\n\
             {}@example.jp,E社,E,tax,ja\n",
            "社".repeat(200),
            "名".repeat(100),
            "名".repeat(101),
            "tax;".repeat(251),
            "e".repeat(244),
        ));
        let errors: Vec<String> = p.errors.iter().map(RowError::to_string).collect();
        assert_eq!(
            errors,
            [
                "line 2: company: 10485760 characters, longer than the limit of 200",
                "line 4: contact_name: 101 characters, longer than the limit of 100",
                "line 5: themes: 1004 characters, longer than the limit of 1000",
                "line 6: email: 255 characters, longer than the limit of 254",
            ]
        );
        // The limits count characters, not bytes.
        let good: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(good, [3]);
    }

    #[test]
    fn all_field_problems_of_a_row_are_joined() {
        let p = members(&format!("a@example.jp,A\0社,{},tax,ja\n", "x".repeat(101)));
        assert_eq!(
            only_error(&p).reason,
            "company: control character U+0000 is not allowed; \
             contact_name: 101 characters, longer than the limit of 100"
        );
    }

    #[test]
    fn advisors_get_the_same_field_rules() {
        let p = parse_advisors(
            format!(
                "email,name,branch\n\
                 w@example.jp,W\0,North\n\
                 x@example.jp,X\tY,North\n\
                 y@example.jp,Y,\"North\nSouth\"\n\
                 z@example.jp,{},{}\n\
                 ok@example.jp,OK,\n",
                "z".repeat(101),
                "b".repeat(101)
            )
            .as_bytes(),
        )
        .unwrap();
        let errors: Vec<String> = p.errors.iter().map(RowError::to_string).collect();
        assert_eq!(
            errors,
            [
                "line 2: name: control character U+0000 is not allowed",
                "line 3: name: control character U+0009 is not allowed",
                "line 4: branch: control character U+000A is not allowed",
                "line 6: name: 101 characters, longer than the limit of 100; \
                 branch: 101 characters, longer than the limit of 100",
            ]
        );
        let good: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(good, [7]);
    }

    #[test]
    fn idn_domain_is_stored_in_ascii_form() {
        let p = members(
            "user@例え.jp,A社,A,tax,ja\n\
             b@ＥＸＡＭＰＬＥ.jp,B社,B,tax,ja\n\
             Taro@Example.co.jp,C社,C,tax,ja\n",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let emails: Vec<&str> = p.rows.iter().map(|r| r.email.as_str()).collect();
        // An ASCII domain is kept as written.
        assert_eq!(emails, ["user@xn--r8jz45g.jp", "b@example.jp", "Taro@Example.co.jp"]);
    }

    #[test]
    fn idn_and_ascii_spellings_are_one_address() {
        let p = members("user@例え.jp,A社,A,tax,ja\nUSER@xn--r8jz45g.jp,B社,B,tax,ja\n");
        let e = only_error(&p);
        assert_eq!(
            e.to_string(),
            "line 3: duplicate address USER@xn--r8jz45g.jp (first on line 2)"
        );
        assert_eq!(p.rows[0].email, "user@xn--r8jz45g.jp");

        let p = members("user@xn--r8jz45g.jp,A社,A,tax,ja\nUser@例え.JP,B社,B,tax,ja\n");
        let e = only_error(&p);
        assert_eq!(
            e.to_string(),
            "line 3: duplicate address User@例え.JP (first on line 2)"
        );
    }

    #[test]
    fn non_ascii_part_before_at_is_refused_with_the_reason() {
        assert_error(
            &members("ユーザー@example.jp,A社,A,tax,ja\n"),
            2,
            "email: the part before @ is not ASCII; most mail servers cannot deliver to it (no SMTPUTF8)",
        );
    }

    #[test]
    fn domain_refused_by_idna() {
        // Punycode that decodes to a control character: an ASCII spelling that names no valid domain.
        assert_error(
            &members("a@xn--a.jp,A社,A,tax,ja\n"),
            2,
            "email: the domain \"xn--a.jp\"",
        );
    }

    #[test]
    fn ascii_form_of_the_address_is_within_the_limit() {
        // Within 254 characters as written, longer once the domain is in Punycode.
        let long_domain = format!("{}.{}.{}.例え.jp", "例".repeat(55), "え".repeat(55), "a".repeat(55));
        let p = members(&format!("{}@{long_domain},A社,A,tax,ja\n", "a".repeat(60)));
        assert_error(&p, 2, "in its ASCII form, longer than the limit of 254");
    }

    #[test]
    fn advisors_get_the_same_address_rules() {
        let p = parse_advisors(
            "email,name,branch\n\
             ok@例え.jp,OK,\n\
             OK@xn--r8jz45g.jp,Again,\n\
             ユーザー@example.jp,U,\n"
                .as_bytes(),
        )
        .unwrap();
        let errors: Vec<String> = p.errors.iter().map(RowError::to_string).collect();
        assert_eq!(
            errors,
            [
                "line 3: duplicate address OK@xn--r8jz45g.jp (first on line 2)",
                "line 4: email: the part before @ is not ASCII; most mail servers cannot deliver to it (no SMTPUTF8)",
            ]
        );
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].email, "ok@xn--r8jz45g.jp");
    }
}
