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
use outreach::Application;
use outreach::clock::ManualClock;
use outreach::domain::account::Role;
use outreach::domain::campaign::CampaignState;
use outreach::domain::plan::Channel;
use support::rig::{create, import, request, tokyo, worker_of};
use support::smtp::TestSmtp;

const ADMIN: &str = "admin@example.org";
const PASSWORD: &str = "correct horse battery";

struct Site {
    base: String,
    http: reqwest::Client,
    app: Arc<Application>,
}

impl Site {
    async fn sign_in(&self) -> String {
        let answer = self
            .http
            .post(format!("{}/sign-in", self.base))
            .form(&[("email", ADMIN), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303);
        let set = answer.headers()["set-cookie"].to_str().unwrap();
        set.split(';').next().unwrap().to_owned()
    }

    async fn get(&self, cookie: &str, path: &str) -> (u16, String) {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }
}

/// A site with something on every page: the pages' paths.
async fn site(env: &mut TestEnv, smtp: &TestSmtp) -> (Site, Vec<String>) {
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
        .set("OUTREACH_SMTP__TIMEOUT_SECS", "5")
        .set("OUTREACH_DELIVERY__FAILURE_MIN_SAMPLE", "1000")
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123")
        .set("OUTREACH_WEB__BASE_URL", "https://outreach.example.org")
        .set("OUTREACH_TOSHO_SHIMBUN__EDITORIAL_DESK", "desk@example.co.jp");
    let clock = ManualClock::at(tokyo("2020-06-01T10:00"));
    let app = Arc::new(env.app(Arc::new(clock.clone())).await);
    let admin = app.add_user(&tester(), ADMIN, Role::Admin, PASSWORD).await.unwrap();
    app.add_user(&tester(), "auditor@example.org", Role::Auditor, PASSWORD)
        .await
        .unwrap();
    app.create_token(&tester(), &admin.email, "集計用", Some(30))
        .await
        .unwrap();
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

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app.clone(), listener, std::future::pending()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let s = Site { base, http, app };
    let cookie = s.sign_in().await;
    // The ids the pages need, found as staff would: through the pages.
    let member = first_link(
        &s.get(&cookie, "/staff/members?q=a%40example.co.jp").await.1,
        "/staff/members/",
    );
    let entry = first_link(&s.get(&cookie, "/audit/log").await.1, "/audit/log/");
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
    (s, pages.to_vec())
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

fn ascii_words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(|w| w.trim_matches('-'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(str::to_owned)
        .collect()
}

/// Words of the English catalogue's values (four letters or more) that the Japanese catalogue never uses.
fn english_words() -> BTreeSet<String> {
    let values = |file: &str| {
        let text = std::fs::read_to_string(common::repo().join("templates/web/locales").join(file)).unwrap();
        let values: Vec<String> = text
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(_, v)| v.to_owned()))
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
        let (s, pages) = site(&mut env, &smtp).await;
        let cookie = s.sign_in().await;
        let themes: Vec<String> = s
            .app
            .plan(None)
            .await
            .unwrap()
            .themes
            .iter()
            .map(|t| t.slug.clone())
            .collect();
        let stored: BTreeSet<String> = support::spellings::stored_spellings(&themes).into_iter().collect();
        let english = english_words();
        assert!(
            english.contains("campaigns") && english.contains("scheduled"),
            "{english:?}"
        );
        let mut leaks = Vec::new();
        for path in &pages {
            let (status, html) = s.get(&cookie, path).await;
            assert_eq!(status, 200, "GET {path}: {html}");
            let words = ascii_words(&visible_text(&html));
            let found: Vec<&String> = words
                .iter()
                .filter(|w| stored.contains(*w) || english.contains(&w.to_lowercase()))
                .collect();
            if !found.is_empty() {
                leaks.push(format!("{path}: {found:?}"));
            }
        }
        assert!(leaks.is_empty(), "English on Japanese pages:\n{}", leaks.join("\n"));
        // The same pages in English render, and say what the Japanese ones say in English.
        let english_cookie = format!("{cookie}; outreach_lang=en");
        for path in &pages {
            let (status, html) = s.get(&english_cookie, path).await;
            assert_eq!(status, 200, "GET {path} in English: {html}");
            assert!(html.contains("<html lang=\"en\""), "{path} is not in English");
        }
    }
);
