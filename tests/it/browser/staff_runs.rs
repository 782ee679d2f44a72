//! A run from the browser to the member and back to the auditor: staff send a campaign now through its
//! confirmation page, the dashboard shows it in progress and then among the finished runs by itself as a worker
//! sends (the staff script polls),
//! a member leaves from the link of the mail that went through SMTP, the next run passes them by, and both
//! facts are found: the unsubscribe in the member's page history (staff: the member pages are staff-only, an
//! auditor gets 403 there) and in the log of changes (auditor), the one mail in the send log (auditor).

use std::time::{Duration, Instant};

use outreach::domain::Outcome;
use outreach::domain::plan::Channel;
use outreach::store::LogFilter;

use super::harness::{Browser, WAIT};
use super::member::link_in;
use super::staff::{PASSWORD, import_members, mail_site, run_js, table_rows};
use crate::common::{self, TestEnv, tester};
use crate::support::rig::{campaign, worker_of};
use crate::support::smtp::TestSmtp;

const LEAVES: &str = "leaves@example.co.jp";

/// The dashboard's first progress bar: its value and max, and the sent count beside it.
async fn bar(b: &Browser) -> (f64, f64, String) {
    let v = run_js(
        b,
        "const p = document.querySelector('progress');\
         const sent = document.querySelector('[data-count=sent]');\
         return p ? [p.value, p.max, sent ? sent.textContent : ''] : null;",
    )
    .await;
    (
        v[0].as_f64().unwrap_or(-1.0),
        v[1].as_f64().unwrap_or(-1.0),
        v[2].as_str().unwrap_or_default().to_owned(),
    )
}

