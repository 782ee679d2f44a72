//! The JSON API under /api/v1 as a program reaches it: bearer tokens, roles per route (driven by the OpenAPI
//! document, so a new route cannot escape the checks), the staff-action log of its changes, keyset pages of the
//! send log, JSON errors, and the committed OpenAPI document.
//!
//! After changing the API, regenerate the committed document with
//! `OUTREACH_WRITE_OPENAPI=1 cargo test --test it api::openapi`.

use crate::common;
use crate::support;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{TestEnv, tester};
use outreach::Application;
use outreach::domain::account::Role;
use outreach::domain::plan::Channel;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::rig::*;
use support::smtp::TestSmtp;

const PASSWORD: &str = "correct horse battery staple";
const MEMBERS: [&str; 7] = [
    "a@example.co.jp",
    "b@example.co.jp",
    "c@example.co.jp",
    "d@example.co.jp",
    "e@example.co.jp",
    "f@example.co.jp",
    "g@example.co.jp",
];

/// An application with a sent newsletter (seven send-log rows), a scheduled campaign, an advisor, one user and
/// token per role, served on a free port.
struct Served {
    app: Arc<Application>,
    clock: outreach::clock::ManualClock,
    base: String,
    http: reqwest::Client,
    admin: String,
    staff: String,
    auditor: String,
    /// A campaign that is scheduled.
    scheduled: i64,
}

async fn served(env: &mut TestEnv, smtp: &TestSmtp) -> Served {
    let r = rig(env, smtp, "2020-06-01T08:00", &[]).await;
    newsletter_fired(&r, &MEMBERS).await;
    assert_eq!(r.worker.drain().await.unwrap().sent, MEMBERS.len() as u64);
    let scheduled = campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * 1")).await;
    r.app
        .import_advisors(
            &tester(),
            "email,name,branch\nsato@cci.example,佐藤 花子,中央支部\n".as_bytes(),
            false,
            false,
        )
        .await
        .unwrap();
    let Rig { app, clock, .. } = r;
    let mut tokens = Vec::new();
    for (email, role) in [
        ("admin@example.org", Role::Admin),
        ("staff@example.org", Role::Staff),
        ("auditor@example.org", Role::Auditor),
    ] {
        app.add_user(&tester(), email, role, PASSWORD).await.unwrap();
        tokens.push(app.create_token(&tester(), email, "test", None).await.unwrap().1);
    }
    let app = Arc::new(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app.clone(), listener, std::future::pending()));
    let [admin, staff, auditor] = <[String; 3]>::try_from(tokens).unwrap();
    Served {
        app,
        clock,
        base,
        http: reqwest::Client::new(),
        admin,
        staff,
        auditor,
        scheduled,
    }
}

impl Served {
    /// A request with `token`, and a JSON body when given; the status and the JSON answer (null when none).
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Everything a change could touch, to compare before and after.
    async fn state(&self) -> String {
        let store = &self.app.store;
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            store.actions(&Default::default()).await.unwrap(),
            store.campaigns().await.unwrap(),
            store.members(None).await.unwrap(),
            store.advisors().await.unwrap(),
            store.users().await.unwrap(),
            // Not last_used_at: the request itself notes the token's use.
            store
                .api_tokens()
                .await
                .unwrap()
                .iter()
                .map(|t| (t.id, t.expires_at, t.revoked_at))
                .collect::<Vec<_>>(),
            store.runs(None).await.unwrap(),
        )
    }
}

/// Asserts an error answer: the status, the code, a message, and the field.
fn assert_error(answer: &(StatusCode, Value), status: u16, code: &str, field: Option<&str>) {
    let (got, body) = answer;
    assert_eq!(got.as_u16(), status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body["field"].as_str(), field, "{body}");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(3),
        "only code, message, field: {body}"
    );
}

