//! A member in the browser, from the links of a mail that went through SMTP: leave a theme from the
//! unsubscribe link (the page changes nothing until the button; the next run passes the member by), change
//! themes on a phone, and ask for a new link from a broken one.

use std::sync::Arc;

use outreach::domain::Outcome;
use outreach::domain::plan::Channel;
use outreach::store::LogFilter;

use super::harness::{Browser, WAIT, serve};
use crate::common::{self, TestEnv};
use crate::support::mime;
use crate::support::rig::*;
use crate::support::smtp::TestSmtp;

/// The last mail sent to `to`, decoded as the member's mail program shows it.
pub(crate) fn mail_to(smtp: &TestSmtp, to: &str) -> mime::Read {
    let mail = smtp
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.rcpt_to.iter().any(|r| r == to))
        .unwrap_or_else(|| panic!("no mail to {to}"));
    mime::read(&mail.data)
}

/// The path (`/u/TOKEN` or `/p/TOKEN`, by `kind`) of the first such link in the text of the mail to `to`.
pub(crate) fn link_in(smtp: &TestSmtp, to: &str, kind: &str) -> String {
    let text = mail_to(smtp, to).text;
    let marker = format!("/{kind}/");
    let at = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} link in the mail to {to}:\n{text}"));
    let token: String = text[at + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    assert!(token.len() > 20, "a token in the mail to {to}: {token:?}");
    format!("{marker}{token}")
}

/// The one-click link of the mail to `to`, from its List-Unsubscribe header (as a mail program offers it), as
/// a path on our server.
fn unsubscribe_header_path(smtp: &TestSmtp, to: &str) -> String {
    let mail = mail_to(smtp, to);
    let header = mail
        .header("List-Unsubscribe")
        .unwrap_or_else(|| panic!("no List-Unsubscribe in the mail to {to}"))
        .trim_matches(['<', '>']);
    let path = header
        .strip_prefix("https://outreach.example.org")
        .unwrap_or_else(|| panic!("the link is on web.base_url: {header}"));
    assert_eq!(path, link_in(smtp, to, "u"), "the text part carries the same link");
    path.to_owned()
}

