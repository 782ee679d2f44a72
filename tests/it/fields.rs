//! Every problem the services find in what a person gave reaches each way in with its field (issue 16, item 1):
//! the command line names the option, the API's JSON names the field, the staff pages say it beside the field in
//! the page's language. The same request goes through all three against the served binary, and nothing is made.

use crate::common;
use crate::support;

use common::TestEnv;
use serde_json::{Value, json};
use support::served::*;

/// A bad campaign as each way gives it.
struct Case {
    /// What is changed from a good monthly newsletter: (field, value).
    change: (&'static str, &'static str),
    /// The command line's message, and the option it names.
    cli: &'static str,
    /// The API's `field`.
    api_field: &'static str,
    /// The staff form's field the message stands beside, and the message in Japanese and in English.
    page_field: &'static str,
    ja: &'static str,
    en: &'static str,
}

const CASES: &[Case] = &[
    Case {
        change: ("name", " "),
        cli: "error: --name must not be empty",
        api_field: "name",
        page_field: "name",
        ja: "管理用の名前を入力してください。",
        en: "Enter the internal name.",
    },
    Case {
        change: ("name", "月次\r\nforged"),
        cli: "error: --name must not contain control characters (U+000D found)",
        api_field: "name",
        page_field: "name",
        ja: "改行や制御文字は使えません。",
        en: "No line breaks or control characters.",
    },
    Case {
        change: ("issue", "6月1日号"),
        cli: "error: --issue names the Tosho Shimbun issue a manuscript is for",
        api_field: "issue",
        page_field: "issue",
        ja: "号は東商新聞のときだけ入力します。",
        en: "The issue is for Tosho Shimbun only.",
    },
    Case {
        change: ("cron", "0 0 31 2 *"),
        cli: "never fires",
        api_field: "cron",
        page_field: "schedule",
        ja: "一度も配信されません",
        en: "never fires",
    },
    Case {
        change: ("cron", "0 9 * *"),
        cli: "error: invalid cron expression \"0 9 * *\": expected 5 fields",
        api_field: "cron",
        page_field: "schedule",
        ja: "cron式の書き方が正しくありません",
        en: "The cron expression does not parse",
    },
    Case {
        change: ("theme", "golf"),
        cli: "error: unknown theme \"golf\" (known: ",
        api_field: "theme",
        page_field: "theme",
        ja: "計画にないテーマです",
        en: "The plan has no such theme",
    },
];

/// A good campaign's fields, with one changed.
fn fields(change: (&'static str, &'static str)) -> Vec<(&'static str, &'static str)> {
    let mut fields = vec![
        ("name", "月次ニュース"),
        ("theme", "telework"),
        ("channel", "newsletter"),
        ("cron", "0 9 1 * *"),
    ];
    match fields.iter_mut().find(|(k, _)| *k == change.0) {
        Some(field) => field.1 = change.1,
        None => fields.push(change),
    }
    fields
}

/// The message beside a form field (`<p class="error" id="{field}-error">`).
fn beside(html: &str, field: &str) -> String {
    let start = format!("id=\"{field}-error\">");
    html.split(&start)
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default()
        .to_owned()
}

both_backends!(
    every_service_error_reaches_the_cli_the_api_and_the_page_with_its_field,
    |env: TestEnv| async move {
        let s = served(env).await;
        let token = s.token(STAFF);
        let staff = s.sign_in(STAFF).await;
        let campaigns = || s.cli(&["campaign", "list"]).lines().count();
        let before = campaigns();
        for case in CASES {
            let fields = fields(case.change);
            let mut args = vec!["campaign".to_owned(), "create".to_owned()];
            for (key, value) in &fields {
                args.extend([format!("--{key}"), (*value).to_owned()]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, _, err) = s.env.run(&args);
            assert_eq!(code, 1, "{err}");
            assert!(err.contains(case.cli), "{:?}: {err}", case.change);

            let body: Value = fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
            let (status, error) = s.api(&token, "POST", "/campaigns", Some(body)).await;
            assert_eq!(status, 400, "{error}");
            assert_eq!(error["field"], case.api_field, "{:?}: {error}", case.change);
            assert!(!error["message"].as_str().unwrap_or_default().contains("--"), "{error}");

            let mut form = fields.clone();
            form.push(("kind", "cron"));
            let (status, html) = s.post(&staff, "/staff/campaigns", &form).await;
            assert_eq!(status, 400, "{:?}", case.change);
            assert!(
                beside(&html, case.page_field).contains(case.ja),
                "{:?}: {}",
                case.change,
                beside(&html, case.page_field)
            );
            let english = Browser {
                cookie: format!("{}; outreach_lang=en", staff.cookie),
                csrf: staff.csrf.clone(),
            };
            let (_, html) = s.post(&english, "/staff/campaigns", &form).await;
            assert!(
                beside(&html, case.page_field).contains(case.en),
                "{:?}: {html}",
                case.change
            );
        }
        assert_eq!(campaigns(), before, "nothing refused was made");

        // Problems in several fields come back together, each beside its own.
        let mut form = fields(("name", ""));
        form.extend([("issue", "6月1日号"), ("kind", "cron")]);
        let (_, html) = s.post(&staff, "/staff/campaigns", &form).await;
        assert!(
            !beside(&html, "name").is_empty() && !beside(&html, "issue").is_empty(),
            "{html}"
        );

        // A member's reason: the same three ways.
        let (code, _, err) = s.env.run(&["members", "suppress", ALICE, "--reason", " "]);
        assert_eq!((code, err.trim()), (1, "error: --reason must not be empty"));
        let (status, error) = s
            .api(
                &token,
                "POST",
                &format!("/members/{ALICE}/suppress"),
                Some(json!({"reason": " "})),
            )
            .await;
        assert_eq!((status.as_u16(), &error["field"]), (400, &json!("reason")), "{error}");
        assert_eq!(error["message"], "reason must not be empty");
        let alice = s.member_id(&token, ALICE).await;
        let (status, html) = s
            .post(&staff, &format!("/staff/members/{alice}/suppress"), &[("reason", " ")])
            .await;
        assert_eq!(status, 400);
        assert!(html.contains("理由を入力してください。"), "{html}");
        assert!(!s.cli(&["members", "show", ALICE]).contains("suppressed"));
    }
);
