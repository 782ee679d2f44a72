//! End to end through the capturing aiosmtpd server CI runs: a recurring newsletter goes out over SMTP; one member
//! presses their mail program's unsubscribe button (the RFC 8058 POST to the `List-Unsubscribe` URL), another
//! leaves the theme on the preferences page linked from the body, after a link scanner fetched every link in
//! it; the next run of the campaign goes to the third member only.

use crate::common;
use crate::support;

use std::sync::Arc;

use common::TestEnv;
use outreach::domain::plan::Channel;
use support::external::{captured_by_aiosmtpd, external};
use support::mime;
use support::rig::*;

both_backends!(
    one_click_and_preferences_through_aiosmtpd,
    |mut env: TestEnv| async move {
        let Some((port, capture)) = external("OUTREACH_TEST_SCRIPTED_SMTP", "OUTREACH_TEST_SCRIPTED_CAPTURE") else {
            return;
        };
        let tag = format!(".e2e{}", env.db.tag());
        let (button, page, stays) = (
            format!("button{tag}@example.co.jp"),
            format!("page{tag}@example.co.jp"),
            format!("stays{tag}@example.co.jp"),
        );
        let r = rig_on(&mut env, port, "2020-06-01T08:00", &[]).await;
        import(
            &r.app,
            &[(&button, "telework"), (&page, "telework"), (&stays, "telework")],
        )
        .await;
        // Every day at 09:00, Tokyo time.
        campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
        let mails_to = |to: &str| -> Vec<mime::Read> {
            captured_by_aiosmtpd(&capture)
                .into_iter()
                .filter(|(rcpt, _)| rcpt.iter().any(|x| x == to))
                .map(|(_, data)| mime::read(&data))
                .collect()
        };
        r.clock.set(tokyo("2020-06-01T09:00:01"));
        r.app.scheduler().fire_due().await.unwrap();
        assert_eq!(r.worker.drain().await.unwrap().sent, 3);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let site = format!("http://{}", listener.local_addr().unwrap());
        let app = Arc::new(r.app);
        tokio::spawn(outreach::web::serve(app.clone(), listener, std::future::pending()));
        let local = |url: &str| url.replace("https://outreach.example.org", &site);
        let http = reqwest::Client::new();
        let subscribed = || async {
            let members = app.members(Some("telework")).await.unwrap();
            let mut emails: Vec<String> = members.into_iter().map(|m| m.email).collect();
            emails.sort();
            emails
        };

        // The first member's mail program: the header's URL, POSTed with the RFC 8058 body and nothing else.
        let mail = mails_to(&button)
            .pop()
            .expect("the first run's mail to the first member");
        assert_eq!(mail.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
        let header_url = mail
            .header("List-Unsubscribe")
            .unwrap()
            .trim_matches(['<', '>'])
            .to_owned();
        // A link scanner fetches every link of the body first: nothing changes.
        let body_links: Vec<&str> = mail
            .text
            .split_whitespace()
            .filter(|w| w.starts_with("https://outreach.example.org/"))
            .collect();
        assert!(
            body_links.contains(&header_url.as_str()),
            "the body links the header's URL: {}",
            mail.text
        );
        for link in &body_links {
            assert_eq!(http.get(local(link)).send().await.unwrap().status(), 200, "{link}");
        }
        assert_eq!(subscribed().await.len(), 3, "a GET changes nothing");
        let answer = http
            .post(local(&header_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);

        // The second member opens the preferences page from the body and leaves the theme there.
        let mail = mails_to(&page)
            .pop()
            .expect("the first run's mail to the second member");
        let preferences = mail
            .text
            .split_whitespace()
            .find(|w| w.starts_with("https://outreach.example.org/p/"))
            .expect("a preferences link in the body")
            .to_owned();
        let shown = http
            .get(local(&preferences))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(shown.contains(&page), "{shown}");
        let left = http
            .post(local(&preferences))
            .form(&[("do", "leave"), ("theme", "telework")])
            .send()
            .await
            .unwrap();
        assert_eq!(left.status(), 200);
        assert_eq!(subscribed().await, vec![stays.clone()]);

        // The next day's run goes to the third member only.
        let r2 = rig_on(&mut env, port, "2020-06-02T09:00:01", &[]).await;
        r2.app.scheduler().fire_due().await.unwrap();
        assert_eq!(r2.worker.drain().await.unwrap().sent, 1);
        assert_eq!(mails_to(&stays).len(), 2);
        assert_eq!(mails_to(&button).len(), 1, "the one-click member got nothing more");
        assert_eq!(
            mails_to(&page).len(),
            1,
            "the member who left on the page got nothing more"
        );
    }
);
