//! Issue 16, item 3: a Japanese page shows no English. Every staff, auditor and admin page is fetched in Japanese
//! (and in English) from a site with members, history, campaigns in every state, runs, sent and failed mail,
//! advisors, users and tokens, and its visible text is checked for two kinds of leak:
//! - a stored spelling that has a Japanese name: a theme's slug, a channel, a campaign's, run's or member's state,
//!   a trigger, an outcome, a history event or its source, a role (taken from the code's own lists, so a new
//!   state is checked the day it is added);
//! - a word of the English catalogue that the Japanese catalogue does not use itself (an English label left
//!   behind).
//!
//! What is not text of the page: the language switch (marked `lang="en"`), addresses, `<code>` (a cron expression, a command) and `<samp>` (a mail server's
//! reply, in the server's words).

use crate::common;
use crate::support;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{TestEnv, tester};
use outreach::clock::ManualClock;
use outreach::domain::campaign::CampaignState;
use outreach::domain::plan::Channel;
use reqwest::StatusCode;
use support::rig::{create, import, request, tokyo, worker_of};
use support::smtp::TestSmtp;
use support::staff_site::{Browser, Site, serve};

const ADMIN: &str = "admin@example.org";

/// The ids of the campaigns in each state the site holds.
struct Campaigns {
    sent: i64,
    paused: i64,
    cancelled: i64,
}

/// A site with something on every page: the pages' paths.
async fn site(env: &mut TestEnv, smtp: &TestSmtp) -> (Site, Campaigns, Vec<String>) {
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
        .set("OUTREACH_SMTP__TIMEOUT_SECS", "5")
        .set("OUTREACH_DELIVERY__FAILURE_MIN_SAMPLE", "1000")
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123")
        .set("OUTREACH_WEB__BASE_URL", "https://outreach.example.org")
        .set("OUTREACH_TOSHO_SHIMBUN__EDITORIAL_DESK", "desk@example.co.jp");
    let clock = ManualClock::at(tokyo("2020-06-01T10:00"));
    let app = env.app(Arc::new(clock.clone())).await;
    import(
        &app,
        &[
            ("a@example.co.jp", "telework;women-advancement"),
            ("b@example.co.jp", "telework"),
            ("reject@example.co.jp", "telework"),
            ("c@example.co.jp", "women-advancement;sme-talent"),
        ],
    )
    .await;
    let advisors = "email,name,branch\nadvisor@example.co.jp,相談 花子,中央支部\n";
    app.import_advisors(&tester(), advisors.as_bytes(), false, false)
        .await
        .unwrap();
    app.unsubscribe(&tester(), "a@example.co.jp", Some("women-advancement"))
        .await
        .unwrap();
    app.suppress(&tester(), "c@example.co.jp", "本人の希望").await.unwrap();
    // A run with sent and failed mail, then campaigns in the other states.
    let worker = worker_of(&app).await;
    let sent = create(&app, &request(Channel::Newsletter, None, Some("0 9 1 * *"))).await;
    app.send_now(&tester(), sent).await.unwrap().unwrap();
    worker.drain().await.unwrap();
    let paused = create(&app, &request(Channel::ToshoShimbun, None, Some("0 9 * * 1"))).await;
    app.set_campaign_state(&tester(), paused, CampaignState::Paused)
        .await
        .unwrap();
    let cancelled = create(&app, &request(Channel::AdvisorHandout, Some("2020-07-01T10:00"), None)).await;
    app.set_campaign_state(&tester(), cancelled, CampaignState::Cancelled)
        .await
        .unwrap();

    drop(worker);
    let s = serve(app).await;
    s.app.create_token(&tester(), ADMIN, "集計用", Some(30)).await.unwrap();
    let admin = s.sign_in(ADMIN).await;
    // The ids the pages need, found as staff would: through the pages.
    let member = first_link(
        &s.get(&admin, "/staff/members?q=a%40example.co.jp").await.1,
        "/staff/members/",
    );
    let entry = first_link(&s.get(&admin, "/audit/log").await.1, "/audit/log/");
    let pages = [
        "/staff".to_owned(),
        "/staff/campaigns".to_owned(),
        "/staff/campaigns/new".to_owned(),
        format!("/staff/campaigns/{sent}"),
        format!("/staff/campaigns/{paused}"),
        format!("/staff/campaigns/{cancelled}"),
        format!("/staff/campaigns/{sent}/edit"),
        "/staff/members".to_owned(),
        format!("/staff/members/{member}"),
        "/staff/members/import".to_owned(),
        "/staff/advisors".to_owned(),
        "/audit/log".to_owned(),
        format!("/audit/log/{entry}"),
        "/audit/actions".to_owned(),
        "/admin/users".to_owned(),
        "/admin/tokens".to_owned(),
        "/admin/config".to_owned(),
    ];
    let campaigns = Campaigns {
        sent,
        paused,
        cancelled,
    };
    (s, campaigns, pages.to_vec())
}

