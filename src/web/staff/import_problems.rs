//! What a page says about a refused member file or row, in the page's language, from the catalogue (the group
//! "CSV import problems"). The parser's `Display` is the English of the command line and the API; a page words
//! the same typed values itself. Values from the file are quoted as they are (「…」 in Japanese, "…" in English).

use crate::export::svg::group_digits;
use crate::import::csv::{AddressFault, Column, Excerpt, RowError, RowProblem, header_of};

use super::super::catalogue::Lang;

/// The problems of a row, one sentence each.
pub(super) fn say_all(lang: Lang, row: &RowError) -> String {
    say_all_named(lang, &|_| None, row)
}

/// The problems of a row, naming a theme next to its slug when `theme_name` knows it (the plan's name; this module
/// does not read the plan, as `said.rs` uses it and the pages' helpers use `said.rs`).
pub(super) fn say_all_named(lang: Lang, theme_name: &dyn Fn(&str) -> Option<String>, row: &RowError) -> String {
    let said: Vec<String> = row.problems.iter().map(|p| say_named(lang, theme_name, p)).collect();
    said.join(sentence_separator(lang))
}

/// A file refused as a whole (empty, or its header wrong).
pub(in crate::web) fn say_file(lang: Lang, row: &RowError) -> String {
    lang.t_with("import-file-refused", &[("problems", &say_all(lang, row))])
}

/// Japanese sentences follow one another without a space.
fn sentence_separator(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "",
        Lang::En => " ",
    }
}

/// The message `key` with its arguments.
fn t(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let args: Vec<(&str, &str)> = args.iter().map(|(name, value)| (*name, value.as_str())).collect();
    lang.t_with(key, &args)
}

/// A value of the file, quoted as it is.
fn quoted(lang: Lang, value: &str) -> String {
    lang.t_with("import-quoted", &[("value", value)])
}

/// A text of the file, quoted; when long, its start and its length.
fn excerpt(lang: Lang, text: &Excerpt) -> String {
    if text.is_cut() {
        t(
            lang,
            "import-quoted-cut",
            &[("shown", text.shown.clone()), ("chars", count(text.chars))],
        )
    } else {
        quoted(lang, &text.shown)
    }
}

/// A count as the pages write it (`10,485,760`).
fn count(n: usize) -> String {
    i64::try_from(n).map_or_else(|_| n.to_string(), group_digits)
}

/// A column in the page's words.
fn column(lang: Lang, column: Column) -> String {
    lang.label("import-column", column.as_str())
}

/// A column as the header must spell it, with its name in the page's words.
fn header_column(lang: Lang, c: Column) -> String {
    t(
        lang,
        "import-column-named",
        &[("name", c.as_str().to_owned()), ("column", column(lang, c))],
    )
}

fn list(lang: Lang, items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .collect::<Vec<_>>()
        .join(&lang.t("import-list-separator"))
}

/// The catalogue's key for a fault the address parser names; none for one this program does not know.
fn fault_key(fault: &AddressFault) -> Option<&'static str> {
    match fault {
        AddressFault::MissingParts => Some("import-address-fault-missing-parts"),
        AddressFault::Unbalanced => Some("import-address-fault-unbalanced"),
        AddressFault::InvalidUser => Some("import-address-fault-invalid-user"),
        AddressFault::InvalidDomain => Some("import-address-fault-invalid-domain"),
        AddressFault::InvalidInput => Some("import-address-fault-invalid-input"),
        AddressFault::Other(_) => None,
    }
}

