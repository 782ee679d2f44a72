//! The staff pages of issue 10 (dashboard and campaigns) as a browser reaches them: an auditor refused on
//! every one, a campaign created through the form with its firing times in Tokyo time, the schedule preview,
//! bad input kept and explained beside its field, CSRF, a confirmed pause, the mail preview in its own frame
//! policy, a test mail to oneself, the progress JSON, and markup in a name escaped wherever it shows.

use crate::common;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use common::{TestEnv, tester};
use outreach::Application;
use outreach::clock::ManualClock;
use outreach::domain::account::Role;
use outreach::domain::campaign::CampaignState;
use outreach::domain::plan::Channel;
use outreach::store::ActionFilter;
use reqwest::Response;
use reqwest::header::LOCATION;
use support::rig::{campaign, import, tokyo};
use support::smtp::TestSmtp;

const STAFF: &str = "staff@example.org";
const AUDITOR: &str = "auditor@example.org";
const PASSWORD: &str = "correct horse battery";

/// Every page and action this issue adds (`{id}` a campaign, `{run}` a run), all staff or admin only.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/staff"),
    ("GET", "/staff/runs/{run}/progress"),
    ("GET", "/staff/schedule/preview?cron=0+9+*+*+MON"),
    ("GET", "/staff/campaigns"),
    ("GET", "/staff/campaigns/new"),
    ("POST", "/staff/campaigns"),
    ("GET", "/staff/campaigns/{id}"),
    ("GET", "/staff/campaigns/{id}/preview.html"),
    ("GET", "/staff/campaigns/{id}/confirm/pause"),
    ("GET", "/staff/campaigns/{id}/confirm/resume"),
    ("GET", "/staff/campaigns/{id}/confirm/cancel"),
    ("GET", "/staff/campaigns/{id}/confirm/send-now"),
    ("POST", "/staff/campaigns/{id}/pause"),
    ("POST", "/staff/campaigns/{id}/resume"),
    ("POST", "/staff/campaigns/{id}/cancel"),
    ("POST", "/staff/campaigns/{id}/send-now"),
    ("POST", "/staff/campaigns/{id}/send-test"),
];

/// The first five firings of "09:00 on the 1st of each month" after 2020-05-20, as the pages write them.
const MONTHLY: [&str; 5] = [
    "2020年6月1日(月) 09:00",
    "2020年7月1日(水) 09:00",
    "2020年8月1日(土) 09:00",
    "2020年9月1日(火) 09:00",
    "2020年10月1日(木) 09:00",
];

struct Site {
    base: String,
    http: reqwest::Client,
    app: Arc<Application>,
    smtp: TestSmtp,
}

/// A staff user and an auditor, the clock at 2020-05-20 10:00 Tokyo, mail over a test SMTP server.
async fn site(env: &mut TestEnv) -> Site {
    let smtp = TestSmtp::start();
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
        .set("OUTREACH_SMTP__TIMEOUT_SECS", "5")
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123")
        .set("OUTREACH_WEB__BASE_URL", "https://outreach.example.org");
    let clock = ManualClock::at(tokyo("2020-05-20T10:00"));
    let app = Arc::new(env.app(Arc::new(clock)).await);
    app.add_user(&tester(), STAFF, Role::Staff, PASSWORD).await.unwrap();
    app.add_user(&tester(), AUDITOR, Role::Auditor, PASSWORD).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app.clone(), listener, std::future::pending()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Site { base, http, app, smtp }
}

/// A signed-in browser: its session cookie and the session's CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