/// Every operation of the served document: (method, path template, least role, has a request body).
fn operations(document: &Value) -> Vec<(Method, String, Option<String>, bool)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let scope = operation["security"][0]["bearer"][0].as_str().map(str::to_owned);
            found.push((method, path.clone(), scope, operation.get("requestBody").is_some()));
        }
    }
    found
}

/// A concrete path and a valid body for an operation of the document: a route without a sample here fails the
/// role tests until one is added.
fn concrete(s: &Served, method: &Method, path: &str, run: i64, token: i64) -> (String, Option<Value>) {
    let body = match path {
        _ if method == Method::GET => None,
        "/campaigns" => Some(json!({"name": "API", "theme": "telework", "channel": "newsletter", "cron": "0 9 * * 2"})),
        "/members/{email}/unsubscribe" => Some(json!({"theme": "telework"})),
        "/members/{email}/suppress" | "/members/{email}/unsuppress" => Some(json!({"reason": "by the API test"})),
        "/users" => Some(json!({"email": "new@example.org", "role": "staff", "password": PASSWORD})),
        _ => None,
    };
    let id = if path.starts_with("/runs/") {
        run
    } else if path.starts_with("/tokens/") {
        token
    } else {
        s.scheduled
    };
    let email = if path.starts_with("/advisors/") {
        "sato@cci.example"
    } else {
        MEMBERS[0]
    };
    (path.replace("{id}", &id.to_string()).replace("{email}", email), body)
}

both_backends!(
    tokens_authenticate_and_nothing_else_does,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let s = served(&mut env, &smtp).await;
        let (_, revoked) = s
            .app
            .create_token(&tester(), "staff@example.org", "revoked", None)
            .await
            .unwrap();
        let revoked_id = s.app.api_tokens().await.unwrap().iter().map(|t| t.id).max().unwrap();
        s.app.revoke_token(&tester(), revoked_id).await.unwrap();
        let (_, expiring) = s
            .app
            .create_token(&tester(), "staff@example.org", "expiring", Some(1))
            .await
            .unwrap();
        assert_eq!(s.get("/campaigns", &expiring).await.0, 200, "live until it expires");
        s.clock.set(s.app.now() + 2 * 86_400_000);

        for path in ["/campaigns", "/send-log", "/users"] {
            let none = s.call(Method::GET, path, None, None).await;
            assert_error(&none, 401, "unauthorized", None);
            for bad in ["otk_not-a-token", revoked.as_str(), expiring.as_str()] {
                assert_error(&s.get(path, bad).await, 401, "unauthorized", None);
            }
            // A token under another scheme is not a bearer token.
            let basic = s
                .http
                .get(format!("{}{path}", s.base))
                .header("authorization", format!("Basic {}", s.admin))
                .send()
                .await
                .unwrap();
            assert_eq!(basic.status(), 401);
            assert_eq!(basic.headers()["www-authenticate"], "Bearer");
        }
        // A change without a live token changes nothing.
        let before = s.state().await;
        let path = format!("/campaigns/{}/pause", s.scheduled);
        assert_error(&s.post(&path, &revoked, json!({})).await, 401, "unauthorized", None);
        assert_error(&s.post(&path, &expiring, json!({})).await, 401, "unauthorized", None);
        assert_eq!(s.state().await, before);
        // Live tokens of every role read; the document needs none.
        for token in [&s.admin, &s.staff, &s.auditor] {
            assert_eq!(s.get("/campaigns", token).await.0, 200);
        }
        assert_eq!(s.call(Method::GET, "/openapi.json", None, None).await.0, 200);
    }
);

