//! The dashboard in the browser: a run started *after* the page loaded appears in the runs in progress and,
//! once sent, moves to the finished ones with its counts, without a reload (the staff script polls the set of
//! runs); the month's mails show in the cards, the chart and its table. In Japanese no English word shows (no
//! slug, state, outcome, channel or label), on a 1366×900 desktop and a 390×844 phone with nothing sticking
//! out sideways; then the same in English. Screenshots of each (`OUTREACH_SCREENSHOTS=1`).

use std::time::{Duration, Instant};

use outreach::domain::plan::Channel;

use super::harness::{Browser, PHONE, WAIT};
use super::staff::{PASSWORD, import_members, mail_site, run_js, table_rows};
use crate::common::{self, TestEnv, tester};
use crate::support::rig::{campaign, worker_of};
use crate::support::smtp::TestSmtp;

/// Words that must not show on a Japanese page: slugs, states, outcomes, triggers, channels, roles, and the
/// English side's labels of this page.
const ENGLISH: &[&str] = &[
    "work-style-reform",
    "telework",
    "smooth-biz",
    "life-work-balance",
    "women-advancement",
    "volunteer-leave",
    "sme-talent",
    "newsletter",
    "tosho-shimbun",
    "advisor-handout",
    "sending",
    "done",
    "scheduled",
    "paused",
    "cancelled",
    "finished",
    "sent",
    "failed",
    "skipped",
    "deferred",
    "queued",
    "schedule",
    "manual",
    "catch-up",
    "staff",
    "admin",
    "auditor",
    "serve",
    "send-due",
    "live",
    "Dashboard",
    "Runs",
    "Progress",
    "Waiting",
    "Recipients",
    "Members",
    "Mails",
    "Total",
    "Theme",
    "Campaign",
    "month",
    "year",
    "holding",
    "since",
    "process",
    "version",
    "None",
];

/// The page's visible text without e-mail addresses (the signed-in user's is data, not a word).
async fn words(b: &Browser) -> Vec<String> {
    b.body()
        .await
        .split(|c: char| c.is_whitespace() || "（）()：:、。,·#".contains(c))
        .filter(|w| !w.contains('@'))
        .map(str::to_owned)
        .collect()
}

/// The elements whose right edge lies beyond the viewport (what makes a page scroll sideways).
async fn sticking_out(b: &Browser) -> serde_json::Value {
    run_js(
        b,
        "return Array.from(document.querySelectorAll('body *'))\
           .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && (!e.closest('.scroll') || getComputedStyle(e).position === 'absolute'))\
           .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
    )
    .await
}