impl Site {
    async fn sign_in(&self, email: &str) -> (Browser, String) {
        let answer = self
            .http
            .post(format!("{}/sign-in", self.base))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303);
        let landing = location(&answer);
        let set = answer.headers()["set-cookie"].to_str().unwrap();
        let id = set
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("outreach_session=")
            .unwrap();
        let (_, csrf) = self.app.session(id).await.unwrap().unwrap();
        let browser = Browser {
            cookie: format!("outreach_session={id}"),
            csrf,
        };
        (browser, landing)
    }

    async fn get(&self, b: &Browser, path: &str) -> Response {
        let url = format!("{}{path}", self.base);
        self.http.get(url).header("cookie", &b.cookie).send().await.unwrap()
    }

    async fn page(&self, b: &Browser, path: &str) -> String {
        let answer = self.get(b, path).await;
        assert_eq!(answer.status(), 200, "{path}");
        answer.text().await.unwrap()
    }

    /// A form post with the session's token (unless the form names its own `csrf`).
    async fn post(&self, b: &Browser, path: &str, form: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        if !form.iter().any(|(k, _)| *k == "csrf") {
            fields.push(("csrf", &b.csrf));
        }
        let url = format!("{}{path}", self.base);
        self.http
            .post(url)
            .header("cookie", &b.cookie)
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    async fn recorded(&self, action: &str) -> Vec<outreach::domain::action::ActionRecord> {
        let rows = self.app.actions(&ActionFilter::default()).await.unwrap();
        rows.into_iter().filter(|a| a.action == action).collect()
    }
}

fn location(answer: &Response) -> String {
    answer.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The form of a monthly newsletter on telework, with `name`.
fn monthly(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("theme", "telework"),
        ("channel", "newsletter"),
        ("name", name),
        ("title", ""),
        ("issue", ""),
        ("kind", "cron"),
        ("cron", ""),
        ("preset", "0 9 1 * *"),
        ("at", ""),
    ]
}

both_backends!(
    creating_from_the_form_reads_the_plan_once_and_compiles_nothing,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        import(&s.app, &[("member@example.jp", "telework")]).await;
        let (staff, _) = s.sign_in(STAFF).await;
        // The first campaign compiles the templates (a process compiles them once, then on a reload).
        let first = s.post(&staff, "/staff/campaigns", &monthly("一件目")).await;
        assert_eq!(first.status(), 303);
        let (plans, compiles) = (s.app.store.plan_loads(), s.app.template_compiles());
        assert_eq!(compiles, 1, "compiled on first use");
        let second = s.post(&staff, "/staff/campaigns", &monthly("二件目")).await;
        assert_eq!(second.status(), 303);
        assert_eq!(
            s.app.store.plan_loads() - plans,
            1,
            "the plan is read once per creation"
        );
        assert_eq!(s.app.template_compiles(), compiles, "nothing compiled");
        // The counters are in /metrics for whoever runs the service.
        let metrics = s
            .http
            .get(format!("{}/metrics", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("plan_loads_total") && metrics.contains("template_compiles_total 1"),
            "{metrics}"
        );
    }
);

both_backends!(
    an_auditor_gets_403_on_every_page_and_action,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
        let run = s.app.send_now(&tester(), id).await.unwrap().unwrap();
        let (auditor, landing) = s.sign_in(AUDITOR).await;
        assert_eq!(landing, "/audit/log", "an auditor lands on the send log");
        let (staff, landing) = s.sign_in(STAFF).await;
        assert_eq!(landing, "/staff");
        let before = s.app.actions(&ActionFilter::default()).await.unwrap().len();
        for (method, route) in ROUTES {
            let path = route
                .replace("{id}", &id.to_string())
                .replace("{run}", &run.id.to_string());
            let answer = match *method {
                "GET" => s.get(&auditor, &path).await,
                _ => s.post(&auditor, &path, &monthly("監査人の作成")).await,
            };
            assert_eq!(answer.status(), 403, "{method} {path}");
            if *method == "GET" && !path.ends_with("/send-now") {
                let answer = s.get(&staff, &path).await;
                assert_eq!(answer.status(), 200, "staff: {method} {path}");
                let body = answer.text().await.unwrap();
                assert!(!body.contains("Error / エラー"), "staff: {path}: {body}");
            }
        }
        assert_eq!(s.app.campaign(id).await.unwrap().state, CampaignState::Scheduled);
        assert_eq!(s.app.campaigns().await.unwrap().len(), 1);
        assert_eq!(s.app.actions(&ActionFilter::default()).await.unwrap().len(), before);
        assert!(s.smtp.messages().is_empty());
    }
);