/// The id in the first link to `prefix{id}` on a page.
fn first_link(html: &str, prefix: &str) -> String {
    html.split(&format!("href=\"{prefix}"))
        .skip(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
        .find(|id| !id.is_empty())
        .unwrap_or_else(|| panic!("no link to {prefix}{{id}}"))
}

/// What a reader sees of a page: its text outside tags, scripts, styles and `<code>`, without addresses.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tag = &rest[open..];
        let head = &tag[..tag.find('>').unwrap_or(tag.len())];
        let name: String = head[1..].chars().take_while(char::is_ascii_alphanumeric).collect();
        // The language switch is written in the language it leads to.
        let skipped =
            ["script", "style", "code", "samp", "title"].contains(&name.as_str()) || head.contains(" lang=\"en\"");
        let skip_to = skipped.then(|| format!("</{name}>"));
        rest = match skip_to.and_then(|end| tag.find(&end).map(|i| &tag[i + end.len()..])) {
            Some(after) => after,
            None => tag.find('>').map_or("", |i| &tag[i + 1..]),
        };
    }
    text.push_str(rest);
    text.split_whitespace()
        .filter(|w| !w.contains('@'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of a page's visible text that are a stored spelling or an English label, if any.
fn leak(html: &str, stored: &BTreeSet<String>, english: &BTreeSet<String>) -> Option<String> {
    let words = ascii_words(&visible_text(html));
    let found: Vec<&String> = words
        .iter()
        .filter(|w| stored.contains(*w) || english.contains(&w.to_lowercase()))
        .collect();
    (!found.is_empty()).then(|| format!("{found:?}"))
}

fn ascii_words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(|w| w.trim_matches('-'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(str::to_owned)
        .collect()
}

/// The spellings the site stores that must not show on a Japanese page, with its plan's theme slugs.
async fn stored(s: &Site) -> BTreeSet<String> {
    let plan = s.app.plan(None).await.unwrap();
    let themes: Vec<String> = plan.themes.iter().map(|t| t.slug.clone()).collect();
    support::spellings::stored_spellings(&themes).into_iter().collect()
}

/// Words of the English catalogue's values (four letters or more) that the Japanese catalogue never uses.
fn english_words() -> BTreeSet<String> {
    let values = |file: &str| {
        let text = std::fs::read_to_string(common::repo().join("templates/web/locales").join(file)).unwrap();
        let values: Vec<String> = text
            .lines()
            .filter_map(|l| {
                l.split_once(" = ")
                    .map(|(_, v)| support::spellings::outside(v, '{', '}'))
            })
            .collect();
        values.join(" ")
    };
    let ja: BTreeSet<String> = ascii_words(&values("ja.ftl"))
        .into_iter()
        .map(|w| w.to_lowercase())
        .collect();
    ascii_words(&values("en.ftl"))
        .into_iter()
        .map(|w| w.to_lowercase())
        .filter(|w| w.len() >= 4 && !ja.contains(w))
        .collect()
}

both_backends!(
    no_page_in_japanese_shows_a_stored_spelling_or_an_english_label,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let (s, _, pages) = site(&mut env, &smtp).await;
        let admin = s.sign_in(ADMIN).await;
        let stored = stored(&s).await;
        let english = english_words();
        assert!(
            english.contains("campaigns") && english.contains("scheduled"),
            "{english:?}"
        );
        let mut leaks = Vec::new();
        for path in &pages {
            let (status, html) = s.get(&admin, path).await;
            assert_eq!(status, 200, "GET {path}: {html}");
            if let Some(leak) = leak(&html, &stored, &english) {
                leaks.push(format!("{path}: {leak}"));
            }
        }
        assert!(leaks.is_empty(), "English on Japanese pages:\n{}", leaks.join("\n"));
        // The same pages in English render, and say what the Japanese ones say in English.
        let english = Browser {
            cookie: format!("{}; outreach_lang=en", admin.cookie),
            csrf: admin.csrf.clone(),
        };
        for path in &pages {
            let (status, html) = s.get(&english, path).await;
            assert_eq!(status, 200, "GET {path} in English: {html}");
            assert!(html.contains("<html lang=\"en\""), "{path} is not in English");
        }
    }
);

both_backends!(
    a_refused_request_is_explained_in_japanese_with_its_status,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let (s, c, _) = site(&mut env, &smtp).await;
        let admin = s.sign_in(ADMIN).await;
        let stored = stored(&s).await;
        let english = english_words();
        let member = first_link(
            &s.get(&admin, "/staff/members?q=b%40example.co.jp").await.1,
            "/staff/members/",
        );
        // Each request the stored state refuses: what the page must say, in Japanese, and with which status.
        let refused = [
            (
                s.post(&admin, &format!("/staff/campaigns/{}/resume", c.cancelled), &[])
                    .await,
                StatusCode::CONFLICT,
                "このキャンペーンは「中止」のため、「予定どおり配信」にはできません。",
            ),
            (
                s.post(&admin, &format!("/staff/campaigns/{}/send-now", c.paused), &[])
                    .await,
                StatusCode::CONFLICT,
                "このキャンペーンは「一時停止中」のため、今すぐ送信することはできません。",
            ),
            (
                s.post(
                    &admin,
                    &format!("/staff/members/{member}/unsuppress"),
                    &[("reason", "確認のため")],
                )
                .await,
                StatusCode::CONFLICT,
                "b@example.co.jp は配信停止されていません。",
            ),
            (
                s.post(
                    &admin,
                    "/admin/users",
                    &[
                        ("email", "auditor@example.org"),
                        ("role", "staff"),
                        ("password", "another long passphrase"),
                    ],
                )
                .await,
                StatusCode::CONFLICT,
                "auditor@example.org のアカウントはすでにあります。",
            ),
            (
                s.get(&admin, "/staff/campaigns/999999").await,
                StatusCode::NOT_FOUND,
                "キャンペーン 999999 は見つかりません。",
            ),
        ];
        for (i, ((status, html), want_status, want)) in refused.iter().enumerate() {
            assert_eq!(status, want_status, "request {i}: {html}");
            assert!(
                html.contains(want),
                "request {i} does not say {want:?}:\n{}",
                visible_text(html)
            );
            assert_eq!(
                leak(html, &stored, &english),
                None,
                "request {i}: {}",
                visible_text(html)
            );
        }
        // Nothing was changed by the refused requests.
        let cancelled = s.app.campaign(c.cancelled).await.unwrap();
        assert_eq!(cancelled.state, CampaignState::Cancelled);
        assert!(c.sent > 0);
    }
);

/// The pages before and beside the staff pages: the sign-in page and a refusal (403) follow the language switch
/// like every staff page, with no English on the Japanese side; a wrong password is said in the chosen language.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sign_in_page_and_a_refusal_follow_the_language_switch() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let s = support::staff_site::plain(&mut env, &[]).await;
    let stored: BTreeSet<String> = support::spellings::stored_spellings(&[]).into_iter().collect();
    let english = english_words();
    let anonymous = Browser {
        cookie: String::new(),
        csrf: String::new(),
    };
    let in_english = |b: &Browser| Browser {
        cookie: format!("{}; outreach_lang=en", b.cookie),
        csrf: b.csrf.clone(),
    };
    let (status, html) = s.get(&anonymous, "/sign-in").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>ログイン</h1>"), "{html}");
    assert_eq!(leak(&html, &stored, &english), None, "{}", visible_text(&html));
    let (_, html) = s.get(&in_english(&anonymous), "/sign-in").await;
    assert!(
        html.contains("<html lang=\"en\"") && html.contains("<h1>Sign in</h1>"),
        "{html}"
    );
    // A wrong password, in each language.
    let wrong = [("email", "staff@example.org"), ("password", "not the password at all")];
    for (cookie, want) in [
        ("", "メールアドレスまたはパスワードが正しくありません。"),
        ("outreach_lang=en", "The address or the password is not right."),
    ] {
        let answer = s
            .http
            .post(format!("{}/sign-in", s.base))
            .header("origin", "https://outreach.example.org")
            .header("cookie", cookie)
            .form(&wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401);
        let html = answer.text().await.unwrap();
        assert!(html.contains(want), "{cookie:?}: {}", visible_text(&html));
    }
    // An auditor on a staff page: the refusal names the role in the page's language.
    let auditor = s.sign_in("auditor@example.org").await;
    let (status, html) = s.get(&auditor, "/staff/campaigns/new").await;
    assert_eq!(status, 403, "{html}");
    assert!(
        html.contains("この操作は、あなたの権限（監査）では行えません。"),
        "{}",
        visible_text(&html)
    );
    assert_eq!(leak(&html, &stored, &english), None, "{}", visible_text(&html));
    let (status, html) = s.get(&in_english(&auditor), "/staff/campaigns/new").await;
    assert_eq!(status, 403);
    assert!(
        html.contains("Your role (Auditor) cannot do this."),
        "{}",
        visible_text(&html)
    );
    // A form that is not ours (a field twice) is refused in the reader's language, not in the parser's English.
    let admin = s.sign_in("admin@example.org").await;
    let twice = [("email", "a@example.org"), ("email", "b@example.org")];
    let (status, text) = s.post(&admin, "/admin/users", &twice).await;
    assert_eq!(status, 400);
    assert_eq!(
        text,
        "フォームの内容が足りません。ページを開き直してから、もう一度お試しください。"
    );
}