both_backends!(
    a_run_sent_now_fills_its_bar_a_member_leaves_and_the_auditor_finds_both,
    |mut env: TestEnv| async move {
        let Some(b) = Browser::start().await else { return };
        let smtp = TestSmtp::start();
        let (app, base) = mail_site(&mut env, &smtp).await;
        import_members(
            &app,
            &[
                ("stays@example.co.jp", "株式会社残る", "残留 一郎"),
                (LEAVES, "株式会社去る", "退会 二郎"),
                ("third@example.co.jp", "株式会社三番", "三番 三郎"),
            ],
        )
        .await;
        let id = campaign(&app, Channel::Newsletter, None, Some("0 9 * * MON#1")).await;
        let worker = worker_of(&app).await;
        b.sign_in(&base, "staff@example.org", PASSWORD).await;

        // Send now, through the confirmation page that says to how many.
        b.goto(&format!("/staff/campaigns/{id}")).await;
        b.wait_text("h1", "テスト配信", WAIT).await;
        b.click("今すぐ送信…").await;
        b.wait_text("h1", "今すぐ送信", WAIT).await;
        assert_eq!(b.text(".audience").await, "3");
        b.axe().await;
        b.click("form[action$='/send-now'] button[type=submit]").await;
        b.wait_text("[role=status]", "送信を開始しました。", WAIT).await;
        b.axe().await;
        let runs = app.all_runs().await.expect("runs");
        assert_eq!(runs.len(), 1, "one run");
        let first = runs[0].run.id;

        // The dashboard: the run in progress, nothing sent yet.
        b.goto("/staff").await;
        b.wait_text("h1", "ダッシュボード", WAIT).await;
        let card = format!("[data-progress-url='/staff/runs/{first}/progress']");
        b.find(&card).await;
        assert_eq!(bar(&b).await, (0.0, 3.0, "0".into()), "nothing sent yet");
        assert_eq!(b.text("[data-count=waiting]").await, "3");
        b.axe().await;
        // A mark on this page: still there later means the page was not loaded again.
        run_js(&b, "window.outreachNotReloaded = true; return null;").await;

        // A worker sends; the run leaves the runs in progress for the finished ones, with its counts, by itself
        // (the script polls every 5 s).
        let sent = worker.drain().await.expect("drain").sent;
        assert_eq!(sent, 3);
        let deadline = Instant::now() + Duration::from_secs(15);
        let row = format!("#runs-finished tr[data-run='{first}'] [data-count=sent]");
        loop {
            let shown = run_js(
                &b,
                &format!(
                    "const sent = document.querySelector(\"{row}\");\
                     return [document.querySelectorAll('#runs-active li[data-run]').length,\
                             sent ? sent.textContent : ''];"
                ),
            )
            .await;
            if shown == serde_json::json!([0, "3"]) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the run did not move to the finished ones: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let same_page = run_js(&b, "return window.outreachNotReloaded === true;").await;
        assert_eq!(same_page, true, "the run moved without reloading the page");
        b.axe().await;
        assert_eq!(smtp.count_for(LEAVES), 1);

        // The member leaves from the link of the mail that went through SMTP.
        let path = link_in(&smtp, LEAVES, "u");
        b.goto(&format!("{base}{path}")).await;
        b.wait_text("h1", "配信を停止しますか", WAIT).await;
        b.axe().await;
        b.click("配信を停止する").await;
        b.wait_text("h1", "配信を停止しました", WAIT).await;
        b.axe().await;

        // The next run passes them by.
        let second = app
            .send_now(&tester(), id)
            .await
            .expect("send now")
            .expect("a second run");
        assert_eq!(worker.drain().await.expect("drain").sent, 2);
        assert_eq!(smtp.count_for("stays@example.co.jp"), 2);
        assert_eq!(smtp.count_for(LEAVES), 1, "only the first run's mail");
        let member = app.store.member(LEAVES).await.expect("member").expect("known");

        // The member's page (staff only): the unsubscribe in its history, the one mail sent.
        b.goto(&format!("/staff/members/{}", member.id)).await;
        b.wait_text("h1", LEAVES, WAIT).await;
        let history = table_rows(&b, "変更履歴").await;
        assert!(
            history
                .iter()
                .any(|r| r[1] == "配信を停止" && r[2] == "テレワークの推進"),
            "the unsubscribe in the history: {history:?}"
        );
        let mails = table_rows(&b, "この会員への送信").await;
        assert_eq!(
            mails
                .iter()
                .filter(|r| r.get(4).map(String::as_str) == Some("送信済み"))
                .count(),
            1,
            "one mail sent to them: {mails:?}"
        );
        b.axe().await;
        run_js(&b, "document.querySelector('.scroll').scrollIntoView(); return null;").await;
        b.screenshot("member-page").await;

        // The auditor: the member's page is not theirs (staff only), the send log is.
        b.click("ログアウト").await;
        assert!(b.wait_until(|url| url.ends_with("/sign-in")).await);
        b.sign_in(&base, "auditor@example.org", PASSWORD).await;
        b.goto(&format!("/staff/members/{}", member.id)).await;
        b.wait_text("h1", "操作できません", WAIT).await;
        // The unsubscribe, as the auditor finds it: in the log of changes, by the member, on their address.
        b.goto("/audit/actions?action=member.unsubscribe").await;
        b.wait_text("h1", "操作ログ", WAIT).await;
        let changes = table_rows(&b, "変更と実施者").await;
        assert!(
            changes
                .iter()
                .any(|r| r[2].contains("会員本人 が") && r[2].contains(&format!("{LEAVES} への配信を停止しました"))),
            "the member's unsubscribe in the log of changes: {changes:?}"
        );
        b.axe().await;
        b.goto("/audit/log").await;
        b.wait_text("h1", "送信ログ", WAIT).await;
        b.fill("#recipient", LEAVES).await;
        b.click("絞り込む").await;
        assert!(
            b.wait_until(|url| url.contains("recipient=leaves%40example.co.jp"))
                .await,
            "{}",
            b.url().await
        );
        let rows = table_rows(&b, "送信の試行").await;
        assert!(
            !rows.is_empty() && rows.iter().all(|r| r.len() == 8 && r[5] == LEAVES),
            "only their rows: {rows:?}"
        );
        assert_eq!(
            rows.iter().filter(|r| r[6] == "送信済み").count(),
            1,
            "the first run's mail, and no second: {rows:?}"
        );
        b.axe().await;
        b.screenshot("send-log").await;
        let filter = LogFilter {
            recipient: Some(LEAVES.into()),
            ..LogFilter::default()
        };
        let logged = app.store.send_log(&filter, 0, 100).await.expect("send log");
        assert!(
            logged
                .iter()
                .any(|row| row.run_id == first && row.outcome == Outcome::Sent),
            "{logged:?}"
        );
        assert!(
            logged
                .iter()
                .all(|row| row.run_id != second.id || row.outcome == Outcome::Skipped),
            "nothing sent to them by the second run: {logged:?}"
        );
    }
);