both_backends!(
    staff_create_a_monthly_campaign_through_the_form,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let form = s.page(&staff, "/staff/campaigns/new").await;
        for field in ["theme", "channel", "name", "title", "issue", "preset", "cron", "at"] {
            assert!(form.contains(&format!("<label for=\"{field}\"")), "{field}");
        }
        assert!(form.contains("毎月第1月曜 9:00（0 9 * * MON#1）"), "{form}");

        // The preview button shows the firings and the plan's duty and creates nothing.
        let mut fields = monthly("月次テレワーク案内");
        fields.push(("preview", "1"));
        let preview = s.post(&staff, "/staff/campaigns", &fields).await;
        assert_eq!(preview.status(), 200);
        let html = preview.text().await.unwrap();
        for time in MONTHLY {
            assert!(html.contains(&format!("<li>{time}</li>")), "{time}: {html}");
        }
        let duty = s
            .app
            .plan(None)
            .await
            .unwrap()
            .theme("telework")
            .unwrap()
            .duty_for(Channel::Newsletter)
            .unwrap()
            .text
            .clone();
        assert!(html.contains(&duty), "the duty served: {duty}");
        assert!(s.app.campaigns().await.unwrap().is_empty());

        let created = s.post(&staff, "/staff/campaigns", &monthly("月次テレワーク案内")).await;
        assert_eq!(created.status(), 303);
        let campaigns = s.app.campaigns().await.unwrap();
        assert_eq!(campaigns.len(), 1);
        assert_eq!(location(&created), format!("/staff/campaigns/{}", campaigns[0].id));
        let list = s.page(&staff, "/staff/campaigns").await;
        assert!(list.contains("月次テレワーク案内"));
        let times: Vec<usize> = MONTHLY
            .iter()
            .map(|t| list.find(t).unwrap_or_else(|| panic!("{t}: {list}")))
            .collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "in order");
        // The filters keep it or leave it out.
        assert!(
            s.page(
                &staff,
                "/staff/campaigns?theme=telework&channel=newsletter&state=scheduled&fy=2020"
            )
            .await
            .contains("月次テレワーク案内")
        );
        assert!(
            !s.page(&staff, "/staff/campaigns?state=paused")
                .await
                .contains("月次テレワーク案内")
        );
        let detail = s.page(&staff, &location(&created)).await;
        assert!(MONTHLY.iter().all(|t| detail.contains(t)));
        let create = s.recorded("campaign.create").await;
        assert_eq!(create.len(), 1);
        assert_eq!(create[0].actor, STAFF);
        // The dashboard lists the firing due within 14 days.
        let dashboard = s.page(&staff, "/staff").await;
        assert!(
            dashboard.contains(MONTHLY[0]) && !dashboard.contains(MONTHLY[1]),
            "{dashboard}"
        );
    }
);

both_backends!(
    the_schedule_preview_gives_five_times_or_a_plain_error,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let answer = s.get(&staff, "/staff/schedule/preview?cron=0+9+*+*+MON%231").await;
        assert_eq!(answer.status(), 200);
        let json: serde_json::Value = answer.json().await.unwrap();
        let times: Vec<&str> = json["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(
            times,
            [
                "2020年6月1日(月) 09:00",
                "2020年7月6日(月) 09:00",
                "2020年8月3日(月) 09:00",
                "2020年9月7日(月) 09:00",
                "2020年10月5日(月) 09:00"
            ]
        );
        assert!(json["error"].is_null());
        let at = s.get(&staff, "/staff/schedule/preview?at=2020-06-01T09%3A00").await;
        let json: serde_json::Value = at.json().await.unwrap();
        assert_eq!(json["times"], serde_json::json!(["2020年6月1日(月) 09:00"]));
        for (query, says) in [
            ("cron=0+0+31+2+*", "一度も配信されません"),
            ("cron=every+monday", "cron式の書き方が正しくありません"),
            ("cron=", "スケジュールを入力してください"),
            ("at=2020-05-01T09%3A00", "もう過ぎています"),
            ("at=tomorrow", "2020-06-01T09:00 の形"),
        ] {
            let answer = s.get(&staff, &format!("/staff/schedule/preview?{query}")).await;
            assert_eq!(answer.status(), 400, "{query}");
            let json: serde_json::Value = answer.json().await.unwrap();
            assert!(json["error"].as_str().unwrap().contains(says), "{query}: {json}");
            assert_eq!(json["times"], serde_json::json!([]));
        }
        // In English for a user who switched.
        let en = s
            .http
            .get(format!("{}/staff/schedule/preview?cron=0+0+31+2+*", s.base))
            .header("cookie", format!("{}; outreach_lang=en", staff.cookie))
            .send()
            .await
            .unwrap();
        let json: serde_json::Value = en.json().await.unwrap();
        assert!(json["error"].as_str().unwrap().contains("never fires"), "{json}");
    }
);