both_backends!(
    every_route_refuses_a_role_below_its_own,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let s = served(&mut env, &smtp).await;
        let (_, document) = s.call(Method::GET, "/openapi.json", None, None).await;
        let run = s.app.store.runs(None).await.unwrap()[0].id;
        let token = s.app.api_tokens().await.unwrap()[0].id;
        let operations = operations(&document);
        assert!(operations.len() >= 20, "{operations:?}");
        let (mut staff_checked, mut auditor_checked) = (0, 0);
        for (method, path, scope, has_body) in &operations {
            let (url, body) = concrete(&s, method, path, run, token);
            assert_eq!(
                *has_body,
                body.is_some(),
                "{method} {path}: add a sample body in concrete()"
            );
            let scope = scope.as_deref();
            // Changes need staff or admin; reads any role (the document itself none).
            match (method == Method::GET, scope) {
                (true, None) => assert_eq!(path, "/openapi.json"),
                (true, Some("auditor" | "admin")) | (false, Some("staff" | "admin")) => {}
                other => panic!("{method} {path}: unexpected role {other:?}"),
            }
            let below: &[&str] = match scope {
                Some("admin") => &[&s.staff, &s.auditor],
                Some("staff") => &[&s.auditor],
                _ => &[],
            };
            for token in below {
                let before = s.state().await;
                let answer = s.call(method.clone(), &url, Some(token), body.clone()).await;
                assert_error(&answer, 403, "forbidden", None);
                assert_eq!(s.state().await, before, "{method} {path} changed something");
                if *token == s.staff {
                    staff_checked += 1;
                } else {
                    auditor_checked += 1;
                }
            }
            // The role the route names gets through (the route is routed, and the role check is not too strict).
            if method == Method::GET {
                let token = if scope == Some("admin") { &s.admin } else { &s.auditor };
                let (status, answer) = s.get(&url, token).await;
                assert_eq!(status, 200, "{method} {path}: {answer}");
            }
        }
        assert!(
            staff_checked >= 4 && auditor_checked >= 15,
            "{staff_checked} {auditor_checked}"
        );

        // The same changes by staff go through (so the 403s above were the role's).
        let path = format!("/campaigns/{}/pause", s.scheduled);
        assert_eq!(s.post(&path, &s.staff, json!({})).await.0, 200);
        let (status, _) = s.post(&format!("/tokens/{token}/revoke"), &s.admin, json!({})).await;
        assert_eq!(status, 200);
    }
);

both_backends!(
    a_change_through_the_api_is_the_users_with_the_clients_address,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let s = served(&mut env, &smtp).await;
        let (status, created) = s
            .post(
                "/campaigns",
                &s.staff,
                json!({"name": "API配信", "theme": "telework", "channel": "newsletter", "cron": "0 9 * * 1"}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let firings = created["next_firings"].as_array().unwrap();
        assert_eq!(firings.len(), 5, "{created}");
        assert_eq!(
            firings[0], "2020-06-08T09:00:00.000+09:00",
            "the next Monday, with its offset"
        );
        let id = created["id"].as_i64().unwrap();
        let (status, paused) = s.post(&format!("/campaigns/{id}/pause"), &s.staff, json!({})).await;
        assert_eq!((status.as_u16(), paused["state"].as_str()), (200, Some("paused")));
        let (status, _) = s
            .post(
                &format!("/members/{}/suppress", MEMBERS[1]),
                &s.staff,
                json!({"reason": "宛先不明"}),
            )
            .await;
        assert_eq!(status, 200);

        let (_, page) = s.get("/actions?actor=staff@example.org", &s.auditor).await;
        let rows: Vec<(&str, &str, &str, &str)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["action"].as_str().unwrap(),
                    r["actor_kind"].as_str().unwrap(),
                    r["address"].as_str().unwrap(),
                    r["target"].as_str().unwrap(),
                )
            })
            .collect();
        let campaign = format!("campaign {id}");
        assert_eq!(
            rows,
            [
                ("campaign.create", "user", "127.0.0.1", campaign.as_str()),
                ("campaign.pause", "user", "127.0.0.1", campaign.as_str()),
                ("member.suppress", "user", "127.0.0.1", MEMBERS[1]),
            ]
        );
        let member = s.app.store.member(MEMBERS[1]).await.unwrap().unwrap();
        assert_eq!(member.status.as_str(), "suppressed");
        // The command line's changes still carry no address.
        let own = s.app.store.actions(&Default::default()).await.unwrap();
        assert!(
            own.iter()
                .filter(|a| a.actor_kind == "operator")
                .all(|a| a.address.is_empty())
        );
    }
);