both_backends!(
    the_unsubscribe_page_changes_nothing_until_the_button_and_the_next_run_passes_by,
    |mut env: TestEnv| async move {
        let Some(b) = Browser::start().await else { return };
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        import(
            &r.app,
            &[
                ("stays@example.co.jp", "telework"),
                ("leaves@example.co.jp", "telework"),
            ],
        )
        .await;
        let daily = campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
        r.clock.set(tokyo("2020-06-01T09:00:01"));
        r.app.scheduler().fire_due().await.expect("fire the first run");
        assert_eq!(r.worker.drain().await.expect("drain").sent, 2);
        let path = unsubscribe_header_path(&smtp, "leaves@example.co.jp");
        let Rig { app, clock, worker } = r;
        let app = Arc::new(app);
        let base = serve(app.clone()).await;
        let subscribed = || async {
            let members = app.members(Some("telework")).await.expect("members");
            members.into_iter().map(|m| m.email).collect::<Vec<_>>()
        };

        // The page the link opens: what will happen, one button, and nothing changed yet.
        b.goto(&format!("{base}{path}")).await;
        b.wait_text("h1", "「テレワークの推進」の配信を停止しますか", WAIT)
            .await;
        assert!(b.text("main").await.contains("leaves@example.co.jp"));
        b.axe().await;
        b.screenshot("member-unsubscribe-confirm").await;
        assert_eq!(subscribed().await.len(), 2, "opening the page changes nothing");

        // The button: out of the theme at once.
        b.click("配信を停止する").await;
        b.wait_text("h1", "配信を停止しました", WAIT).await;
        assert!(b.url().await.ends_with(&path), "the answer is the same URL");
        b.axe().await;
        b.screenshot("member-unsubscribed").await;
        assert_eq!(subscribed().await, ["stays@example.co.jp"]);

        // The next day's run: the member who left gets nothing, and the send log has no mail to them in it.
        clock.set(tokyo("2020-06-02T09:00:01"));
        let tick = app.scheduler().fire_due().await.expect("fire the second run");
        assert_eq!(tick.fired.len(), 1, "the second run fired");
        assert_eq!(worker.drain().await.expect("drain").sent, 1);
        assert_eq!(smtp.count_for("stays@example.co.jp"), 2);
        assert_eq!(smtp.count_for("leaves@example.co.jp"), 1, "only the first run's mail");
        let runs = app.store.runs(Some(daily)).await.expect("runs");
        assert_eq!(runs.len(), 2);
        let second = runs.iter().map(|run| run.id).max().expect("a run");
        let filter = LogFilter {
            recipient: Some("leaves@example.co.jp".into()),
            ..LogFilter::default()
        };
        let rows = app.store.send_log(&filter, 0, 100).await.expect("send log");
        assert!(
            rows.iter()
                .any(|row| row.run_id != second && row.outcome == Outcome::Sent),
            "the first run's mail is logged: {rows:?}"
        );
        assert!(
            rows.iter()
                .filter(|row| row.run_id == second)
                .all(|row| row.outcome == Outcome::Skipped),
            "nothing sent to the member in the second run: {rows:?}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_preferences_page_on_a_phone_leaves_one_theme() {
    let Some(b) = Browser::start().await else { return };
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let smtp = TestSmtp::start();
    let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
    import(&r.app, &[("p@example.co.jp", "telework;sme-talent")]).await;
    campaign(&r.app, Channel::Newsletter, Some("2020-06-01T09:00"), None).await;
    r.clock.set(tokyo("2020-06-01T09:00:01"));
    r.app.scheduler().fire_due().await.expect("fire");
    assert_eq!(r.worker.drain().await.expect("drain").sent, 1);
    let path = link_in(&smtp, "p@example.co.jp", "p");
    let app = Arc::new(r.app);
    let base = serve(app.clone()).await;
    let themes = || async {
        let member = app
            .store
            .member("p@example.co.jp")
            .await
            .expect("member")
            .expect("known");
        member.themes
    };

    b.goto(&format!("{base}{path}")).await;
    b.phone().await;
    b.wait_text("h1", "メールマガジンの配信設定", WAIT).await;
    assert!(!b.scrolls_sideways().await, "the page fits a phone's width");
    let list = b.text("ul.themes").await;
    assert_eq!(list.matches("配信中").count(), 2, "{list}");
    b.axe().await;
    b.screenshot("member-preferences-phone").await;

    // Stop one theme with its own button: that theme only.
    b.click("li:has(input[name=theme][value=telework]) button[value=leave]")
        .await;
    b.wait_text("[role=status]", "「テレワークの推進」の配信を停止しました。", WAIT)
        .await;
    assert_eq!(themes().await, ["sme-talent"]);
    let list = b.text("ul.themes").await;
    assert_eq!(list.matches("配信中").count(), 1, "{list}");
    assert!(!b.scrolls_sideways().await);
    b.axe().await;
    b.screenshot("member-preferences-phone-changed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_link_offers_a_new_one_with_the_same_answer_for_anyone() {
    let Some(b) = Browser::start().await else { return };
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let smtp = TestSmtp::start();
    let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
    import(&r.app, &[("known@example.co.jp", "telework")]).await;
    let app = Arc::new(r.app);
    let base = serve(app.clone()).await;

    let mut answers = Vec::new();
    for email in ["known@example.co.jp", "stranger@example.co.jp"] {
        b.goto(&format!("{base}/u/a-link-cut-short.by-a-mail-program")).await;
        b.wait_text("h1", "このリンクは使用できません", WAIT).await;
        b.axe().await;
        if answers.is_empty() {
            b.screenshot("member-invalid-link").await;
        }
        b.fill("新しいリンクをメールで受け取る", email).await;
        b.click("送信 / Send").await;
        b.wait_text("h1", "新しいリンクをお送りしました", WAIT).await;
        b.axe().await;
        answers.push(b.text("main").await);
    }
    assert_eq!(
        answers[0], answers[1],
        "the answer does not tell whether the address is known"
    );
    assert!(!answers[0].contains("known@example.co.jp"));

    // The member's new link came by mail and opens the preferences page; the stranger got nothing.
    assert!(smtp.wait_for(1, WAIT), "the fresh link was mailed");
    assert_eq!(smtp.count_for("stranger@example.co.jp"), 0);
    let path = link_in(&smtp, "known@example.co.jp", "p");
    b.goto(&format!("{base}{path}")).await;
    b.wait_text("h1", "メールマガジンの配信設定", WAIT).await;
    assert!(b.text("main").await.contains("known@example.co.jp"));
    b.axe().await;
}

/// A link from a preview of a member's mail (or a test mail) opens a page that says it is a preview's, on a desktop
/// and on a phone; the member's themes stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_previews_link_says_so_and_changes_nothing() {
    let Some(b) = Browser::start().await else { return };
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let smtp = TestSmtp::start();
    let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
    import(&r.app, &[("viewed@example.co.jp", "telework")]).await;
    let id = campaign(&r.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
    let c = r.app.campaign(id).await.expect("campaign");
    let templates = r.app.templates().expect("templates");
    let staff = outreach::domain::Actor::operator("staff@example.org");
    let mail = r
        .app
        .campaign_mail(&staff, &templates, &c, Some("viewed@example.co.jp"))
        .await
        .expect("the member's mail");
    let at = mail.text.find("/p/").expect("a preferences link");
    let path: String = mail.text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        .collect();
    let app = Arc::new(r.app);
    let base = serve(app.clone()).await;
    for (phone, name) in [(false, "member-preview-link"), (true, "member-preview-link-phone")] {
        b.goto(&format!("{base}{path}")).await;
        if phone {
            b.phone().await;
        }
        b.wait_text("h1", "これはプレビュー用のリンクです", WAIT).await;
        assert!(b.text("main").await.contains("This is a preview's link"));
        assert!(!b.scrolls_sideways().await);
        b.axe().await;
        b.screenshot(name).await;
    }
    let member = app
        .store
        .member("viewed@example.co.jp")
        .await
        .expect("member")
        .expect("known");
    assert_eq!(member.themes, ["telework"]);
}
