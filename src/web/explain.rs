//! A field's problem in the page's language, from the catalogue: the label beside a form field, and what is wrong
//! with what was typed there. The domain says which field and what is wrong as values; only the pages word them
//! (the command line and the API keep the domain's English with their own names for the field).

use crate::domain::{Field, FieldError, Invalid, Problem};

use super::catalogue::Lang;

/// The catalogue's key for a field's label (`field-fiscal-year`).
fn field_key(field: Field) -> &'static str {
    match field {
        Field::Name => "field-name",
        Field::Title => "field-title",
        Field::Issue => "field-issue",
        Field::Theme => "field-theme",
        Field::Channel => "field-channel",
        Field::Schedule => "field-schedule",
        Field::At => "field-at",
        Field::Cron => "field-cron",
        Field::From => "field-from",
        Field::Until => "field-until",
        Field::Since => "field-since",
        Field::To => "field-to",
        Field::Status => "field-status",
        Field::FiscalYear => "field-fiscal-year",
        Field::Locale => "field-locale",
        Field::Reason => "field-reason",
        Field::Email => "field-email",
        Field::Recipient => "field-recipient",
        Field::Query => "field-query",
        Field::Actor => "field-actor",
        Field::Action => "field-action",
        Field::Target => "field-target",
        Field::Password => "field-password",
        Field::Role => "field-role",
        Field::TokenName => "field-token-name",
        Field::Expires => "field-expires",
    }
}

/// A field's label on the pages.
pub(crate) fn field_label(lang: Lang, field: Field) -> String {
    lang.t(field_key(field))
}

/// The problem for a message beside its field, in the page's language; the field itself is the label next to it.
pub(crate) fn explain(lang: Lang, e: &FieldError) -> String {
    let n = |n: &usize| n.to_string();
    match &e.problem {
        Problem::Empty => match e.field {
            Some(field) => lang.t_with("problem-empty", &[("field", &field_label(lang, field))]),
            None => lang.t("problem-empty-value"),
        },
        Problem::Control(_) => lang.t("problem-control"),
        Problem::TooLong { chars, max } => lang.t_with("problem-too-long", &[("chars", &n(chars)), ("max", &n(max))]),
        Problem::NotAnAddress(given) => lang.t_with("problem-not-an-address", &[("given", given)]),
        Problem::TooMany { given, max } => lang.t_with("problem-too-many", &[("given", &n(given)), ("max", &n(max))]),
        Problem::BadDateTime(_) => lang.t("problem-bad-date-time"),
        Problem::BadDate(_) => lang.t("problem-bad-date"),
        Problem::BadCron { .. } => lang.t("problem-bad-cron"),
        Problem::OneSchedule => lang.t("problem-one-schedule"),
        Problem::NeverFires { once: true, .. } => lang.t("problem-passed"),
        Problem::NeverFires {
            between: Some((from, until)),
            ..
        } => lang.t_with("problem-never-fires-between", &[("from", from), ("until", until)]),
        Problem::NeverFires { .. } => lang.t("problem-never-fires"),
        Problem::IssueForManuscripts => lang.t("problem-issue-for-manuscripts"),
        Problem::UnknownTheme { .. } => lang.t("problem-unknown-theme"),
        Problem::UnknownChannel(_) => lang.t("problem-unknown-channel"),
        Problem::NoDuty { .. } => lang.t("problem-no-duty"),
        Problem::EnglishForNewsletters => lang.t("problem-english-for-newsletters"),
        Problem::ExpiresDays(_) => lang.t("problem-expires-days"),
        Problem::PasswordShort { chars, min } => {
            lang.t_with("problem-password-short", &[("chars", &n(chars)), ("min", &n(min))])
        }
        Problem::PasswordControl => lang.t("problem-password-control"),
        Problem::PasswordCommon => lang.t("problem-password-common"),
        Problem::PasswordLikeAddress => lang.t("problem-password-like-address"),
        Problem::UnknownRole(_) => lang.t("problem-unknown-role"),
        Problem::UnknownOutcome(_) => lang.t("problem-unknown-outcome"),
        Problem::DoesNotRender(cause) => lang.t_with("problem-does-not-render", &[("cause", cause)]),
    }
}

