//! Every problem worded in both languages; a row and a file as a page shows them.

use super::*;
use crate::domain::member::ParseLocaleError;

/// A problem of a row (or of the file) in the page's language, no theme named.
fn say(lang: Lang, problem: &RowProblem) -> String {
    say_named(lang, &|_| None, problem)
}

/// The member file's columns, as the examples expect them.
const MEMBERS: &[Column] = &[
    Column::Email,
    Column::Company,
    Column::ContactName,
    Column::Themes,
    Column::Locale,
];

/// One of each problem (each kind of control character and address fault): a new one without words fails
/// here (the match in `say_named` fails to compile first).
fn every() -> Vec<RowProblem> {
    let mut every = vec![
        RowProblem::Unreadable {
            detail: "CSV error: record 3 (line: 3, byte: 80): found record with 6 fields".into(),
        },
        RowProblem::InvalidUtf8 {
            record_line: 3,
            lines: vec![3],
        },
        RowProblem::InvalidUtf8 {
            record_line: 3,
            lines: vec![4, 5],
        },
        RowProblem::FieldCount { expected: 5, found: 3 },
        RowProblem::TooLong {
            column: Column::Company,
            chars: 10_485_760,
            limit: 200,
        },
        RowProblem::MissingAddress,
        RowProblem::NonAsciiUser,
        RowProblem::DomainNotIdna {
            domain: "xn--a.jp".into(),
        },
        RowProblem::AsciiFormTooLong { chars: 300, limit: 254 },
        RowProblem::DuplicateAddress {
            value: "X@Example.JP".into(),
            first_line: 2,
        },
        RowProblem::NoThemes,
        RowProblem::StarMixedWithSlugs { value: "*;tax".into() },
        RowProblem::UnknownThemes {
            unknown: vec!["golf".into(), "chess".into()],
            known: vec!["tax".into(), "labour".into()],
        },
        RowProblem::UnknownThemes {
            unknown: vec!["golf".into()],
            known: vec!["tax".into()],
        },
        RowProblem::UnknownThemes {
            unknown: vec!["golf".into()],
            known: vec![],
        },
        RowProblem::UnknownLocale(ParseLocaleError("fr".into())),
        RowProblem::EmptyFile { expected: MEMBERS },
        RowProblem::UnreadableHeader {
            detail: "CSV error: invalid UTF-8".into(),
            expected: MEMBERS,
        },
        RowProblem::InvalidHeader {
            header: Excerpt::of("email,company,name,name"),
            undecodable: false,
            expected: MEMBERS,
            missing: vec![Column::ContactName, Column::Themes, Column::Locale],
            unexpected: vec![Excerpt::of("name")],
            duplicated: vec![],
        },
        RowProblem::InvalidHeader {
            header: Excerpt::of(&"\u{fffd}x".repeat(100)),
            undecodable: true,
            expected: &[Column::Email, Column::Name, Column::Branch],
            missing: vec![Column::Email, Column::Name, Column::Branch],
            unexpected: vec![Excerpt::of(&"\u{fffd}x".repeat(100))],
            duplicated: vec![Column::Name],
        },
    ];
    for column in [
        Column::Email,
        Column::Company,
        Column::ContactName,
        Column::Themes,
        Column::Locale,
        Column::Name,
        Column::Branch,
    ] {
        every.push(RowProblem::Required(column));
        for character in ['\t', '\n', '\r', '\0', '\u{1b}', '\u{85}'] {
            every.push(RowProblem::ControlCharacter { column, character });
        }
    }
    for fault in [
        AddressFault::MissingParts,
        AddressFault::Unbalanced,
        AddressFault::InvalidUser,
        AddressFault::InvalidDomain,
        AddressFault::InvalidInput,
        AddressFault::Other("Something new".into()),
    ] {
        every.push(RowProblem::InvalidAddress {
            value: "not-an-address".into(),
            fault,
        });
    }
    every
}

/// The text without the values it quotes (「…」), the character codes it names (U+0009) and the encodings'
/// names, which Japanese writes as they are.
fn words_of_the_page(text: &str) -> String {
    let mut kept = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '「' => depth += 1,
            '」' => depth = depth.saturating_sub(1),
            _ if depth == 0 => kept.push(c),
            _ => {}
        }
    }
    let mut rest = kept.replace("UTF-8", "").replace("Shift_JIS", "");
    while let Some(at) = rest.find("U+") {
        let code_end = rest[at + 2..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .map_or(rest.len(), |i| at + 2 + i);
        rest.replace_range(at..code_end, "");
    }
    rest
}

#[test]
fn every_problem_is_worded_in_both_languages() {
    for problem in every() {
        let ja = say(Lang::Ja, &problem);
        let en = say(Lang::En, &problem);
        assert!(
            !ja.contains("import-") && !en.contains("import-"),
            "{problem:?}: {ja} / {en}"
        );
        assert!(
            !words_of_the_page(&ja).chars().any(|c| c.is_ascii_alphabetic()),
            "English in the Japanese of {problem:?}: {ja}"
        );
        assert!(ja.ends_with('。') || ja.ends_with('）'), "{problem:?}: {ja}");
        assert_ne!(ja, problem.to_string());
        assert!(
            !en.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
            "Japanese in the English of {problem:?}: {en}"
        );
        assert!(en.ends_with('.') || en.ends_with(')'), "{problem:?}: {en}");
    }
}

#[test]
fn a_row_says_each_problem_and_a_file_says_it_was_refused() {
    let row = RowError {
        line: 4,
        problems: vec![
            RowProblem::DuplicateAddress {
                value: "X@Example.JP".into(),
                first_line: 2,
            },
            RowProblem::Required(Column::Company),
        ],
    };
    assert_eq!(
        say_all(Lang::Ja, &row),
        "メールアドレス「X@Example.JP」は2行目と同じアドレスです。会社名が空です（必須の項目です）。"
    );
    assert_eq!(
        say_all(Lang::En, &row),
        "The email address \"X@Example.JP\" is the same as on line 2. The company column is empty (required)."
    );
    let unknown = RowError::new(
        5,
        RowProblem::UnknownThemes {
            unknown: vec!["golf".into()],
            known: vec!["tax".into(), "labour".into()],
        },
    );
    let name = |slug: &str| (slug == "tax").then(|| "税務".to_owned());
    assert_eq!(
        say_all_named(Lang::Ja, &name, &unknown),
        "テーマ「golf」は計画にありません。使えるテーマ：「tax」（税務）、「labour」。"
    );
    let file = RowError::new(1, RowProblem::EmptyFile { expected: MEMBERS });
    assert_eq!(
        say_file(Lang::Ja, &file),
        "ファイルを取り込めません。ファイルが空です。1行目は列名の行\
         「email,company,contact_name,themes,locale」にしてください。"
    );
    assert_eq!(
        say(
            Lang::Ja,
            &RowProblem::ControlCharacter {
                column: Column::ContactName,
                character: '\u{1b}'
            }
        ),
        "担当者名に制御文字（U+001B）が入っています。取り除いてください。"
    );
    assert_eq!(
        say(
            Lang::Ja,
            &RowProblem::InvalidAddress {
                value: "x".into(),
                fault: AddressFault::MissingParts
            }
        ),
        "メールアドレス「x」の形が正しくありません（@ がありません）。"
    );
}
