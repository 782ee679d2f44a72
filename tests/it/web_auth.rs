//! Staff sign-in on the web server, as a browser and an attacker reach it: the session cookie and its flags,
//! one answer for every failed sign-in, sign-out and CSRF, the rate limits, redirects that stay on the site,
//! the headers and limits every response gets, and X-Forwarded-For believed only from a trusted proxy.

use crate::common;

use std::sync::Arc;

use common::{TestEnv, tester};
use outreach::Application;
use outreach::domain::account::Role;
use outreach::store::ActionFilter;
use reqwest::Response;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

const STAFF: &str = "staff@example.org";
const PASSWORD: &str = "correct horse battery";

/// A form's fields.
type Form<'a> = &'a [(&'a str, &'a str)];

struct Site {
    base: String,
    http: reqwest::Client,
    app: Arc<Application>,
}

/// An app with one staff account, served on a free port over an https `base_url`, with `extra` settings.
async fn site(env: &mut TestEnv, extra: &[(&str, &str)]) -> Site {
    env.set("OUTREACH_WEB__BASE_URL", "https://outreach.example.org")
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123");
    for (k, v) in extra {
        env.set(k, *v);
    }
    let app = Arc::new(env.app(Arc::new(outreach::clock::SystemClock)).await);
    app.add_user(&tester(), STAFF, Role::Staff, PASSWORD).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app.clone(), listener, std::future::pending()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Site { base, http, app }
}

impl Site {
    fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).form(form)
    }

    async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post("/sign-in", &[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// A new session's cookie value.
    async fn session(&self) -> String {
        let answer = self.sign_in(STAFF, PASSWORD).await;
        assert_eq!(answer.status(), 303);
        cookie_value(answer.headers())
    }

    async fn staff(&self, session: &str) -> Response {
        let cookie = format!("outreach_session={session}");
        let url = format!("{}/staff", self.base);
        self.http.get(url).header("cookie", cookie).send().await.unwrap()
    }

    async fn failures(&self) -> Vec<outreach::domain::action::ActionRecord> {
        let rows = self.app.actions(&ActionFilter::default()).await.unwrap();
        rows.into_iter().filter(|a| a.action == "user.sign_in_failed").collect()
    }
}

fn set_cookie(headers: &HeaderMap) -> String {
    headers.get(SET_COOKIE).unwrap().to_str().unwrap().to_owned()
}

fn cookie_value(headers: &HeaderMap) -> String {
    let cookie = set_cookie(headers);
    let pair = cookie.split(';').next().unwrap();
    pair.strip_prefix("outreach_session=").unwrap().to_owned()
}

fn location(answer: &Response) -> &str {
    answer.headers().get(LOCATION).unwrap().to_str().unwrap()
}

/// The CSRF token of the staff page's sign-out form.
fn csrf_of(html: &str) -> String {
    let after = html.split("name=\"csrf\" value=\"").nth(1).unwrap();
    after.split('"').next().unwrap().to_owned()
}

both_backends!(
    sign_in_sets_a_strict_cookie_and_a_new_session_every_time,
    |mut env: TestEnv| async move {
        let s = site(&mut env, &[]).await;
        let form = s.http.get(format!("{}/sign-in", s.base)).send().await.unwrap();
        assert_eq!(form.status(), 200);
        assert!(form.text().await.unwrap().contains("name=\"password\""));

        // A browser bringing a session id chosen by someone else gets a new one; the brought one opens nothing.
        let answer = s
            .post("/sign-in", &[("email", STAFF), ("password", PASSWORD)])
            .header("cookie", "outreach_session=chosen-by-an-attacker")
            .send()
            .await
            .unwrap();
        assert_eq!((answer.status().as_u16(), location(&answer)), (303, "/staff"));
        let cookie = set_cookie(answer.headers());
        for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=43200"] {
            assert!(cookie.split("; ").any(|f| f == flag), "{flag} missing: {cookie}");
        }
        let first = cookie_value(answer.headers());
        assert!(first.len() >= 40 && first != "chosen-by-an-attacker", "{first}");
        assert_eq!(s.staff("chosen-by-an-attacker").await.status(), 303);

        let page = s.staff(&first).await;
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("{STAFF}（スタッフ）")), "{html}");

        // Signing in again, with the live session's cookie, gives another id and ends the one brought.
        let again = s
            .post("/sign-in", &[("email", STAFF), ("password", PASSWORD)])
            .header("cookie", format!("outreach_session={first}"))
            .send()
            .await
            .unwrap();
        let second = cookie_value(again.headers());
        assert_ne!(first, second);
        assert_eq!(s.staff(&second).await.status(), 200);
        assert_eq!(s.staff(&first).await.status(), 303);
        let rows = s.app.actions(&ActionFilter::default()).await.unwrap();
        let signed_in: Vec<_> = rows.iter().filter(|a| a.action == "user.sign_in").collect();
        assert_eq!(signed_in.len(), 2);
        assert!(signed_in.iter().all(|a| a.address == "127.0.0.1"));
    }
);