/// Every problem of a request, one sentence after another, for a message at the top of a page.
pub(crate) fn explain_all(lang: Lang, invalid: &Invalid) -> String {
    let said: Vec<String> = invalid.problems().iter().map(|p| explain(lang, p)).collect();
    said.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each problem: a new one without words fails to compile in `explain` first.
    fn every() -> Vec<Problem> {
        vec![
            Problem::Empty,
            Problem::Control('\u{7}'),
            Problem::TooLong { chars: 201, max: 200 },
            Problem::NotAnAddress("taro".into()),
            Problem::TooMany { given: 11, max: 10 },
            Problem::BadDateTime("tomorrow".into()),
            Problem::BadDate("tomorrow".into()),
            Problem::BadCron {
                expr: "every day".into(),
                reason: "Invalid pattern".into(),
            },
            Problem::OneSchedule,
            Problem::NeverFires {
                schedule: "0 9 31 2 *".into(),
                once: false,
                between: None,
            },
            Problem::NeverFires {
                schedule: "0 9 31 2 *".into(),
                once: false,
                between: Some(("2027-04-01".into(), "2028-03-31".into())),
            },
            Problem::NeverFires {
                schedule: "once".into(),
                once: true,
                between: None,
            },
            Problem::IssueForManuscripts,
            Problem::UnknownTheme {
                slug: "telework".into(),
                known: vec!["women-advancement".into()],
            },
            Problem::UnknownChannel("fax".into()),
            Problem::NoDuty {
                theme: "telework".into(),
                channel: "newsletter".into(),
            },
            Problem::EnglishForNewsletters,
            Problem::ExpiresDays(0),
            Problem::PasswordShort { chars: 3, min: 12 },
            Problem::PasswordControl,
            Problem::PasswordCommon,
            Problem::PasswordLikeAddress,
            Problem::UnknownRole("boss".into()),
            Problem::UnknownOutcome("lost".into()),
            Problem::DoesNotRender("Partial not found banner".into()),
        ]
    }

    #[test]
    fn every_problem_reads_in_japanese_without_english_and_in_english() {
        for problem in every() {
            for field in [Some(Field::Name), None] {
                let e = FieldError {
                    field,
                    problem: problem.clone(),
                };
                let ja = explain(Lang::Ja, &e);
                let en = explain(Lang::En, &e);
                assert!(!ja.starts_with("problem-") && !en.starts_with("problem-"), "{e:?}");
                // The Japanese, without what the person typed and the examples of a format, holds no English.
                let rest = [
                    "taro",
                    "Partial not found banner",
                    "MON#1",
                    "2020-06-01T09:00",
                    "2020-06-01",
                ]
                .iter()
                .fold(ja.clone(), |rest, quoted| rest.replace(quoted, ""));
                assert!(
                    !rest.chars().any(|c| c.is_ascii_alphabetic()) || rest.contains("cron"),
                    "{e:?}: {ja}"
                );
                assert!(en.chars().any(|c| c.is_ascii_alphabetic()), "{e:?}: {en}");
                assert_ne!(ja, en);
            }
        }
    }

    #[test]
    fn an_empty_field_is_named_by_its_label_in_the_page_language() {
        let e = FieldError::new(Field::Name, Problem::Empty);
        assert_eq!(explain(Lang::Ja, &e), "管理用の名前を入力してください。");
        assert_eq!(explain(Lang::En, &e), "Enter the internal name.");
        let neither = FieldError::new(Field::Schedule, Problem::Empty);
        assert_eq!(explain(Lang::Ja, &neither), "スケジュールを入力してください。");
        let both = FieldError::new(Field::Schedule, Problem::OneSchedule);
        assert_eq!(
            explain(Lang::Ja, &both),
            "日時とcron式のどちらか一方だけを入力してください。"
        );
        // Without a field, the sentence does not start with a particle.
        let bare = FieldError {
            field: None,
            problem: Problem::Empty,
        };
        assert_eq!(explain(Lang::Ja, &bare), "値を入力してください。");
        assert_eq!(field_label(Lang::En, Field::FiscalYear), "fiscal year");
    }
}
