//! Fuzzing on stable Rust: arbitrary bytes and arbitrary structured rows fed to every reader of outside
//! input (the plan parser, the CSV readers, the cron and date parsers, the configuration loader). None may
//! panic, and every rejection says where: a line, a field or a key. `OUTREACH_FUZZ_CASES` raises the count
//! (CI runs several thousand per property). Not `PROPTEST_CASES`: proptest lets that override every property's
//! own count, the slow schedule race's too.

use chrono_tz::Asia::Tokyo;
use outreach::config::Settings;
use outreach::domain::campaign::Schedule;
use outreach::domain::campaign::schedule::{parse_local_date, parse_local_datetime};
use outreach::import::csv::{parse_advisors, parse_members};
use outreach::import::plan::parse_plan;
use proptest::prelude::*;

const THEMES: [&str; 3] = ["telework", "sme-talent", "smooth-biz"];
const PLAN: &str = include_str!("../../config/plans/fy2020.tsv");

fn cases() -> ProptestConfig {
    let cases = std::env::var("OUTREACH_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text that reaches the edges: control characters, quotes, separators, BOMs, wide and combining characters.
fn nasty_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                '\0', '\r', '\n', '\t', '"', ',', ';', '*', '@', '=', '\u{feff}', '\u{7f}', '\u{85}', '\u{2028}', '東',
                '・', '○', '<', '>', 'é', '\u{301}',
            ]),
        ],
        0..40,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn line_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count() + 1
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn the_plan_parser_names_a_line_for_any_text(text in nasty_text()) {
        if let Err(e) = parse_plan(&text) {
            prop_assert!(e.line >= 1 && e.line <= line_count(text.as_bytes()) + 1, "{e}");
            prop_assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn the_plan_parser_survives_any_edit_of_the_real_plan(
        at in 0usize..PLAN.len(),
        cut in 0usize..200,
        insert in nasty_text(),
    ) {
        let mut at = at.min(PLAN.len());
        while !PLAN.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + cut).min(PLAN.len());
        while !PLAN.is_char_boundary(end) {
            end -= 1;
        }
        let text = format!("{}{insert}{}", &PLAN[..at], &PLAN[end..]);
        if let Err(e) = parse_plan(&text) {
            prop_assert!(e.line >= 1 && e.line <= line_count(text.as_bytes()) + 1, "{e}");
        }
    }

    #[test]
    fn the_csv_readers_name_a_line_for_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let lines = line_count(&bytes);
        for result in [
            parse_members(&bytes, &THEMES).map(|p| p.errors),
            parse_advisors(&bytes).map(|p| p.errors),
        ] {
            match result {
                Ok(errors) => {
                    for e in errors {
                        prop_assert!(e.line >= 2 && e.line <= lines + 1, "{e}");
                    }
                }
                Err(e) => prop_assert!(e.line <= lines + 1 && !e.reason().is_empty(), "{e}"),
            }
        }
    }

    #[test]
    fn member_rows_are_read_back_or_refused_by_line(
        rows in prop::collection::vec(
            (
                prop_oneof![3 => "[a-z]{1,8}@example\\.co\\.jp", 1 => nasty_text()],
                nasty_text(),
                nasty_text(),
                prop_oneof![3 => Just("telework".to_owned()), 1 => Just("*".to_owned()), 1 => nasty_text()],
                prop_oneof![3 => Just("ja".to_owned()), 1 => nasty_text()],
            ),
            1..8,
        ),
    ) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["email", "company", "contact_name", "themes", "locale"]).unwrap();
        for (email, company, contact, themes, locale) in &rows {
            w.write_record([email, company, contact, themes, locale]).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let lines = line_count(&bytes);
        let parsed = parse_members(&bytes, &THEMES);
        let parsed = match parsed {
            Ok(p) => p,
            // A file-level refusal (every row blank, say) still names where.
            Err(e) => {
                prop_assert!(e.line <= lines && !e.reason().is_empty(), "{e}");
                return Ok(());
            }
        };
        prop_assert!(parsed.rows.len() + parsed.errors.len() <= rows.len());
        for e in &parsed.errors {
            prop_assert!(e.line >= 2 && e.line <= lines, "{e}");
            prop_assert!(!e.reason().is_empty());
        }
        for row in &parsed.rows {
            // A row that was read has an address and no control character anywhere.
            prop_assert!(row.email.contains('@'), "{row:?}");
            for field in [&row.email, &row.company, &row.contact_name] {
                prop_assert!(!field.chars().any(char::is_control), "{row:?}");
            }
        }
    }

    #[test]
    fn cron_and_dates_refuse_with_the_field(text in nasty_text()) {
        if let Err(e) = Schedule::cron(&text, "Asia/Tokyo") {
            prop_assert!(e.to_string().starts_with("invalid cron expression"), "{e}");
        }
        if let Err(e) = parse_local_datetime("--at", &text, Tokyo) {
            prop_assert!(e.to_string().contains("--at"), "{e}");
        }
        if let Err(e) = parse_local_date("--until", &text, Tokyo, true) {
            prop_assert!(e.to_string().contains("--until"), "{e}");
        }
    }

    #[test]
    fn a_cron_that_parses_gives_ordered_ticks(
        minute in "[0-5]?[0-9]|\\*|\\*/[1-9][0-9]?",
        hour in "[01]?[0-9]|2[0-3]|\\*",
        dom in "[1-9]|[12][0-9]|3[01]|\\*|L",
        dow in "[0-6]|MON#[1-5]|\\*|MON-FRI",
    ) {
        let expr = format!("{minute} {hour} {dom} * {dow}");
        if let Ok(schedule) = Schedule::cron(&expr, "Asia/Tokyo") {
            let ticks = schedule.ticks_after(1_590_969_600_000, 5, None);
            prop_assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{expr}: {ticks:?}");
            prop_assert!(ticks.iter().all(|t| t % 1000 == 0), "whole seconds: {expr}");
        }
    }

    #[test]
    fn configuration_refusals_name_the_key(
        key in prop::sample::select(vec![
            "OUTREACH_SMTP__PORT", "OUTREACH_SMTP__SECURITY", "OUTREACH_SMTP__POOL_SIZE",
            "OUTREACH_DELIVERY__LEASE_SECS", "OUTREACH_DELIVERY__RETRY_BASE_SECS", "OUTREACH_DELIVERY__FROM",
            "OUTREACH_DELIVERY__TRANSPORT", "OUTREACH_SCHEDULE__TIME_ZONE", "OUTREACH_SCHEDULE__CATCH_UP",
            "OUTREACH_WEB__BASE_URL", "OUTREACH_DATABASE__URL", "OUTREACH_TOSHO_SHIMBUN__EDITORIAL_DESK",
            "OUTREACH_DELIVERY__FAILURE_RATE_PAUSE", "OUTREACH_WEB__ALLOW_HTTP",
        ]),
        value in nasty_text(),
    ) {
        if let Err(e) = Settings::load_from(None, vec![(key.to_owned(), value.clone())]) {
            let section_key = key.trim_start_matches("OUTREACH_").replacen("__", ".", 1).to_lowercase();
            prop_assert!(
                e.key.starts_with(&section_key) || e.key.starts_with("web.base_url"),
                "{key}={value:?}: {e}"
            );
        }
    }

    #[test]
    fn a_configuration_file_of_any_text_is_refused_by_key(text in nasty_text(), section in "[a-z_]{1,12}") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, format!("[{section}]\n{text}")).unwrap();
        if let Err(e) = Settings::load_from(Some(&file), Vec::new()) {
            prop_assert!(!e.key.is_empty() && !e.reason.is_empty(), "{e}");
        }
    }
}