both_backends!(keyset_pages_return_each_row_once, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let s = served(&mut env, &smtp).await;
    let rows = s.app.send_log(&Default::default(), 0, 1000).await.unwrap();
    let all: Vec<i64> = rows.iter().map(|r| r.id).collect();
    assert_eq!(all.len(), MEMBERS.len());
    let filtered = format!("&campaign={}&outcome=sent&channel=newsletter", rows[0].campaign_id);
    for (query, expected) in [("", all.clone()), (filtered.as_str(), all.clone())] {
        let mut seen = Vec::new();
        let mut after: Option<i64> = None;
        let mut pages = 0;
        loop {
            let cursor = after.map_or_else(String::new, |a| format!("&after={a}"));
            let (status, page) = s.get(&format!("/send-log?limit=3{cursor}{query}"), &s.auditor).await;
            assert_eq!(status, 200, "{page}");
            pages += 1;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|r| r["id"].as_i64().unwrap()));
            match page["next"].as_i64() {
                Some(next) => after = Some(next),
                None => break,
            }
            assert!(pages < 10, "the pages never end");
        }
        assert_eq!(seen, expected, "each row once, in id order ({query})");
        assert_eq!(pages, 3, "3 + 3 + 1");
    }
    // A filter that matches nothing, and a time window, are pages too.
    let (_, page) = s.get("/send-log?outcome=failed", &s.auditor).await;
    assert_eq!(
        (page["items"].as_array().unwrap().len(), &page["next"]),
        (0, &Value::Null)
    );
    let (_, page) = s
        .get(
            "/send-log?since=2020-06-01T09:00:00%2B09:00&until=2020-06-01T10:00:00%2B09:00",
            &s.auditor,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), MEMBERS.len(), "{page}");
    let first = &page["items"][0];
    assert!(first["at"].as_str().unwrap().ends_with("+09:00"), "{first}");

    // The staff-action log pages the same way.
    let total = s.app.store.actions(&Default::default()).await.unwrap().len();
    let mut seen = BTreeSet::new();
    let mut after = 0;
    loop {
        let (_, page) = s.get(&format!("/actions?limit=2&after={after}"), &s.auditor).await;
        for row in page["items"].as_array().unwrap() {
            assert!(seen.insert(row["id"].as_i64().unwrap()), "a row twice: {row}");
        }
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
});