both_backends!(
    bad_input_is_explained_beside_its_field_and_kept,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let mut fields = monthly("");
        fields.retain(|(k, _)| *k != "cron" && *k != "preset" && *k != "title");
        fields.extend([("cron", "0 9 * * FUNDAY"), ("preset", ""), ("title", "六月の<ご案内>")]);
        let answer = s.post(&staff, "/staff/campaigns", &fields).await;
        assert_eq!(answer.status(), 400);
        let html = answer.text().await.unwrap();
        assert!(
            html.contains("aria-describedby=\"name-error\"") && html.contains("id=\"name-error\""),
            "{html}"
        );
        assert!(html.contains("管理用の名前を入力してください。"));
        assert!(
            html.contains("aria-describedby=\"schedule-error\"") && html.contains("cron式の書き方が正しくありません")
        );
        assert!(html.contains("value=\"0 9 * * FUNDAY\""), "the cron typed is kept");
        assert!(
            html.contains("value=\"六月の&lt;ご案内&gt;\""),
            "the title typed is kept, escaped"
        );
        assert!(
            html.contains("<option value=\"telework\" selected>"),
            "the theme chosen is kept"
        );
        // A schedule that never fires, an issue on a newsletter.
        let mut fields = monthly("二月三十一日");
        fields.retain(|(k, _)| *k != "cron" && *k != "issue");
        fields.extend([("cron", "0 0 31 2 *"), ("issue", "6月1日号")]);
        let html = s.post(&staff, "/staff/campaigns", &fields).await.text().await.unwrap();
        assert!(
            html.contains("id=\"schedule-error\"") && html.contains("一度も配信されません"),
            "{html}"
        );
        assert!(html.contains("id=\"issue-error\""));
        assert!(s.app.campaigns().await.unwrap().is_empty());

        // Without the CSRF token, with another's, or from another site: 403, nothing created.
        let mut fields = monthly("CSRFなし");
        fields.push(("csrf", ""));
        assert_eq!(s.post(&staff, "/staff/campaigns", &fields).await.status(), 403);
        let mut fields = monthly("他人のトークン");
        fields.push(("csrf", "not-the-token"));
        assert_eq!(s.post(&staff, "/staff/campaigns", &fields).await.status(), 403);
        let mut fields = monthly("他サイト");
        fields.push(("csrf", &staff.csrf));
        let foreign = s
            .http
            .post(format!("{}/staff/campaigns", s.base))
            .header("cookie", &staff.cookie)
            .header("origin", "https://evil.example")
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403);
        assert!(s.app.campaigns().await.unwrap().is_empty());
    }
);

both_backends!(
    pause_goes_through_a_confirmation_that_counts_the_recipients,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        import(
            &s.app,
            &[
                ("a@example.jp", "telework"),
                ("b@example.jp", "telework"),
                ("c@example.jp", "smooth-biz"),
            ],
        )
        .await;
        let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let detail = s.page(&staff, &format!("/staff/campaigns/{id}")).await;
        assert!(detail.contains(&format!("href=\"/staff/campaigns/{id}/confirm/pause\"")));
        let confirm = s.page(&staff, &format!("/staff/campaigns/{id}/confirm/pause")).await;
        assert!(confirm.contains("宛先 2 件"), "{confirm}");
        assert!(confirm.contains(&format!("action=\"/staff/campaigns/{id}/pause\"")));
        assert_eq!(
            s.app.campaign(id).await.unwrap().state,
            CampaignState::Scheduled,
            "a GET changes nothing"
        );
        let done = s.post(&staff, &format!("/staff/campaigns/{id}/pause"), &[]).await;
        assert_eq!(done.status(), 303);
        assert_eq!(location(&done), format!("/staff/campaigns/{id}?done=pause"));
        let c = s.app.campaign(id).await.unwrap();
        assert_eq!(
            (c.state, c.state_reason),
            (
                CampaignState::Paused,
                outreach::domain::campaign::StateReason::PausedByStaff
            )
        );
        let paused = s.recorded("campaign.pause").await;
        assert_eq!(paused.len(), 1);
        assert_eq!(
            (paused[0].actor.as_str(), paused[0].target.as_str()),
            (STAFF, format!("campaign {id}").as_str())
        );
        assert!(s.page(&staff, &location(&done)).await.contains("一時停止しました。"));
        // The dashboard says it is paused and why; resume the same way.
        assert!(s.page(&staff, "/staff").await.contains("職員が一時停止しました"));
        assert!(
            s.page(&staff, &format!("/staff/campaigns/{id}/confirm/resume"))
                .await
                .contains("宛先 2 件")
        );
        assert_eq!(
            s.post(&staff, &format!("/staff/campaigns/{id}/resume"), &[])
                .await
                .status(),
            303
        );
        assert_eq!(s.app.campaign(id).await.unwrap().state, CampaignState::Scheduled);
        // Pausing twice is a conflict, said on a page.
        assert_eq!(
            s.post(&staff, &format!("/staff/campaigns/{id}/resume"), &[])
                .await
                .status(),
            409
        );
    }
);

