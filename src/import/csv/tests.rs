use encoding_rs::SHIFT_JIS;

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
    assert!(e.reason().contains(needle), "{e:?} should contain {needle:?}");
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
    assert!(e.reason().starts_with("invalid address \"foo@\": "), "{e}");
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
    assert!(p.errors[0].reason().contains("tax, labour, export"));
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
    assert_eq!(e.reason(), "duplicate address X@Example.JP (first on line 3)");
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[1].email, "x@example.jp");
}

#[test]
fn missing_and_extra_columns() {
    let p = members("a@example.jp,A社,A,tax\nb@example.jp,B社,B,tax,ja,extra\n");
    assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
    assert_eq!(p.errors[0].line, 2);
    assert_eq!(p.errors[0].reason(), "expected 5 fields, found 4");
    assert_eq!(p.errors[1].line, 3);
    assert_eq!(p.errors[1].reason(), "expected 5 fields, found 6");
    assert!(p.rows.is_empty());
}

#[test]
fn required_fields() {
    let p = members("a@example.jp, ,A,tax,ja\nb@example.jp,B社,,tax,ja\n");
    assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
    assert_eq!(p.errors[0].line, 2);
    assert!(p.errors[0].reason().contains("company is empty"));
    assert_eq!(p.errors[1].line, 3);
    assert!(p.errors[1].reason().contains("contact_name is empty"));

    let a = parse_advisors(b"email,name,branch\nx@example.jp,,North\n").unwrap();
    let e = only_error(&a);
    assert_eq!(e.line, 2);
    assert!(e.reason().contains("name is empty (required)"), "{e}");
}

#[test]
fn several_problems_in_one_row_are_joined() {
    let p = members("bad,,,golf,xx\n");
    let e = only_error(&p);
    let reason = e.reason();
    let parts: Vec<&str> = reason.split("; ").collect();
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
    assert!(p.errors[2].reason().contains("first on line 2"));
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
    let p =
        parse_advisors(b"email,name,branch\r\n\r\n\r\nx@example.jp,X,\r\n\r\nfoo@,Y,\r\nz@example.jp,,\r\n").unwrap();
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
    assert!(e.reason().starts_with("invalid UTF-8"), "{e}");
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
    assert!(e.reason().contains("invalid UTF-8"));
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
    assert!(e.reason().contains("invalid UTF-8"));
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
    assert!(e.reason().contains("invalid UTF-8 on line 3"), "{e}");
    assert_eq!(p.rows[0].line, 4);
}

#[test]
fn bad_header() {
    let e = parse_members(b"email,company,name,themes,locale\na@example.jp,A,A,tax,ja\n", KNOWN).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.reason().contains("email,company,contact_name,themes,locale"), "{e}");
    assert!(e.reason().contains("missing: contact_name"), "{e}");
    assert!(e.reason().contains("unexpected: \"name\""), "{e}");

    let e = parse_advisors(b"email,name,branch,name\n").unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.reason().contains("duplicated: name"), "{e}");
    assert!(e.reason().contains("email,name,branch"), "{e}");

    // A member file given to the advisor parser.
    let e = parse_advisors(MEMBER_HEADER.as_bytes()).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.reason().contains("missing: name, branch"), "{e}");
}

#[test]
fn empty_input() {
    for input in [&b""[..], b"\n\r\n  \n", UTF8_BOM] {
        let e = parse_members(input, KNOWN).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason().contains("empty file"), "{e}");
        assert!(e.reason().contains("email,company,contact_name,themes,locale"));
        let e = parse_advisors(input).unwrap_err();
        assert!(e.reason().contains("email,name,branch"), "{e}");
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
        problems: vec![RowProblem::Required(Column::Name)],
    };
    assert_eq!(e.to_string(), "line 3: name is empty (required)");
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
        only_error(&p).reason(),
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

#[test]
fn address_faults_are_worded_as_the_parser_words_them() {
    use lettre::address::AddressError as E;
    for e in [
        E::MissingParts,
        E::Unbalanced,
        E::InvalidUser,
        E::InvalidDomain,
        E::InvalidInput,
    ] {
        assert_eq!(AddressFault::from(e).to_string(), e.to_string());
    }
}

#[test]
fn a_long_header_and_its_names_are_shown_cut_with_their_length() {
    let header = format!("email,{}\n", "X".repeat(100));
    let e = parse_advisors(header.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "line 1: invalid header \"email,{}… (106 characters)\": expected the columns email,name,branch \
             (in any order); missing: name, branch; unexpected: \"{}… (100 characters)\"",
            "X".repeat(74),
            "x".repeat(80)
        )
    );
    assert_eq!(e.problems.len(), 1);
}
