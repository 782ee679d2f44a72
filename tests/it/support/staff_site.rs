//! The staff pages' test site: an application served on a free port with one account per role, and a
//! signed-in browser that posts forms with its session's CSRF token (tests/it/web_pages.rs).
#![allow(dead_code)]

use std::sync::Arc;

use outreach::Application;
use outreach::domain::account::Role;
use reqwest::StatusCode;

use super::rig::*;
use super::smtp::TestSmtp;
use crate::common::{TestEnv, tester};

pub const PASSWORD: &str = "correct horse battery staple";
pub const SIGNING_KEY: &str = "test-signing-key-0123456789abcdef0123";
pub const MEMBERS: [&str; 7] = [
    "a@example.co.jp",
    "b@example.co.jp",
    "c@example.co.jp",
    "d@example.co.jp",
    "e@example.co.jp",
    "f@example.co.jp",
    "g@example.co.jp",
];

pub struct Site {
    pub base: String,
    pub http: reqwest::Client,
    pub app: Arc<Application>,
}

/// A signed-in browser: its cookie and its session's CSRF token.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// Serves `app` on a free port, with one account per role.
pub async fn serve(app: Application) -> Site {
    for (email, role) in [
        ("admin@example.org", Role::Admin),
        ("staff@example.org", Role::Staff),
        ("auditor@example.org", Role::Auditor),
    ] {
        app.add_user(&tester(), email, role, PASSWORD).await.unwrap();
    }
    let app = Arc::new(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app.clone(), listener, std::future::pending()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Site { base, http, app }
}

/// An application without mail, on the system clock.
pub async fn plain(env: &mut TestEnv, extra: &[(&str, &str)]) -> Site {
    env.set("OUTREACH_WEB__BASE_URL", "https://outreach.example.org")
        .set("OUTREACH_WEB__SIGNING_KEY", SIGNING_KEY);
    for (k, v) in extra {
        env.set(k, *v);
    }
    let app = env.app(Arc::new(outreach::clock::SystemClock)).await;
    serve(app).await
}

/// An application with a newsletter sent to `MEMBERS` (seven send-log rows).
pub async fn with_mail(env: &mut TestEnv, smtp: &TestSmtp) -> Site {
    let r = rig(env, smtp, "2020-06-01T08:00", &[]).await;
    newsletter_fired(&r, &MEMBERS).await;
    assert_eq!(r.worker.drain().await.unwrap().sent, MEMBERS.len() as u64);
    serve(r.app).await
}

pub fn csrf_of(html: &str) -> String {
    let after = html.split("name=\"csrf\" value=\"").nth(1).expect("a form with csrf");
    after.split('"').next().unwrap().to_owned()
}

impl Site {
    pub async fn sign_in(&self, email: &str) -> Browser {
        let answer = self
            .http
            .post(format!("{}/sign-in", self.base))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303, "sign-in of {email}");
        let set = answer.headers()["set-cookie"].to_str().unwrap();
        let cookie = set.split(';').next().unwrap().to_owned();
        // The role's own landing page (auditors land on the send log) carries the session's token.
        let home = answer.headers()["location"].to_str().unwrap().to_owned();
        let page = self.http.get(format!("{}{home}", self.base)).header("cookie", &cookie);
        let html = page.send().await.unwrap().text().await.unwrap();
        Browser {
            csrf: csrf_of(&html),
            cookie,
        }
    }

    pub async fn get(&self, b: &Browser, path: &str) -> (StatusCode, String) {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &b.cookie)
            .send()
            .await
            .unwrap();
        (answer.status(), answer.text().await.unwrap())
    }

    pub async fn post(&self, b: &Browser, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut fields = vec![("csrf", b.csrf.as_str())];
        fields.extend_from_slice(form);
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &b.cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        (answer.status(), answer.text().await.unwrap())
    }

    /// The CSV upload form, with a file, or with the hash of a checked file.
    pub async fn upload(&self, b: &Browser, file: Option<&str>, confirm: Option<&str>) -> (StatusCode, String) {
        let boundary = "----outreach-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
            b.csrf
        );
        if let Some(file) = file {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"members.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\n{file}\r\n"
            ));
        }
        if let Some(hash) = confirm {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"confirm\"\r\n\r\n{hash}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let answer = self
            .http
            .post(format!("{}/staff/members/import", self.base))
            .header("cookie", &b.cookie)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        (answer.status(), answer.text().await.unwrap())
    }

    pub async fn member_id(&self, email: &str) -> i64 {
        self.app.store.member(email).await.unwrap().unwrap().id
    }
}