both_backends!(
    the_preview_shows_the_subject_and_frames_the_html_under_its_own_policy,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        import(&s.app, &[("member@example.jp", "telework")]).await;
        let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
        let c = s.app.campaign(id).await.unwrap();
        let templates = s.app.templates().unwrap();
        let sample = s.app.campaign_mail(&tester(), &templates, &c, None).await.unwrap();
        let (staff, _) = s.sign_in(STAFF).await;
        let page = s.get(&staff, &format!("/staff/campaigns/{id}")).await;
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
            "{csp}"
        );
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.unwrap();
        assert!(html.contains(&sample.subject), "{html}");
        let src = format!("/staff/campaigns/{id}/preview.html?member=");
        // Handlebars writes `=` as `&#x3D;` in attributes; the browser reads it back.
        let escaped = src.replace('=', "&#x3D;");
        assert!(
            html.contains(&format!("<iframe class=\"mail\" sandbox src=\"{escaped}\"")),
            "{html}"
        );

        let framed = s.get(&staff, &src).await;
        assert_eq!(framed.status(), 200);
        let csp = framed.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'unsafe-inline'; img-src data: https:"),
            "{csp}"
        );
        assert!(
            csp.contains("frame-ancestors 'self'") && !csp.contains("script-src"),
            "{csp}"
        );
        assert_eq!(framed.headers()["x-frame-options"], "SAMEORIGIN");
        assert_eq!(framed.text().await.unwrap(), sample.html);

        // As a chosen member: their name in the mail.
        let member = s
            .app
            .campaign_mail(&tester(), &templates, &c, Some("member@example.jp"))
            .await
            .unwrap();
        let as_member = s
            .page(&staff, &format!("/staff/campaigns/{id}?member=member%40example.jp"))
            .await;
        assert!(as_member.contains("preview.html?member&#x3D;member%40example.jp"));
        let framed = s
            .get(
                &staff,
                &format!("/staff/campaigns/{id}/preview.html?member=member%40example.jp"),
            )
            .await;
        assert_eq!(framed.text().await.unwrap(), member.html);
        // An unknown member: said on the page, no frame.
        let unknown = s
            .page(&staff, &format!("/staff/campaigns/{id}?member=nobody%40example.jp"))
            .await;
        assert!(unknown.contains("プレビューを表示できません") && !unknown.contains("<iframe"));
    }
);

both_backends!(
    a_test_mail_goes_to_the_signed_in_user_only,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        import(&s.app, &[("member@example.jp", "telework")]).await;
        let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let sent = s.post(&staff, &format!("/staff/campaigns/{id}/send-test"), &[]).await;
        assert_eq!(sent.status(), 303);
        assert_eq!(location(&sent), format!("/staff/campaigns/{id}?done=send-test"));
        assert!(s.smtp.wait_for(1, Duration::from_secs(10)));
        let messages = s.smtp.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].rcpt_to, [STAFF]);
        let mail = support::mime::read(&messages[0].data);
        assert!(mail.subject.starts_with("[テスト] "), "{}", mail.subject);
        assert!(!mail.text.is_empty() && !mail.html.is_empty());
        let recorded = s.recorded("campaign.send_test").await;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].actor, STAFF);
        assert!(s.app.all_runs().await.unwrap().is_empty(), "no run, no member mailed");
    }
);

