//! The staff dashboard of issue 16 (item 4) in process, on both backends: its cards, chart and table agree
//! with the send log's rows (each cell summed against the log, the fiscal year's edges in Tokyo time), members
//! per theme agree with the member store, and `/staff/runs/live` includes a run started after the page was
//! loaded and moves it to the finished ones when it is done (then drops it after 24 hours).

use crate::common;
use crate::support;

use std::collections::HashMap;
use std::sync::Arc;

use common::{TestEnv, tester};
use outreach::Application;
use outreach::clock::ManualClock;
use outreach::domain::Outcome;
use outreach::domain::account::Role;
use outreach::domain::fiscal::FiscalYear;
use outreach::domain::plan::Channel;
use outreach::export::svg::group_digits;
use outreach::runtime::Worker;
use outreach::store::LogFilter;
use serde_json::Value;
use support::rig::{create, import, request, tokyo, worker_of};
use support::smtp::TestSmtp;

const STAFF: &str = "staff@example.org";
const AUDITOR: &str = "auditor@example.org";
const PASSWORD: &str = "correct horse battery";

struct Site {
    base: String,
    http: reqwest::Client,
    app: Arc<Application>,
    clock: ManualClock,
    worker: Worker,
    _smtp: TestSmtp,
}

/// Staff and an auditor, the clock at `start` (Tokyo), mail over a test SMTP server.
async fn site(env: &mut TestEnv, start: &str) -> Site {
    let smtp = TestSmtp::start();
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
        .set("OUTREACH_SMTP__TIMEOUT_SECS", "5")
        .set("OUTREACH_DELIVERY__FAILURE_MIN_SAMPLE", "1000")
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123")
        .set("OUTREACH_WEB__BASE_URL", "https://outreach.example.org");
    let clock = ManualClock::at(tokyo(start));
    let app = Arc::new(env.app(Arc::new(clock.clone())).await);
    app.add_user(&tester(), STAFF, Role::Staff, PASSWORD).await.unwrap();
    app.add_user(&tester(), AUDITOR, Role::Auditor, PASSWORD).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app.clone(), listener, std::future::pending()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let worker = worker_of(&app).await;
    Site {
        base,
        http,
        app,
        clock,
        worker,
        _smtp: smtp,
    }
}