both_backends!(
    a_wrong_address_and_a_wrong_password_read_the_same,
    |mut env: TestEnv| async move {
        let s = site(&mut env, &[]).await;
        let mut pages = Vec::new();
        for (email, password) in [("nobody@example.org", PASSWORD), (STAFF, "a wrong password!")] {
            let answer = s.sign_in(email, password).await;
            assert_eq!(answer.status(), 401);
            assert!(answer.headers().get(SET_COOKIE).is_none());
            let html = answer.text().await.unwrap();
            assert!(
                html.contains(&format!("value=\"{email}\"")),
                "the typed address is kept"
            );
            assert!(!html.contains(password), "the password is never sent back");
            pages.push(html.replace(email, "ADDRESS"));
        }
        assert!(pages[0].contains("メールアドレスまたはパスワードが正しくありません。"));
        assert_eq!(pages[0].as_bytes(), pages[1].as_bytes());

        // Both failures are in the staff-action log, with the client's address.
        let failed = s.failures().await;
        let seen: Vec<_> = failed.iter().map(|a| (a.target.as_str(), a.address.as_str())).collect();
        assert_eq!(seen, [("nobody@example.org", "127.0.0.1"), (STAFF, "127.0.0.1")]);

        // Markup typed as the address comes back escaped.
        let typed = "\"><script>alert(1)</script>";
        let html = s.sign_in(typed, PASSWORD).await.text().await.unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
);

both_backends!(
    sign_out_needs_the_token_and_ends_the_session_on_the_server,
    |mut env: TestEnv| async move {
        let s = site(&mut env, &[]).await;
        let session = s.session().await;
        let cookie = format!("outreach_session={session}");
        let csrf = csrf_of(&s.staff(&session).await.text().await.unwrap());
        let refused: [(Form, Option<(&str, &str)>); 5] = [
            (&[], None),
            (&[("csrf", "not-the-token")], None),
            (&[("csrf", "")], None),
            (&[("csrf", &csrf)], Some(("origin", "https://evil.example"))),
            (&[("csrf", &csrf)], Some(("sec-fetch-site", "cross-site"))),
        ];
        for (form, header) in refused {
            let mut request = s.post("/sign-out", form).header("cookie", &cookie);
            if let Some((name, value)) = header {
                request = request.header(name, value);
            }
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), 403, "{form:?} {header:?}");
            assert!(answer.text().await.unwrap().contains("操作できません"));
            assert_eq!(s.staff(&session).await.status(), 200, "still signed in");
        }

        // Another site cannot sign the browser in either (login CSRF).
        let foreign = s
            .post("/sign-in", &[("email", STAFF), ("password", PASSWORD)])
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403);

        // From our own page (its origin is the host it came to): signed out, and the old cookie opens nothing.
        let out = s
            .post("/sign-out", &[("csrf", &csrf)])
            .header("cookie", &cookie)
            .header("origin", &s.base)
            .send()
            .await
            .unwrap();
        assert_eq!((out.status().as_u16(), location(&out)), (303, "/sign-in"));
        assert!(set_cookie(out.headers()).contains("Max-Age=0"));
        let after = s.staff(&session).await;
        assert_eq!(
            (after.status().as_u16(), location(&after)),
            (303, "/sign-in?next=%2Fstaff")
        );
        let rows = s.app.actions(&ActionFilter::default()).await.unwrap();
        assert_eq!(rows.iter().filter(|a| a.action == "user.sign_out").count(), 1);
    }
);

both_backends!(
    a_disabled_accounts_session_stops_working,
    |mut env: TestEnv| async move {
        let s = site(&mut env, &[]).await;
        let session = s.session().await;
        assert_eq!(s.staff(&session).await.status(), 200);
        assert!(s.app.set_user_active(&tester(), STAFF, false).await.unwrap());
        assert_eq!(s.staff(&session).await.status(), 303);
        assert_eq!(s.sign_in(STAFF, PASSWORD).await.status(), 401);
    }
);

both_backends!(
    sign_in_attempts_are_limited_per_address_and_per_client,
    |mut env: TestEnv| async move {
        let limits = [
            ("OUTREACH_WEB__SIGN_IN_PER_MINUTE_PER_ADDRESS", "2"),
            ("OUTREACH_WEB__SIGN_IN_PER_MINUTE_PER_CLIENT", "5"),
        ];
        let s = site(&mut env, &limits).await;
        for _ in 0..2 {
            assert_eq!(s.sign_in(STAFF, "a wrong password!").await.status(), 401);
        }
        // Over the address's limit, even the right password is not checked.
        let limited = s.sign_in(STAFF, PASSWORD).await;
        assert_eq!(limited.status(), 429);
        assert!(limited.headers().get(SET_COOKIE).is_none());
        // Seconds until the address's limit (2 a minute) allows again.
        let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=30).contains(&retry), "{retry}");
        assert!(limited.text().await.unwrap().contains("試行が多すぎます"));
        // Two more addresses from this client reach its limit of 5; a sixth address is refused unchecked.
        for email in ["b@example.org", "c@example.org"] {
            assert_eq!(s.sign_in(email, PASSWORD).await.status(), 401);
        }
        assert_eq!(s.sign_in("d@example.org", PASSWORD).await.status(), 429);
        assert_eq!(s.failures().await.len(), 4, "the refused attempts were never checked");
        let rows = s.app.actions(&ActionFilter::default()).await.unwrap();
        assert!(rows.iter().all(|a| a.action != "user.sign_in"));
    }
);

