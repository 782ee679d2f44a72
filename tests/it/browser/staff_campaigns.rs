//! Staff make a campaign in the browser: the form shows the next five firing times while the cron expression is
//! typed (the staff script asks the server; nothing is submitted), the campaign's page previews the mail as a
//! chosen member, and the test mail goes to the signed-in user through SMTP.

use super::harness::{Browser, WAIT};
use super::staff::{PASSWORD, import_members, mail_site, run_js};
use crate::common::{self, TestEnv};
use crate::support::smtp::TestSmtp;

/// The firing times listed under the schedule (`#next-firings`), as shown.
async fn firings(b: &Browser) -> Vec<String> {
    let list = run_js(
        b,
        "return Array.from(document.querySelectorAll('#next-firings li')).map(li => li.textContent);",
    )
    .await;
    serde_json::from_value(list).unwrap_or_default()
}

/// Waits until the list shows five times, each passing `ok`; they.
async fn five_firings(b: &Browser, ok: impl Fn(&str) -> bool) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let times = firings(b).await;
        if times.len() == 5 && times.iter().all(|t| ok(t)) {
            return times;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the next five firings did not appear as expected; shown: {times:?}\n{}",
            b.body().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_monthly_campaign_is_made_in_the_form_previewed_as_a_member_and_tested_by_mail() {
    let Some(b) = Browser::start().await else { return };
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let smtp = TestSmtp::start();
    let (app, base) = mail_site(&mut env, &smtp).await;
    import_members(
        &app,
        &[
            ("hanako@example.co.jp", "株式会社ブラウザ商事", "見本 花子"),
            ("other@example.co.jp", "株式会社ほか", "別人 次郎"),
        ],
    )
    .await;
    b.sign_in(&base, "staff@example.org", PASSWORD).await;

    // The form, empty: no firing times yet.
    b.goto("/staff/campaigns/new").await;
    b.wait_text("h1", "キャンペーンの作成", WAIT).await;
    b.axe().await;
    assert!(firings(&b).await.is_empty(), "no times before a schedule is chosen");
    b.control("#theme")
        .await
        .select_by_value("telework")
        .await
        .expect("theme");
    b.control("#channel")
        .await
        .select_by_value("newsletter")
        .await
        .expect("channel");
    b.fill("#name", "月例テレワーク案内").await;

    // A preset fills the cron field and lists its times at once.
    b.control("#preset")
        .await
        .select_by_value("0 9 1 * *")
        .await
        .expect("preset");
    let first_days = five_firings(&b, |t| t.contains("月1日(") && t.ends_with(" 09:00")).await;
    let cron = b.find("#cron").await.prop("value").await.ok().flatten();
    assert_eq!(cron.as_deref(), Some("0 9 1 * *"), "the preset fills the cron field");

    // Typed key by key: the list follows as the expression is typed, without pressing anything.
    b.fill("#cron", "0 9 * * MON#1").await;
    let mondays = five_firings(&b, |t| t.contains("(月) 09:00")).await;
    assert_ne!(mondays, first_days);
    for t in &mondays {
        // The first Monday of a month falls on its 1st to 7th: "2020年7月6日(月) 09:00".
        let day: u32 = t
            .split_once('月')
            .and_then(|(_, rest)| rest.split_once('日'))
            .and_then(|(day, _)| day.parse().ok())
            .unwrap_or_else(|| panic!("a date: {t}"));
        assert!((1..=7).contains(&day), "a first Monday: {t}");
    }
    let months: std::collections::BTreeSet<&str> = mondays
        .iter()
        .filter_map(|t| t.split_once('月').map(|(month, _)| month))
        .collect();
    assert_eq!(months.len(), 5, "one per month: {mondays:?}");
    assert!(
        b.url().await.ends_with("/staff/campaigns/new"),
        "still the form: nothing was submitted"
    );
    assert!(
        app.campaigns().await.expect("campaigns").is_empty(),
        "nothing created yet"
    );
    assert_eq!(
        b.text("#schedule-live-error").await,
        "",
        "no error for a valid expression"
    );
    let preset = b.find("#preset").await.prop("value").await.ok().flatten();
    assert_eq!(
        preset.as_deref(),
        Some("0 9 * * MON#1"),
        "the preset the typed cron equals"
    );
    b.axe().await;
    run_js(
        &b,
        "document.getElementById('cron').scrollIntoView({ block: 'start' }); return null;",
    )
    .await;
    b.screenshot("campaign-editor").await;

    // A mistake is said while typing, and goes when corrected.
    b.fill("#cron", "0 9 * * FUNDAY").await;
    b.wait_text("#schedule-live-error", "cron", WAIT).await;
    b.fill("#cron", "0 9 * * MON#1").await;
    five_firings(&b, |t| t.contains("(月) 09:00")).await;
    assert_eq!(b.text("#schedule-live-error").await, "");

    // Created: the campaign's page, with the same times.
    b.click("キャンペーンを作成").await;
    assert!(
        b.wait_until(|url| url.contains("/staff/campaigns/") && !url.ends_with("/new"))
            .await,
        "on the campaign's page: {}",
        b.url().await
    );
    b.wait_text("h1", "月例テレワーク案内", WAIT).await;
    assert!(b.text("dl.facts").await.contains("0 9 * * MON#1"));
    assert_eq!(b.text("ol.times").await.lines().next(), Some(mondays[0].as_str()));
    let created = app.campaigns().await.expect("campaigns");
    assert_eq!(created.len(), 1);
    let id = created[0].id;
    b.axe().await;

    // The preview as a chosen member: their company and name in the subject's mail, HTML in the sandboxed frame,
    // and the text part.
    b.fill("#member", "hanako@example.co.jp").await;
    b.click("表示").await;
    assert!(
        b.wait_until(|url| url.contains("member=hanako%40example.co.jp")).await,
        "{}",
        b.url().await
    );
    let subject = b.text(".subject").await;
    assert!(subject.contains("テレワーク"), "subject: {subject}");
    let frame = b.find("iframe.mail").await;
    let sandbox = frame.attr("sandbox").await.ok().flatten();
    assert_eq!(sandbox.as_deref(), Some(""), "a sandbox allowing nothing");
    let src = frame.attr("src").await.ok().flatten().unwrap_or_default();
    assert!(
        src.contains(&format!("/staff/campaigns/{id}/preview.html?member=hanako")),
        "{src}"
    );
    frame.enter_frame().await.expect("into the preview frame");
    b.wait_text("body", "株式会社ブラウザ商事", WAIT).await;
    let html = b.body().await;
    assert!(html.contains("見本 花子 様") && !html.contains("別人"), "{html}");
    let scripts = run_js(&b, "return document.scripts.length;").await;
    assert_eq!(scripts, 0, "no script in the mail preview");
    b.client().enter_parent_frame().await.expect("out of the frame");
    b.click("テキスト版").await;
    b.wait_text("pre.text", "見本 花子 様", WAIT).await;
    let text = b.text("pre.text").await;
    assert!(
        text.contains(&format!("{base}/u/")),
        "the member's own unsubscribe link: {text}"
    );
    b.axe().await;
    run_js(
        &b,
        "document.querySelector('form.filters').scrollIntoView(); window.scrollBy(0, -70); return null;",
    )
    .await;
    b.screenshot("campaign-preview").await;

    // A test mail to the address the form offers (one's own): through SMTP to it only, no run, no member mailed.
    b.click("テスト送信する").await;
    b.wait_text("[role=status]", "テストメールを送信しました。", WAIT).await;
    b.axe().await;
    assert!(smtp.wait_for(1, WAIT), "the test mail arrived");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one mail");
    assert_eq!(mails[0].rcpt_to, ["staff@example.org"]);
    let mail = crate::support::mime::read(&mails[0].data);
    assert!(
        mail.subject.starts_with("[テスト] ") && mail.subject.contains(&subject),
        "the previewed subject, marked a test: {}",
        mail.subject
    );
    assert!(app.all_runs().await.expect("runs").is_empty(), "a test makes no run");
}