both_backends!(
    errors_are_json_with_code_message_and_field,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let s = served(&mut env, &smtp).await;
        assert_error(&s.get("/campaigns/999999", &s.auditor).await, 404, "not_found", None);
        assert_error(
            &s.post("/campaigns/999999/pause", &s.staff, json!({})).await,
            404,
            "not_found",
            None,
        );
        // A scheduled campaign cannot be resumed.
        let resume = format!("/campaigns/{}/resume", s.scheduled);
        assert_error(&s.post(&resume, &s.staff, json!({})).await, 409, "conflict", None);
        // A body that is not a campaign: 422, naming the field; not JSON at all: 422 too.
        let wrong_type = s.post("/campaigns", &s.staff, json!({"name": 5})).await;
        assert_error(&wrong_type, 422, "invalid_body", Some("name"));
        let missing = s.post("/campaigns", &s.staff, json!({"name": "x"})).await;
        assert_error(&missing, 422, "invalid_body", None);
        let unknown = s
            .post(
                "/members/a@example.co.jp/suppress",
                &s.staff,
                json!({"reason": "x", "why": 1}),
            )
            .await;
        assert_eq!(
            (unknown.0.as_u16(), &unknown.1["code"]),
            (422, &json!("invalid_body")),
            "{unknown:?}"
        );
        let garbled = s
            .http
            .post(format!("{}/campaigns", s.base))
            .bearer_auth(&s.staff)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(garbled.status(), 422);
        // Bad input: 400, with the field where it is known.
        assert_error(
            &s.get("/send-log?limit=0", &s.auditor).await,
            400,
            "invalid",
            Some("limit"),
        );
        assert_error(
            &s.get("/send-log?since=yesterday", &s.auditor).await,
            400,
            "invalid",
            Some("since"),
        );
        assert_error(
            &s.get("/send-log?after=x", &s.auditor).await,
            400,
            "invalid_query",
            None,
        );
        assert_error(&s.get("/campaigns/abc", &s.auditor).await, 400, "invalid_path", None);
        let both = s
            .post(
                "/campaigns",
                &s.staff,
                json!({"name": "x", "theme": "telework", "channel": "newsletter", "at": "2020-07-01T09:00", "cron": "0 9 * * 1"}),
            )
            .await;
        assert_error(&both, 400, "invalid", None);
        let channel = s
            .post(
                "/campaigns",
                &s.staff,
                json!({"name": "x", "theme": "telework", "channel": "fax", "cron": "0 9 * * 1"}),
            )
            .await;
        assert_error(&channel, 400, "invalid", Some("channel"));
        let no_reason = s
            .post("/members/a@example.co.jp/suppress", &s.staff, json!({"reason": " "}))
            .await;
        assert_error(&no_reason, 400, "invalid", Some("reason"));
        assert_error(&s.get("/nothing-here", &s.auditor).await, 404, "no_route", None);
        // The API's fallback answers under /api/v1 only, not for the member pages' paths.
        let root = s.base.trim_end_matches("/api/v1");
        let outside = s.http.get(format!("{root}/nothing-here")).send().await.unwrap();
        assert_eq!(outside.status(), 404);
        assert!(!outside.text().await.unwrap().contains("no_route"));
        let not_json = s
            .http
            .post(format!("{}/campaigns", s.base))
            .bearer_auth(&s.staff)
            .body("name=x")
            .send()
            .await
            .unwrap();
        assert_eq!(not_json.status(), 415);
    }
);

/// Serves a fresh application and fetches its document (it does not depend on the backend or the data).
async fn served_document() -> String {
    let env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let app = Arc::new(env.app(Arc::new(outreach::clock::ManualClock::at(0))).await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app, listener, std::future::pending()));
    let answer = reqwest::get(format!("{base}/api/v1/openapi.json")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/json");
    answer.text().await.unwrap()
}

#[tokio::test]
async fn openapi_document_is_the_committed_one() {
    let served = served_document().await;
    let document: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let committed_path = common::repo().join("docs/openapi.json");
    if std::env::var_os("OUTREACH_WRITE_OPENAPI").is_some() {
        std::fs::create_dir_all(committed_path.parent().unwrap()).unwrap();
        std::fs::write(&committed_path, &served).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == served,
        "docs/openapi.json differs from the document the API serves: regenerate it with \
         `OUTREACH_WRITE_OPENAPI=1 cargo test --test it api::openapi` and commit it"
    );
}

/// The router is built only from `utoipa_axum::routes!`, which takes each handler's documented path and method:
/// no route of the API can be added beside the document. (Each documented route is called in
/// `every_route_refuses_a_role_below_its_own`, so none is documented and missing.)
#[tokio::test]
async fn openapi_document_has_every_route() {
    let folder = common::repo().join("src/web/api");
    let mut registered = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        for bypass in [".route(", ".route_service(", ".nest(", ".nest_service("] {
            assert!(
                !code.contains(bypass),
                "{}: `{bypass}` adds a route the OpenAPI document does not see; use routes!(handler)",
                path.display()
            );
        }
        registered += code.matches("routes!(").count();
    }
    let document: Value = serde_json::from_str(&served_document().await).unwrap();
    let documented: usize = document["paths"].as_object().unwrap().len();
    assert_eq!(registered, documented, "one routes!(…) per documented path");
}
