//! Every page, as people see it: signed out, as a member from a real mail's links, and as an admin (who reaches
//! every staff, auditor and admin page) on a site with data in every state, each in Japanese and in English, on
//! a 1366×900 desktop and a 390×844 phone. On each: axe-core finds nothing, nothing sticks out sideways on the
//! phone, and a Japanese page shows no English word of the pages' own (a stored spelling or a word of the
//! English catalogue, as `tests/japanese.rs` checks in process). Screenshots of each with `OUTREACH_SCREENSHOTS=1`
//! (`docs/screenshots/tour-*.png`, shown in `docs/screenshots/README.md`).

use std::time::Duration;

use outreach::domain::campaign::CampaignState;
use outreach::domain::plan::Channel;

use super::harness::Browser;
use super::member::link_in;
use super::staff::{PASSWORD, import_members, mail_site, run_js};
use crate::common::{TestEnv, tester};
use crate::support::rig::{campaign, worker_of};
use crate::support::smtp::TestSmtp;

/// Visible words of the page that are ours and English, in a Japanese page: what the English side says and
/// the Japanese side never does, and the stored spellings (`telework`, `sent`, …), from the page's own text
/// outside `<code>`, `<samp>`, addresses and the language switch.
const LEAKS: &str = r#"
const skip = 'code, samp, [lang=en], script, style';
const words = [];
const walk = (node) => {
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) {
      words.push(...child.textContent.split(/[^A-Za-z0-9_@.-]+/));
    } else if (child.nodeType === Node.ELEMENT_NODE && !child.matches(skip)
               && getComputedStyle(child).display !== 'none') {
      walk(child);
    }
  }
};
walk(document.body);
const stored = new Set(arguments[0]);
return words.filter(w => w && !w.includes('@') && stored.has(w.replace(/^[-.]+|[-.]+$/g, '')));
"#;

/// Looks at the page at `path` in both sizes: axe, nothing sideways on the phone, no leak in Japanese, and a
/// screenshot of each.
async fn look(b: &Browser, name: &str, lang: &str, path: &str, stored: &[String]) {
    for (size, phone) in [("desktop", false), ("phone", true)] {
        if phone {
            b.viewport(390, 844).await;
        } else {
            b.viewport(1366, 900).await;
        }
        b.goto(path).await;
        let html_lang = run_js(b, "return document.documentElement.lang;").await;
        if lang == "ja" {
            let leaks = b
                .client()
                .execute(LEAKS, vec![serde_json::json!(stored)])
                .await
                .expect("the leak check");
            assert_eq!(
                leaks,
                serde_json::json!([]),
                "English on the Japanese page {path} ({size})"
            );
            assert_ne!(html_lang, "en", "{path} is in English");
        }
        b.axe().await;
        if phone {
            assert!(!b.scrolls_sideways().await, "{path} sticks out sideways on a phone");
        }
        b.screenshot(&format!("tour-{name}-{lang}-{size}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_in_japanese_and_english_on_a_desktop_and_a_phone() {
    let Some(mut env) = TestEnv::new(crate::common::Db::Sqlite).await else {
        return;
    };
    let Some(b) = Browser::start().await else { return };
    let smtp = TestSmtp::start();
    let (app, base) = mail_site(&mut env, &smtp).await;
    import_members(
        &app,
        &[
            ("ichiro@example.co.jp", "株式会社一番", "一番 一郎"),
            ("jiro@example.co.jp", "株式会社二番", "二番 二郎"),
        ],
    )
    .await;
    app.suppress(&tester(), "jiro@example.co.jp", "本人の希望")
        .await
        .expect("suppress");
    let sent = campaign(&app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
    app.send_now(&tester(), sent).await.expect("send now").expect("a run");
    worker_of(&app).await.drain().await.expect("drain");
    let paused = campaign(&app, Channel::Newsletter, None, Some("0 9 * * MON")).await;
    app.set_campaign_state(&tester(), paused, CampaignState::Paused)
        .await
        .expect("pause");
    let themes: Vec<String> = app
        .plan(None)
        .await
        .expect("plan")
        .themes
        .into_iter()
        .map(|t| t.slug)
        .collect();
    let stored = crate::support::spellings::stored_spellings(&themes);
    let preferences = link_in(&smtp, "ichiro@example.co.jp", "p");
    let leave = link_in(&smtp, "ichiro@example.co.jp", "u");

    // Signed out, and the member's pages from the mail's links (Japanese: the member's language).
    b.goto(&format!("{base}/sign-in")).await;
    look(&b, "sign-in", "ja", "/sign-in", &stored).await;
    // The sign-in page has the language switch too.
    b.goto("/lang/en?back=/sign-in").await;
    look(&b, "sign-in", "en", "/sign-in", &stored).await;
    b.goto("/lang/ja?back=/sign-in").await;
    look(&b, "member-preferences", "ja", &preferences, &stored).await;
    look(&b, "member-leave-confirm", "ja", &leave, &stored).await;
    look(&b, "member-invalid-link", "ja", "/p/not-a-token", &stored).await;

    b.sign_in(&base, "admin@example.org", PASSWORD).await;
    let member = app
        .store
        .member("ichiro@example.co.jp")
        .await
        .expect("member")
        .expect("known")
        .id;
    let pages = [
        ("dashboard", "/staff".to_owned()),
        ("campaigns", "/staff/campaigns".to_owned()),
        ("campaign-new", "/staff/campaigns/new".to_owned()),
        ("campaign", format!("/staff/campaigns/{sent}")),
        ("campaign-paused", format!("/staff/campaigns/{paused}")),
        ("campaign-edit", format!("/staff/campaigns/{sent}/edit")),
        ("campaign-confirm", format!("/staff/campaigns/{sent}/confirm/pause")),
        ("members", "/staff/members".to_owned()),
        ("member", format!("/staff/members/{member}")),
        ("members-import", "/staff/members/import".to_owned()),
        ("advisors", "/staff/advisors".to_owned()),
        ("send-log", "/audit/log".to_owned()),
        ("send-log-entry", "/audit/log/1".to_owned()),
        ("actions", "/audit/actions".to_owned()),
        ("users", "/admin/users".to_owned()),
        ("tokens", "/admin/tokens".to_owned()),
        ("config", "/admin/config".to_owned()),
    ];
    for lang in ["ja", "en"] {
        b.goto(&format!("/lang/{lang}?back=/staff")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        for (name, path) in &pages {
            look(&b, name, lang, path, &stored).await;
        }
    }
}
