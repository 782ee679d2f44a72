//! The member pages' fresh-link form and the operator's endpoints: a member with a broken link types their
//! address and gets a new one by mail (an unknown address gets the same page and no mail; too many requests
//! are refused), `/healthz`, `/readyz` and `/metrics` with figures counted from the database.

use crate::common;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use common::TestEnv;
use outreach::store::ActionFilter;
use support::rig::*;
use support::smtp::TestSmtp;

async fn serve_pages(app: Arc<outreach::Application>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app, listener, std::future::pending()));
    base
}

/// Waits up to five seconds for `n` mails at the server.
async fn mails(smtp: &TestSmtp, n: usize) -> Vec<support::smtp::Captured> {
    for _ in 0..50 {
        let got = smtp.messages();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    smtp.messages()
}

both_backends!(
    a_fresh_link_is_mailed_to_members_only_and_the_answer_never_tells,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        import(&r.app, &[("known@example.co.jp", "telework")]).await;
        let app = Arc::new(r.app);
        let base = serve_pages(app.clone()).await;
        let http = reqwest::Client::new();

        // The 400 page of a broken link offers the form.
        let broken = http.get(format!("{base}/p/garbage")).send().await.unwrap();
        assert_eq!(broken.status(), 400);
        assert!(broken.text().await.unwrap().contains("action=\"../link\""));

        let ask = |email: &'static str| {
            let http = http.clone();
            let url = format!("{base}/link");
            async move {
                let answer = http.post(url).form(&[("email", email)]).send().await.unwrap();
                (answer.status().as_u16(), answer.text().await.unwrap())
            }
        };
        let known = ask("Known@Example.co.jp").await;
        let unknown = ask("nobody@example.co.jp").await;
        assert_eq!(known.0, 200);
        assert_eq!(
            known, unknown,
            "the answer must not tell whether the address is a member's"
        );
        assert!(known.1.contains("新しいリンクをお送りしました"), "{}", known.1);

        let got = mails(&smtp, 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let got_after = smtp.messages();
        assert_eq!(got.len(), 1, "one mail, to the member only");
        assert_eq!(got_after.len(), 1);
        assert_eq!(got[0].rcpt_to, vec!["known@example.co.jp".to_owned()]);
        let mail = support::mime::read(&got[0].data);
        assert!(mail.subject.contains("配信設定ページのご案内"), "{}", mail.subject);
        assert!(mail.text.contains("担当 太郎 様"), "{}", mail.text);
        let path = mail
            .text
            .split("https://outreach.example.org")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();
        assert!(path.starts_with("/p/"), "{path}");
        // The link works: the member's preferences page.
        let page = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("known@example.co.jp"));

        // Recorded as the member's own action, with the client's address.
        let actions = app.actions(&ActionFilter::default()).await.unwrap();
        let mailed: Vec<_> = actions.iter().filter(|a| a.action == "member.link_mailed").collect();
        assert_eq!(mailed.len(), 1, "{actions:?}");
        assert_eq!(
            (mailed[0].actor_kind.as_str(), mailed[0].address.as_str()),
            ("member", "127.0.0.1")
        );

        // One address is mailed at most three times an hour; the fourth request is refused, known or not.
        ask("known@example.co.jp").await;
        ask("known@example.co.jp").await;
        let fourth = ask("known@example.co.jp").await;
        assert_eq!(fourth.0, 429, "{}", fourth.1);
        assert_eq!(mails(&smtp, 3).await.len(), 3);

        // Not an address: said, and nothing sent.
        assert_eq!(ask("no-at-sign").await.0, 400);
    }
);

both_backends!(
    health_readiness_and_metrics_count_from_the_database,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        newsletter_fired(&r, &["a@example.co.jp", "b@example.co.jp", "reject-c@example.co.jp"]).await;
        r.worker.drain().await.unwrap();
        let app = Arc::new(r.app);
        let base = serve_pages(app.clone()).await;
        let get = |path: &'static str| {
            let url = format!("{base}{path}");
            async move {
                let answer = reqwest::get(url).await.unwrap();
                let kind = answer
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                (answer.status().as_u16(), kind, answer.text().await.unwrap())
            }
        };
        assert_eq!(get("/healthz").await.0, 200);
        let ready = get("/readyz").await;
        assert_eq!((ready.0, ready.2.as_str()), (200, "ready\n"));

        let (status, kind, text) = get("/metrics").await;
        assert_eq!(status, 200);
        assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
        for line in [
            r#"outreach_mail_attempts_total{channel="newsletter",outcome="sent"} 2"#,
            r#"outreach_mail_attempts_total{channel="newsletter",outcome="failed"} 1"#,
            r#"outreach_smtp_replies_total{class="2xx"} 2"#,
            r#"outreach_smtp_replies_total{class="5xx"} 1"#,
            r#"outreach_queue_deliveries{status="queued"} 0"#,
            r#"outreach_runs{status="done"} 1"#,
            "outreach_live_instances 1",
            "outreach_oldest_due_delivery_age_seconds 0.0",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
        }
        assert!(text.contains("outreach_scheduler_lag_seconds "), "{text}");

        // A database that is gone: not ready, and the probe says so instead of hanging.
        app.store.close().await;
        let gone = get("/readyz").await;
        assert_eq!(gone.0, 503, "{}", gone.2);
        assert_eq!(get("/healthz").await.0, 200, "the process itself still answers");
    }
);