fn say_named(lang: Lang, theme_name: &dyn Fn(&str) -> Option<String>, problem: &RowProblem) -> String {
    match problem {
        // The CSV reader's message is English and says nothing a reader could act on.
        RowProblem::Unreadable { .. } => lang.t("import-problem-unreadable"),
        RowProblem::InvalidUtf8 { lines, .. } => t(
            lang,
            if lines.len() == 1 {
                "import-problem-invalid-utf8"
            } else {
                "import-problem-invalid-utf8-lines"
            },
            &[("lines", list(lang, lines.iter().map(|l| count(*l))))],
        ),
        RowProblem::FieldCount { expected, found } => t(
            lang,
            "import-problem-field-count",
            &[("expected", count(*expected)), ("found", count(*found))],
        ),
        RowProblem::ControlCharacter { column: c, character } => {
            let key = match character {
                '\t' => "import-problem-tab",
                '\n' | '\r' => "import-problem-line-break",
                _ => "import-problem-control",
            };
            t(
                lang,
                key,
                &[
                    ("column", column(lang, *c)),
                    ("code", format!("U+{:04X}", u32::from(*character))),
                ],
            )
        }
        RowProblem::TooLong {
            column: c,
            chars,
            limit,
        } => t(
            lang,
            "import-problem-too-long",
            &[
                ("column", column(lang, *c)),
                ("chars", count(*chars)),
                ("limit", count(*limit)),
            ],
        ),
        RowProblem::Required(c) => t(lang, "import-problem-required", &[("column", column(lang, *c))]),
        RowProblem::MissingAddress => lang.t("import-problem-missing-address"),
        RowProblem::InvalidAddress { value, fault } => {
            let value = quoted(lang, value);
            match fault_key(fault) {
                Some(key) => t(
                    lang,
                    "import-problem-invalid-address",
                    &[("value", value), ("fault", lang.t(key))],
                ),
                None => t(lang, "import-problem-invalid-address-plain", &[("value", value)]),
            }
        }
        RowProblem::NonAsciiUser => lang.t("import-problem-non-ascii-user"),
        RowProblem::DomainNotIdna { domain } => t(
            lang,
            "import-problem-domain-not-idna",
            &[("domain", quoted(lang, domain))],
        ),
        RowProblem::AsciiFormTooLong { chars, limit } => t(
            lang,
            "import-problem-ascii-form-too-long",
            &[("chars", count(*chars)), ("limit", count(*limit))],
        ),
        RowProblem::DuplicateAddress { value, first_line } => t(
            lang,
            "import-problem-duplicate-address",
            &[("value", quoted(lang, value)), ("first", count(*first_line))],
        ),
        RowProblem::NoThemes => lang.t("import-problem-no-themes"),
        RowProblem::StarMixedWithSlugs { value } => {
            t(lang, "import-problem-star-mixed", &[("value", quoted(lang, value))])
        }
        RowProblem::UnknownThemes { unknown, known } => {
            let key = if unknown.len() == 1 {
                "import-problem-unknown-theme"
            } else {
                "import-problem-unknown-themes"
            };
            let unknown = list(lang, unknown.iter().map(|u| quoted(lang, u)));
            if known.is_empty() {
                return t(lang, "import-problem-no-themes-defined", &[("unknown", unknown)]);
            }
            let known = known.iter().map(|slug| match theme_name(slug) {
                Some(name) => t(lang, "import-theme-named", &[("slug", slug.clone()), ("name", name)]),
                None => quoted(lang, slug),
            });
            t(lang, key, &[("unknown", unknown), ("known", list(lang, known))])
        }
        RowProblem::UnknownLocale(e) => t(lang, "import-problem-unknown-locale", &[("value", quoted(lang, &e.0))]),
        RowProblem::EmptyFile { expected } => t(
            lang,
            "import-problem-empty-file",
            &[("header", quoted(lang, &header_of(expected)))],
        ),
        RowProblem::UnreadableHeader { expected, .. } => t(
            lang,
            "import-problem-unreadable-header",
            &[("header", quoted(lang, &header_of(expected)))],
        ),
        RowProblem::InvalidHeader {
            header,
            undecodable,
            expected,
            missing,
            unexpected,
            duplicated,
        } => {
            let mut details = Vec::new();
            if !missing.is_empty() {
                let columns = list(lang, missing.iter().map(|c| header_column(lang, *c)));
                details.push(t(lang, "import-header-missing", &[("columns", columns)]));
            }
            if !unexpected.is_empty() {
                let names = list(lang, unexpected.iter().map(|n| excerpt(lang, n)));
                details.push(t(lang, "import-header-unexpected", &[("columns", names)]));
            }
            if !duplicated.is_empty() {
                let columns = list(lang, duplicated.iter().map(|c| header_column(lang, *c)));
                details.push(t(lang, "import-header-duplicated", &[("columns", columns)]));
            }
            let said = t(
                lang,
                "import-problem-invalid-header",
                &[
                    ("header", excerpt(lang, header)),
                    ("details", details.join(&lang.t("import-detail-separator"))),
                    ("expected", quoted(lang, &header_of(expected))),
                ],
            );
            if *undecodable {
                [said, lang.t("import-header-undecodable")].join(sentence_separator(lang))
            } else {
                said
            }
        }
    }
}

#[cfg(test)]
mod tests;