both_backends!(
    after_sign_in_only_paths_of_this_site_are_followed,
    |mut env: TestEnv| async move {
        let s = site(&mut env, &[("OUTREACH_WEB__SIGN_IN_PER_MINUTE_PER_ADDRESS", "10")]).await;
        let away = s.http.get(format!("{}/staff?tab=1", s.base)).send().await.unwrap();
        assert_eq!(location(&away), "/sign-in?next=%2Fstaff%3Ftab%3D1");
        for (next, goes) in [
            ("/staff?tab=1", "/staff?tab=1"),
            ("//evil.example", "/staff"),
            ("https://evil.example", "/staff"),
            ("/\\evil.example", "/staff"),
        ] {
            let form = [("email", STAFF), ("password", PASSWORD), ("next", next)];
            let answer = s.post("/sign-in", &form).send().await.unwrap();
            assert_eq!((answer.status().as_u16(), location(&answer)), (303, goes), "{next}");
        }
        let page = s
            .http
            .get(format!("{}/sign-in?next=//evil.example", s.base))
            .send()
            .await;
        assert!(page.unwrap().text().await.unwrap().contains("name=\"next\" value=\"\""));
    }
);

both_backends!(
    every_response_has_the_security_headers_and_a_body_limit,
    |mut env: TestEnv| async move {
        let s = site(&mut env, &[]).await;
        let csv = "email,company,contact_name,themes,locale\nm@example.co.jp,株式会社テスト,担当 太郎,telework,ja\n";
        s.app
            .import_members(&tester(), csv.as_bytes(), false, false)
            .await
            .unwrap();
        let member = &s.app.members(None).await.unwrap()[0];
        let token = outreach::mail::token::MemberToken {
            member_id: member.id,
            purpose: outreach::mail::token::Purpose::Preferences,
            expires_day: s.app.now() / 86_400_000 + 30,
            inert: false,
        }
        .sign(&s.app.signing_key().unwrap());
        let mut stylesheet = String::new();
        for (path, status) in [
            (format!("/p/{token}"), 200),
            ("/sign-in".to_owned(), 200),
            ("/u/x".to_owned(), 400),
        ] {
            let answer = s.http.get(format!("{}{path}", s.base)).send().await.unwrap();
            assert_eq!(answer.status(), status, "{path}");
            let h = answer.headers().clone();
            assert!(
                h["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("default-src 'self'; script-src 'self'")
            );
            assert!(
                h["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("frame-ancestors 'none'")
            );
            assert_eq!(h["x-content-type-options"], "nosniff");
            assert_eq!(h["referrer-policy"], "same-origin");
            assert_eq!(h["x-frame-options"], "DENY");
            let html = answer.text().await.unwrap();
            assert!(
                !html.contains("<style") && !html.contains("style=") && !html.contains("<script"),
                "{html}"
            );
            let link = html.split("<link rel=\"stylesheet\" href=\"").nth(1).unwrap();
            stylesheet = link.split('"').next().unwrap().to_owned();
        }
        let css = s.http.get(format!("{}{stylesheet}", s.base)).send().await.unwrap();
        assert_eq!(css.status(), 200);
        assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
        assert!(
            css.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );

        let big = "x".repeat(100 * 1024);
        for path in ["/sign-in".to_owned(), format!("/p/{token}")] {
            // The server answers 413 from the Content-Length and closes without reading the body; a client still
            // writing it may see the connection reset before it reads the answer (an HTTP race, seen once under
            // load in CI). Such an attempt is asked again; every answer read must be the 413.
            let mut answered = None;
            for _ in 0..5 {
                match s.post(&path, &[("email", big.as_str())]).send().await {
                    Ok(answer) => {
                        answered = Some(answer);
                        break;
                    }
                    Err(e) if e.is_request() => continue,
                    Err(e) => panic!("{path}: {e}"),
                }
            }
            let answer = answered.unwrap_or_else(|| panic!("{path}: no answer in five attempts"));
            assert_eq!(answer.status(), 413, "{path}");
            assert_eq!(answer.headers()["x-frame-options"], "DENY");
        }
        assert!(s.failures().await.is_empty());
    }
);

both_backends!(
    forwarded_for_is_believed_only_from_a_trusted_proxy,
    |mut env: TestEnv| async move {
        let direct = site(&mut env, &[]).await;
        let mut proxied_env = TestEnv::new(env.db).await.unwrap();
        let proxied = site(&mut proxied_env, &[("OUTREACH_WEB__TRUSTED_PROXIES", "127.0.0.1")]).await;
        for s in [&direct, &proxied] {
            let answer = s
                .post("/sign-in", &[("email", STAFF), ("password", "a wrong password!")])
                .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 401);
        }
        assert_eq!(direct.failures().await[0].address, "127.0.0.1");
        assert_eq!(proxied.failures().await[0].address, "203.0.113.9");
    }
);
