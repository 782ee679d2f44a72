//! What a page says about a service's error, in the page's language, from the catalogue: a field's problem, a
//! refusal with its data, or — for the errors whose text is the program's (a template's, the configuration's) —
//! a sentence of ours with that text as a detail. The English `Display` of an error is for the command line,
//! the API and the log; a page never shows it as its own words.

use crate::domain::Refusal;
use crate::domain::campaign::CampaignState;
use crate::error::{AppError, ErrorKind};

use super::catalogue::Lang;
use super::explain::explain_all;
use super::staff::import_problems;

/// The error in the page's language. The database's and the program's own failures say only "try again later":
/// the caller logs them.
pub(crate) fn said(lang: Lang, e: &AppError) -> String {
    match e {
        AppError::Csv(row) => import_problems::say_file(lang, row),
        AppError::Invalid(invalid) => explain_all(lang, invalid),
        AppError::Refused(refusal) => refused(lang, refusal),
        AppError::Input(detail) => lang.t_with("said-input", &[("detail", detail)]),
        AppError::Config(config) => lang.t_with("said-config", &[("detail", &config.to_string())]),
        _ => match e.kind() {
            ErrorKind::NotFound => lang.t("not-found"),
            ErrorKind::Conflict => lang.t("said-conflict"),
            ErrorKind::Forbidden | ErrorKind::Unauthorized => lang.t("said-forbidden"),
            ErrorKind::MailServer => lang.t("said-mail-server"),
            _ => lang.t("try-again-later"),
        },
    }
}

/// A refusal in the page's language, naming states as the pages name them.
pub(crate) fn refused(lang: Lang, refusal: &Refusal) -> String {
    let state = |s: CampaignState| lang.label("campaign-state", s.as_str());
    let id = |id: &i64| id.to_string();
    match refusal {
        Refusal::NoCampaign(n) => lang.t_with("refused-no-campaign", &[("id", &id(n))]),
        Refusal::NoRun(n) => lang.t_with("refused-no-run", &[("id", &id(n))]),
        Refusal::NoMember(who) => lang.t_with("refused-no-member", &[("who", who)]),
        Refusal::NoAdvisor(who) => lang.t_with("refused-no-advisor", &[("who", who)]),
        Refusal::NoToken(n) => lang.t_with("refused-no-token", &[("id", &id(n))]),
        Refusal::NoLogRecord(n) => lang.t_with("refused-no-log-record", &[("id", &id(n))]),
        Refusal::NotSendable { state: s, .. } => lang.t_with(
            "refused-not-sendable",
            &[("state", &state(*s)), ("scheduled", &state(CampaignState::Scheduled))],
        ),
        Refusal::NotEditable { state: s, .. } => lang.t_with(
            "refused-not-editable",
            &[
                ("state", &state(*s)),
                ("scheduled", &state(CampaignState::Scheduled)),
                ("paused", &state(CampaignState::Paused)),
            ],
        ),
        Refusal::EndedWhileEdited { .. } => lang.t("refused-ended-while-edited"),
        Refusal::NotByHand(s) => lang.t_with("refused-not-by-hand", &[("state", &state(*s))]),
        Refusal::StaysPaused { error, .. } => lang.t_with("refused-stays-paused", &[("error", error)]),
        Refusal::CannotBecome { state: s, to, .. } => {
            lang.t_with("refused-cannot-become", &[("state", &state(*s)), ("to", &state(*to))])
        }
        Refusal::NotSuppressed(who) => lang.t_with("refused-not-suppressed", &[("who", who)]),
        Refusal::AccountExists(who) => lang.t_with("refused-account-exists", &[("who", who)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each refusal: a new one without words fails here (the match above fails to compile first).
    fn every() -> Vec<Refusal> {
        use CampaignState::*;
        vec![
            Refusal::NoCampaign(3),
            Refusal::NoRun(4),
            Refusal::NoMember("a@example.jp".into()),
            Refusal::NoAdvisor("b@example.jp".into()),
            Refusal::NoToken(5),
            Refusal::NoLogRecord(6),
            Refusal::NotSendable { id: 1, state: Paused },
            Refusal::NotEditable { id: 1, state: Finished },
            Refusal::EndedWhileEdited { id: 1 },
            Refusal::NotByHand(Finished),
            Refusal::StaysPaused {
                id: 1,
                error: "Partial not found banner".into(),
            },
            Refusal::CannotBecome {
                id: 1,
                state: Cancelled,
                to: Scheduled,
            },
            Refusal::NotSuppressed("c@example.jp".into()),
            Refusal::AccountExists("d@example.jp".into()),
        ]
    }

    #[test]
    fn every_refusal_reads_in_japanese_without_its_english() {
        for r in every() {
            let ja = refused(Lang::Ja, &r);
            let en = refused(Lang::En, &r);
            assert!(
                !ja.starts_with("refused-") && !en.starts_with("refused-"),
                "{r:?}: {ja} / {en}"
            );
            // What is left of the Japanese after the values it quotes holds no English word.
            let mut rest = ja.clone();
            for value in [
                "a@example.jp",
                "b@example.jp",
                "c@example.jp",
                "d@example.jp",
                "Partial not found banner",
            ] {
                rest = rest.replace(value, "");
            }
            assert!(
                !rest.chars().any(|c| c.is_ascii_alphabetic()) || rest.contains("API"),
                "{r:?}: {ja}"
            );
            assert_ne!(ja, r.to_string());
            assert!(en.chars().any(|c| c.is_ascii_alphabetic()), "{r:?}: {en}");
        }
        assert_eq!(
            refused(
                Lang::Ja,
                &Refusal::CannotBecome {
                    id: 1,
                    state: CampaignState::Cancelled,
                    to: CampaignState::Scheduled
                }
            ),
            "このキャンペーンは「中止」のため、「予定どおり配信」にはできません。"
        );
    }

    #[test]
    fn a_programs_text_is_a_detail_inside_a_sentence_of_ours() {
        let e = AppError::input("template newsletter.hbs: unclosed tag");
        let ja = said(Lang::Ja, &e);
        assert!(ja.starts_with("入力を受け付けられませんでした。"), "{ja}");
        assert!(ja.contains("unclosed tag"), "{ja}");
        let e = AppError::Conflict("another plan file".into());
        assert_eq!(said(Lang::Ja, &e), "いまの状態では、この操作はできません。");
        let e = AppError::Database("disk I/O error".into());
        assert!(!said(Lang::En, &e).contains("disk"));
    }
}