both_backends!(
    test_mails_go_to_up_to_ten_addresses_and_their_links_change_nothing,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        import(&s.app, &[("member@example.jp", "telework")]).await;
        let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let path = format!("/staff/campaigns/{id}/send-test");
        // Eleven addresses, or one that is not an address: refused in the page's language, nothing sent.
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}@example.jp")).collect();
        let refused = s.post(&staff, &path, &[("to", &eleven.join(","))]).await;
        assert_eq!(refused.status(), 400);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("宛先は10件までです（11件あります）")
        );
        let refused = s.post(&staff, &path, &[("to", "a@example.jp, not-an-address")]).await;
        assert_eq!(refused.status(), 400);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("「not-an-address」はメールアドレスの形になっていません")
        );
        assert!(s.smtp.messages().is_empty() && s.recorded("campaign.send_test").await.is_empty());
        // Two addresses, one of them typed twice in another spelling: two mails, one record naming both.
        let sent = s
            .post(&staff, &path, &[("to", "a@example.jp、 b@example.jp\nA@EXAMPLE.JP")])
            .await;
        assert_eq!(sent.status(), 303);
        assert!(location(&sent).contains("done=send-test"));
        assert!(s.smtp.wait_for(2, Duration::from_secs(10)));
        let messages = s.smtp.messages();
        let mut to: Vec<&str> = messages
            .iter()
            .flat_map(|m| m.rcpt_to.iter().map(String::as_str))
            .collect();
        to.sort_unstable();
        assert_eq!(to, ["a@example.jp", "b@example.jp"]);
        let recorded = s.recorded("campaign.send_test").await;
        assert_eq!(recorded.len(), 1);
        assert!(
            recorded[0].summary.contains("a@example.jp, b@example.jp"),
            "{}",
            recorded[0].summary
        );
        // Its links open the page that says so, and change nothing for anyone.
        let mail = support::mime::read(&messages[0].data);
        let links: Vec<&str> = mail
            .text
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("https://outreach.example.org"))
            .collect();
        assert!(!links.is_empty(), "{}", mail.text);
        for link in links {
            let answer = s
                .http
                .post(format!("{}{link}", s.base))
                .form(&[("do", "leave-all")])
                .send()
                .await
                .unwrap();
            let body = answer.text().await.unwrap();
            assert!(body.contains("これはプレビュー用のリンクです"), "{link}: {body}");
        }
        let member = s.app.store.member("member@example.jp").await.unwrap().unwrap();
        assert_eq!(member.status.as_str(), "active");
        assert!(member.themes.contains(&"telework".to_owned()));
        assert!(s.app.all_runs().await.unwrap().is_empty(), "no run, no member mailed");
    }
);

both_backends!(
    the_progress_json_reflects_a_runs_counts,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        import(&s.app, &[("a@example.jp", "telework"), ("b@example.jp", "telework")]).await;
        let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let confirm = s.page(&staff, &format!("/staff/campaigns/{id}/confirm/send-now")).await;
        assert!(confirm.contains("宛先 2 件"));
        assert_eq!(
            s.post(&staff, &format!("/staff/campaigns/{id}/send-now"), &[])
                .await
                .status(),
            303
        );
        let run = s.app.runs(id).await.unwrap().pop().unwrap().run;
        let answer = s.get(&staff, &format!("/staff/runs/{}/progress", run.id)).await;
        assert_eq!(answer.status(), 200);
        let json: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            (
                json["audience"].as_i64(),
                json["waiting"].as_i64(),
                json["sent"].as_i64(),
                json["failed"].as_i64(),
                json["done"].as_bool()
            ),
            (Some(2), Some(2), Some(0), Some(0), Some(false))
        );
        let dashboard = s.page(&staff, "/staff").await;
        assert!(dashboard.contains(&format!("data-progress-url=\"/staff/runs/{}/progress\"", run.id)));
        assert!(
            dashboard.contains("<dd data-count=\"waiting\">2</dd>"),
            "the figures are there without the script"
        );
        assert!(dashboard.contains("<script src=\"/static/staff.js?v"));
        // Cancelling skips what waits; the JSON follows.
        s.app
            .set_campaign_state(&tester(), id, CampaignState::Cancelled)
            .await
            .unwrap();
        let json: serde_json::Value = s
            .get(&staff, &format!("/staff/runs/{}/progress", run.id))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!((json["waiting"].as_i64(), json["skipped"].as_i64()), (Some(0), Some(2)));
        assert_eq!(s.get(&staff, "/staff/runs/999999/progress").await.status(), 404);
        let script = s.http.get(format!("{}/static/staff.js", s.base)).send().await.unwrap();
        assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    }
);