impl Site {
    /// The session cookie of `email`, signed in through the form.
    async fn sign_in(&self, email: &str) -> String {
        let answer = self
            .http
            .post(format!("{}/sign-in", self.base))
            .form(&[("email", email), ("password", PASSWORD)])
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

    async fn live(&self, cookie: &str) -> Value {
        let (status, body) = self.get(cookie, "/staff/runs/live").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// A campaign on `theme`, sent now at `when` (Tokyo) and drained: its run's id.
    async fn send(&self, theme: &str, when: &str) -> i64 {
        self.clock.set(tokyo(when));
        let mut r = request(Channel::Newsletter, None, Some("0 9 1 1 *"));
        r.theme_slug = theme.into();
        let id = create(&self.app, &r).await;
        let run = self.app.send_now(&tester(), id).await.unwrap().unwrap();
        self.worker.drain().await.unwrap();
        run.id
    }
}

fn ids(runs: &Value, key: &str) -> Vec<i64> {
    runs[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"].as_i64().unwrap())
        .collect()
}

both_backends!(
    dashboard_cards_chart_and_table_agree_with_the_send_log,
    |mut env: TestEnv| async move {
        let s = site(&mut env, "2020-03-01T10:00").await;
        import(
            &s.app,
            &[
                ("a@example.co.jp", "telework;women-advancement"),
                ("b@example.co.jp", "telework"),
                ("reject@example.co.jp", "telework"),
                ("c@example.co.jp", "women-advancement;sme-talent"),
            ],
        )
        .await;
        // a leaves one theme: members per theme count only who is on it.
        s.app
            .unsubscribe(&tester(), "a@example.co.jp", Some("women-advancement"))
            .await
            .unwrap();
        // Fiscal year 2019's last minute and 2020's first (Tokyo), then May, then December.
        s.send("women-advancement", "2020-03-31T23:59").await;
        s.send("telework", "2020-04-01T00:00").await;
        s.send("women-advancement", "2020-05-10T09:00").await;
        s.send("telework", "2020-12-01T09:00").await;
        s.send("sme-talent", "2020-12-24T09:00").await;
        s.clock.set(tokyo("2020-12-25T10:00"));

        // What the log says, counted here row by row.
        let tz = chrono_tz::Asia::Tokyo;
        let fy = FiscalYear(2020);
        let log = s.app.send_log(&LogFilter::default(), 0, 1000).await.unwrap();
        assert_eq!(log.len(), 8, "{log:?}");
        let mut sent: HashMap<(String, usize), i64> = HashMap::new();
        let mut failed = 0;
        for row in &log {
            let Some(month) = fy.month_index(row.at, tz) else {
                continue;
            };
            match row.outcome {
                Outcome::Sent => *sent.entry((row.theme_slug.clone(), month)).or_default() += 1,
                Outcome::Failed => failed += 1,
                _ => {}
            }
        }
        assert!(
            log.iter().any(|r| fy.month_index(r.at, tz).is_none()),
            "a row of FY2019"
        );
        assert_eq!(failed, 1, "reject@ failed in April (and was suppressed): {log:?}");

        let figures = s.app.year_figures(s.app.now()).await.unwrap();
        assert_eq!(figures.fiscal_year, fy);
        assert_eq!(figures.this_month, 8, "December");
        let mut cells = 0;
        for t in &figures.themes {
            for (m, n) in t.sent.iter().enumerate() {
                assert_eq!(
                    *n,
                    sent.get(&(t.slug.clone(), m)).copied().unwrap_or(0),
                    "{} month {m}",
                    t.slug
                );
                cells += n;
            }
            // Members per theme: the member store's active members subscribed to it.
            let members = s.app.members(Some(&t.slug)).await.unwrap();
            let expected = members
                .iter()
                .filter(|m| m.status == "active" && m.themes.iter().any(|th| th == &t.slug))
                .count() as i64;
            assert_eq!(t.members, expected, "members of {}", t.slug);
        }
        assert_eq!(
            cells,
            sent.values().sum::<i64>(),
            "every sent row of the year in one cell"
        );
        assert_eq!(figures.failed_in_year(), failed);
        assert_eq!(
            figures.sent_in_month(0),
            sent.get(&("telework".into(), 0)).copied().unwrap()
        );
        let telework = figures.themes.iter().find(|t| t.slug == "telework").unwrap();
        assert_eq!(telework.sent[0], 2, "April: a and b, not reject@");
        assert_eq!(telework.members, 2, "a and b; reject@ was suppressed by its 550");

        // The page shows the same numbers: the cards, the chart's labels and the table.
        let cookie = s.sign_in(STAFF).await;
        let (status, html) = s.get(&cookie, "/staff").await;
        assert_eq!(status, 200);
        let year_total = group_digits(figures.sent_in_year());
        assert!(
            html.contains(&format!("<span class=\"tile-value\">{year_total}</span>")),
            "{html}"
        );
        let month = group_digits(figures.sent_in_month(8));
        assert!(
            html.contains(&format!("<span class=\"tile-value\">{month}</span>")),
            "{html}"
        );
        assert!(html.contains("令和2年度（2020年度）"), "{html}");
        let chart = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        assert!(
            chart.contains("<title id=\"chart-mails-title\">") && chart.contains("<desc"),
            "{chart}"
        );
        assert!(!chart.contains("style="), "no inline style: {chart}");
        assert!(
            chart.contains("テレワークの推進") && !chart.contains(">telework<"),
            "{chart}"
        );
        let table = &html[html.find("id=\"chart-table\"").unwrap()..];
        let row = &table[table.find("<th scope=\"row\">テレワークの推進</th>").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        let numbers: Vec<&str> = row
            .split("<td class=\"num")
            .skip(1)
            .map(|c| c.split('>').nth(1).unwrap().split('<').next().unwrap())
            .collect();
        let mut expected: Vec<String> = telework.sent.iter().map(|n| group_digits(*n)).collect();
        expected.push(group_digits(telework.sent_in_year()));
        assert_eq!(numbers, expected, "{row}");
        for slug in [
            "telework",
            "women-advancement",
            "sme-talent",
            "newsletter",
            "sending",
            "done",
        ] {
            assert!(!html.contains(&format!(">{slug}<")), "{slug} shown as a word: {html}");
        }
    }
);

both_backends!(
    live_runs_include_a_run_started_after_the_page_and_drop_it_when_finished,
    |mut env: TestEnv| async move {
        let s = site(&mut env, "2020-05-20T10:00").await;
        import(
            &s.app,
            &[("a@example.co.jp", "telework"), ("b@example.co.jp", "telework")],
        )
        .await;
        let id = create(&s.app, &request(Channel::Newsletter, None, Some("0 9 1 1 *"))).await;
        let cookie = s.sign_in(STAFF).await;
        let (_, html) = s.get(&cookie, "/staff").await;
        assert!(
            html.contains("送信中の配信はありません。") && !html.contains("data-run="),
            "{html}"
        );
        let runs = s.live(&cookie).await;
        assert!(
            ids(&runs, "active").is_empty() && ids(&runs, "finished").is_empty(),
            "{runs}"
        );

        // A run starts after the page loaded: the poll has it, sending, with its counts.
        let run = s.app.send_now(&tester(), id).await.unwrap().unwrap().id;
        let runs = s.live(&cookie).await;
        assert_eq!(ids(&runs, "active"), [run], "{runs}");
        let card = &runs["active"][0];
        assert_eq!(
            (card["audience"].as_i64(), card["waiting"].as_i64()),
            (Some(2), Some(2))
        );
        assert_eq!(card["name"], "テスト配信");
        assert_eq!(card["text"]["sent"], "0");
        // Without script, a load of the page shows it too.
        let (_, html) = s.get(&cookie, "/staff").await;
        assert!(html.contains(&format!("data-run=\"{run}\"")), "{html}");

        // Done: out of the active set, among the finished with its counts.
        s.clock.advance_secs(60);
        assert_eq!(s.worker.drain().await.unwrap().sent, 2);
        let runs = s.live(&cookie).await;
        assert!(ids(&runs, "active").is_empty(), "{runs}");
        assert_eq!(ids(&runs, "finished"), [run], "{runs}");
        assert_eq!(runs["finished"][0]["sent"], 2);
        assert_eq!(runs["finished"][0]["finished_at"], "2020年5月20日(水) 10:01");
        let (_, html) = s.get(&cookie, "/staff").await;
        assert!(html.contains(&format!("<tr data-run=\"{run}\">")), "{html}");

        // A day later it has left the dashboard.
        s.clock.advance_secs(24 * 3600 + 60);
        let cookie = s.sign_in(STAFF).await;
        let runs = s.live(&cookie).await;
        assert!(ids(&runs, "finished").is_empty(), "{runs}");

        // The JSON is staff's, like the page.
        let auditor = s.sign_in(AUDITOR).await;
        assert_eq!(s.get(&auditor, "/staff/runs/live").await.0, 403);
        let (status, _) = s.get("", "/staff/runs/live").await;
        assert!(status == 303 || status == 401, "signed out: {status}");
    }
);