/// Waits until `script` (returning JSON) answers `want`, polling; panics with the last answer.
async fn wait_js(b: &Browser, script: &str, want: serde_json::Value, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = run_js(b, script).await;
        if seen == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {seen}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

both_backends!(
    a_run_started_after_the_dashboard_loaded_appears_and_finishes,
    |mut env: TestEnv| async move {
        let Some(b) = Browser::start().await else { return };
        let smtp = TestSmtp::start();
        let (app, base) = mail_site(&mut env, &smtp).await;
        import_members(
            &app,
            &[
                ("one@example.co.jp", "株式会社一番", "一番 一郎"),
                ("two@example.co.jp", "株式会社二番", "二番 二郎"),
                ("three@example.co.jp", "株式会社三番", "三番 三郎"),
            ],
        )
        .await;
        let id = campaign(&app, Channel::Newsletter, None, Some("0 9 * * MON#1")).await;
        let worker = worker_of(&app).await;
        b.sign_in(&base, "staff@example.org", PASSWORD).await;
        b.viewport(1366, 900).await;
        b.goto("/staff").await;
        b.wait_text("h1", "ダッシュボード", WAIT).await;
        b.wait_text("#runs-active-empty", "送信中の配信はありません。", WAIT)
            .await;
        run_js(&b, "window.outreachNotReloaded = true; return null;").await;

        // A run starts after the page loaded: it appears by itself, nothing sent yet.
        let run = app.send_now(&tester(), id).await.expect("send now").expect("a run").id;
        let card = format!("#runs-active li[data-run='{run}']");
        wait_js(
            &b,
            &format!(
                "const li = document.querySelector(\"{card}\");\
                 return li ? [li.querySelector('[data-count=waiting]').textContent,\
                   li.querySelector('[data-count=audience]').textContent,\
                   document.getElementById('runs-active-empty').hidden] : null;"
            ),
            serde_json::json!(["3", "3", true]),
            "the run did not appear",
        )
        .await;
        assert!(b.text(&card).await.contains("テスト配信"));
        b.axe().await;

        // It is sent: it leaves the runs in progress and shows among the finished, with its counts.
        assert_eq!(worker.drain().await.expect("drain").sent, 3);
        wait_js(
            &b,
            &format!(
                "const row = document.querySelector(\"#runs-finished tr[data-run='{run}']\");\
                 return [document.querySelectorAll('#runs-active li').length,\
                   document.getElementById('runs-active-empty').hidden, row ? row.cells[3].textContent : ''];"
            ),
            serde_json::json!([0, false, "3"]),
            "the run did not finish on the page",
        )
        .await;
        let same_page = run_js(&b, "return window.outreachNotReloaded === true;").await;
        assert_eq!(same_page, true, "it appeared and finished without reloading the page");
        b.axe().await;

        // The figures (on load): this month's 3 mails on telework, in the cards, the chart and the table.
        b.goto("/staff").await;
        b.wait_text("h1", "ダッシュボード", WAIT).await;
        let rows = table_rows(&b, "テーマ別・月別の送信数").await;
        let telework = rows
            .iter()
            .find(|r| r[0] == "テレワークの推進")
            .expect("the telework row");
        assert_eq!(telework.last().map(String::as_str), Some("3"), "{rows:?}");
        assert!(b.text(".tiles").await.contains('3'));
        let chart = run_js(&b, "return document.querySelector('figure svg title').textContent;").await;
        assert!(chart.as_str().unwrap_or_default().contains("送信数"), "{chart}");
        let english: Vec<String> = words(&b)
            .await
            .into_iter()
            .filter(|w| ENGLISH.iter().any(|e| e.eq_ignore_ascii_case(w)))
            .collect();
        assert!(english.is_empty(), "English on the Japanese dashboard: {english:?}");
        assert!(!b.scrolls_sideways().await, "the desktop page scrolls sideways");
        b.axe().await;
        b.screenshot("staff-dashboard").await;
        run_js(
            &b,
            "document.getElementById('h-figures').scrollIntoView(); return null;",
        )
        .await;
        b.screenshot("staff-dashboard-figures").await;
        run_js(&b, "document.getElementById('h-chart').scrollIntoView(); return null;").await;
        b.screenshot("staff-dashboard-chart").await;

        // A phone: nothing sticks out sideways.
        b.viewport(PHONE.0, PHONE.1).await;
        b.goto("/staff").await;
        b.wait_text("h1", "ダッシュボード", WAIT).await;
        assert!(
            !b.scrolls_sideways().await,
            "the phone page scrolls sideways: {}",
            sticking_out(&b).await
        );
        b.axe().await;
        b.screenshot("staff-dashboard-phone").await;
        run_js(&b, "document.getElementById('h-chart').scrollIntoView(); return null;").await;
        b.screenshot("staff-dashboard-chart-phone").await;

        // English on the switch.
        b.goto("/lang/en?back=/staff").await;
        b.wait_text("h1", "Dashboard", WAIT).await;
        assert!(b.text("#h-finished").await.contains("Finished in the last 24 hours"));
        let rows = table_rows(&b, "Mails sent per theme and month").await;
        assert!(rows.iter().any(|r| r[0] == "Promoting telework"), "{rows:?}");
        assert!(
            !b.scrolls_sideways().await,
            "the English phone page scrolls sideways: {}",
            sticking_out(&b).await
        );
        b.axe().await;
        b.screenshot("staff-dashboard-en-phone").await;
        b.viewport(1366, 900).await;
        b.axe().await;
        b.screenshot("staff-dashboard-en").await;
    }
);