both_backends!(
    markup_in_a_campaign_name_is_escaped_everywhere,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        let (staff, _) = s.sign_in(STAFF).await;
        let name = "<script>alert(1)</script>";
        let created = s.post(&staff, "/staff/campaigns", &monthly(name)).await;
        assert_eq!(created.status(), 303);
        let id = s.app.campaigns().await.unwrap()[0].id;
        let mut pages = vec![
            "/staff".to_owned(),
            "/staff/campaigns".to_owned(),
            format!("/staff/campaigns/{id}"),
            format!("/staff/campaigns/{id}/confirm/pause"),
        ];
        s.app
            .set_campaign_state(&tester(), id, CampaignState::Paused)
            .await
            .unwrap();
        pages.push("/staff".to_owned());
        for path in pages {
            let html = s.page(&staff, &path).await;
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{path}: {html}");
            assert!(!html.contains(name), "{path}");
        }
        // Kept and escaped when the form comes back.
        let mut fields = monthly(name);
        fields.retain(|(k, _)| *k != "preset");
        fields.push(("preset", ""));
        let html = s.post(&staff, "/staff/campaigns", &fields).await.text().await.unwrap();
        assert!(html.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"") && !html.contains(name));
    }
);

both_backends!(
    the_root_leads_home_runs_count_per_campaign_and_a_preview_warns_off_theme,
    |mut env: TestEnv| async move {
        let s = site(&mut env).await;
        import(
            &s.app,
            &[("member@example.jp", "telework"), ("other@example.jp", "smooth-biz")],
        )
        .await;
        // `/`: a visitor is sent to sign in and back; each role to its own first page.
        let visitor = s.http.get(format!("{}/", s.base)).send().await.unwrap();
        assert_eq!(visitor.status(), 303);
        assert_eq!(location(&visitor), "/sign-in?next=%2F");
        let (staff, _) = s.sign_in(STAFF).await;
        let (auditor, _) = s.sign_in(AUDITOR).await;
        assert_eq!(location(&s.get(&staff, "/").await), "/staff");
        assert_eq!(location(&s.get(&auditor, "/").await), "/audit/log");
        // A 403 leads back to `/`, the role's own first page, never to another page the role may not open.
        let refused = s.get(&auditor, "/staff").await;
        assert_eq!(refused.status(), 403);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("<a href=\"/\">") && !html.contains("href=\"/staff\""),
            "{html}"
        );

        // Two campaigns, each with its first run: each page says 第1回, whatever the runs' global ids.
        for _ in 0..2 {
            let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
            let answer = s.post(&staff, &format!("/staff/campaigns/{id}/send-now"), &[]).await;
            assert_eq!(answer.status(), 303);
            let html = s.page(&staff, &format!("/staff/campaigns/{id}")).await;
            assert!(html.contains("第1回"), "{html}");
            assert!(!html.contains("第2回"), "{html}");
        }

        // A preview as a member who is not on the theme says so; as one who is, it does not.
        let id = campaign(&s.app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
        let warning = "この会員はこのテーマの配信を受けていません";
        let off = s
            .page(&staff, &format!("/staff/campaigns/{id}?member=other%40example.jp"))
            .await;
        assert!(off.contains(warning), "{off}");
        let on = s
            .page(&staff, &format!("/staff/campaigns/{id}?member=member%40example.jp"))
            .await;
        assert!(!on.contains(warning), "{on}");
        assert!(on.contains("件名："), "{on}");
    }
);
