//! Issue 15, items 3 and 9, against a served instance: slow and silent connections cut off by the header-read
//! and idle timeouts, connections beyond the cap waiting their turn (raw sockets, in process and through the
//! `outreach web` binary with its file descriptors counted); and the HTTP details: the README's headers, the
//! CSV charset, `Retry-After` on every 429, `Cache-Control: no-store` on every page with personal data, and
//! the bilingual page for a token that is not UTF-8.

use crate::common;
use crate::support;
use crate::support::{member_site, sockets};

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Duration;

use common::TestEnv;
use member_site::with_member;
use sockets::*;
use support::staff_site;
use tokio::io::AsyncWriteExt;

/// An application without accounts served in process on a free port with `extra` settings; its address.
async fn served(env: &mut TestEnv, extra: &[(&str, &str)]) -> String {
    for (k, v) in extra {
        env.set(k, *v);
    }
    let app = Arc::new(env.app(Arc::new(outreach::clock::SystemClock)).await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(outreach::web::serve(app, listener, std::future::pending()));
    address
}

const SHORT: [(&str, &str); 2] = [
    ("OUTREACH_WEB__HEADER_READ_TIMEOUT_SECS", "1"),
    ("OUTREACH_WEB__IDLE_TIMEOUT_SECS", "1"),
];

/// Half a header, then a header line now and then: the bytes keep the idle clock from running out, not
/// the header clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_header_is_cut_off_after_the_header_timeout() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let address = served(&mut env, &SHORT).await;
    let mut slow = connect(&address).await;
    slow.write_all(HALF_A_HEADER).await.unwrap();
    let (mut reader, mut writer) = slow.into_split();
    let dribble = tokio::spawn(async move {
        while writer.write_all(b"X-Slow: 1\r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut got = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, async {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = reader.read(&mut buf).await {
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    dribble.abort();
    assert!(closed.is_ok(), "a header sent a line at a time was never cut off");
    assert!(cut_off(&got), "{}", String::from_utf8_lossy(&got));
}

/// A connection that sends nothing is closed by the idle timeout, well before the header timeout (30 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let address = served(
        &mut env,
        &[
            ("OUTREACH_WEB__HEADER_READ_TIMEOUT_SECS", "60"),
            ("OUTREACH_WEB__IDLE_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let mut silent = connect(&address).await;
    let sent = until_closed(&mut silent, PATIENCE).await;
    assert_eq!(
        sent,
        Some(Vec::new()),
        "a silent connection must be closed, with nothing sent"
    );
}

/// Several requests on one connection are answered; once it is idle, it is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_requests_are_answered_then_the_idle_connection_closes() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let address = served(
        &mut env,
        &[
            ("OUTREACH_WEB__HEADER_READ_TIMEOUT_SECS", "60"),
            ("OUTREACH_WEB__IDLE_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let mut kept = connect(&address).await;
    for path in ["/healthz", "/static/site.css", "/healthz"] {
        get(&mut kept, path).await;
        let (status, _) = read_answer(&mut kept).await;
        assert_eq!(status, 200, "{path} on a kept-alive connection");
    }
    let sent = until_closed(&mut kept, PATIENCE).await;
    assert_eq!(sent, Some(Vec::new()), "an idle kept-alive connection must be closed");
}

/// Beyond `max_connections`, a new connection waits: it is answered once a connection closes, not before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_cap_waits_for_a_free_slot() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let address = served(
        &mut env,
        &[
            ("OUTREACH_WEB__HEADER_READ_TIMEOUT_SECS", "60"),
            ("OUTREACH_WEB__IDLE_TIMEOUT_SECS", "60"),
            ("OUTREACH_WEB__MAX_CONNECTIONS", "2"),
        ],
    )
    .await;
    let mut first = connect(&address).await;
    first.write_all(HALF_A_HEADER).await.unwrap();
    let mut second = connect(&address).await;
    second.write_all(HALF_A_HEADER).await.unwrap();
    let mut third = connect(&address).await;
    get(&mut third, "/healthz").await;
    let early = tokio::time::timeout(Duration::from_millis(500), read_answer(&mut third)).await;
    assert!(
        early.is_err(),
        "a third connection was served while two held the only slots"
    );
    drop(first);
    let (status, _) = read_answer(&mut third).await;
    assert_eq!(status, 200, "served once a slot is free");
    assert_eq!(until_closed(&mut second, Duration::from_millis(100)).await, None);
}

/// The attack of the issue through the binary: many half-open connections. The process holds no more of
/// them than the cap (its file descriptors counted), each is cut off in turn, a normal request is still
/// answered, and SIGTERM still stops it (exit 0).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_half_open_connections_do_not_pile_up() {
    const CAP: usize = 4;
    const ATTACKERS: usize = 32;
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    env.set("OUTREACH_WEB__MAX_CONNECTIONS", CAP.to_string());
    for (k, v) in SHORT {
        env.set(k, v);
    }
    let (code, _, err) = env.run(&["init"]);
    assert_eq!(code, 0, "{err}");
    let mut web = Running(
        env.command(&["web"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = web.0.id();
    let mut lines = BufReader::new(web.0.stdout.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            Some(
                l.strip_prefix("listening on http://")?
                    .split_whitespace()
                    .next()?
                    .to_owned(),
            )
        })
        .expect("the web command says where it listens");
    let before = open_files(pid);

    let mut attackers = Vec::new();
    for _ in 0..ATTACKERS {
        let mut c = connect(&address).await;
        c.write_all(HALF_A_HEADER).await.unwrap();
        attackers.push(c);
    }
    let watch = tokio::spawn(async move {
        let mut most = 0;
        for _ in 0..30 {
            most = most.max(open_files(pid));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        most
    });
    let mut normal = connect(&address).await;
    get(&mut normal, "/healthz").await;
    let (status, _) = read_answer(&mut normal).await;
    assert_eq!(status, 200, "a normal request is answered despite the attack");
    for c in &mut attackers {
        let sent = until_closed(c, PATIENCE)
            .await
            .expect("every half-open connection is cut off");
        assert!(cut_off(&sent), "{}", String::from_utf8_lossy(&sent));
    }
    let most = watch.await.unwrap();
    // The database's files may open while serving: a few descriptors of slack, far fewer than the attackers.
    assert!(
        most <= before + CAP + 8,
        "{most} descriptors open, {before} before {ATTACKERS} half-open connections (cap {CAP})"
    );

    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = web.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM must stop the web command with exit 0");
}

fn header(answer: &reqwest::Response, name: &str) -> String {
    answer
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
        .to_owned()
}

/// The README's security section names what the server sends: `same-origin`, not `no-referrer`.
#[tokio::test]
async fn the_readme_names_the_headers_the_server_sends() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let site = staff_site::plain(&mut env, &[]).await;
    let answer = site.http.get(format!("{}/healthz", site.base)).send().await.unwrap();
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    for name in ["Referrer-Policy", "X-Frame-Options", "X-Content-Type-Options"] {
        let said = format!("`{name}: {}`", header(&answer, name));
        assert!(readme.contains(&said), "the README does not say {said}");
    }
    assert!(!readme.contains("`Referrer-Policy: no-referrer`"));
    assert!(readme.contains("`Cache-Control: no-store`") && readme.contains("`Retry-After`"));
}

both_backends!(a_csv_download_names_its_real_charset, |mut env: TestEnv| async move {
    let site = staff_site::plain(&mut env, &[]).await;
    let auditor = site.sign_in("auditor@example.org").await;
    for (query, charset) in [
        ("?encoding=shift_jis", "Shift_JIS"),
        ("?encoding=utf-8", "utf-8"),
        ("", "utf-8"),
    ] {
        for table in ["/audit/log.csv", "/audit/actions.csv"] {
            let url = format!("{}{table}{query}", site.base);
            let answer = site
                .http
                .get(url)
                .header("cookie", &auditor.cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{table}{query}");
            assert_eq!(
                header(&answer, "content-type"),
                format!("text/csv; charset={charset}"),
                "{table}{query}"
            );
        }
    }
});

/// Seconds in `Retry-After`, which must be there.
fn retry_after(answer: &reqwest::Response) -> u64 {
    let value = header(answer, "retry-after");
    value
        .parse()
        .unwrap_or_else(|_| panic!("429 without Retry-After seconds: {value:?}"))
}

both_backends!(every_429_says_when_to_retry, |mut env: TestEnv| async move {
    let limit = [("OUTREACH_WEB__SIGN_IN_PER_MINUTE_PER_ADDRESS", "1")];
    let site = staff_site::plain(&mut env, &limit).await;
    let link = format!("{}/link", site.base);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let answer = site
            .http
            .post(&link)
            .form(&[("email", "m@example.co.jp")])
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
        if answer.status() == 429 {
            let seconds = retry_after(&answer);
            assert!((1..=3600).contains(&seconds), "{seconds}");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    let sign_in = format!("{}/sign-in", site.base);
    let wrong = [("email", "staff@example.org"), ("password", "wrong password!")];
    let first = site.http.post(&sign_in).form(&wrong).send().await.unwrap();
    assert_eq!(first.status(), 401);
    let over = site.http.post(&sign_in).form(&wrong).send().await.unwrap();
    assert_eq!(over.status(), 429);
    assert!((1..=60).contains(&retry_after(&over)));
});

both_backends!(
    pages_with_personal_data_are_never_stored,
    |mut env: TestEnv| async move {
        let m = with_member(&mut env, &[]).await;
        let site = &m.site;
        let staff = site.sign_in("staff@example.org").await;
        let admin = site.sign_in("admin@example.org").await;
        let member = site.member_id("m@example.co.jp").await;
        let url = |path: &str| format!("{}{path}", site.base);
        let mut answers = vec![
            ("GET /u", site.http.get(url(&m.leave)).send().await.unwrap()),
            ("GET /p", site.http.get(url(&m.preferences)).send().await.unwrap()),
            ("GET /u broken", site.http.get(url("/u/broken")).send().await.unwrap()),
            (
                "POST /link",
                site.http
                    .post(url("/link"))
                    .form(&[("email", "x@example.jp")])
                    .send()
                    .await
                    .unwrap(),
            ),
            (
                "GET /staff signed out",
                site.http.get(url("/staff")).send().await.unwrap(),
            ),
            (
                "GET /api/v1/members",
                site.http
                    .get(url("/api/v1/members"))
                    .bearer_auth(&m.token)
                    .send()
                    .await
                    .unwrap(),
            ),
            (
                "GET /api/v1/members no token",
                site.http.get(url("/api/v1/members")).send().await.unwrap(),
            ),
        ];
        let signed_in = [
            (&staff, "/staff".to_owned()),
            (&staff, "/staff/members".to_owned()),
            (&staff, format!("/staff/members/{member}")),
            (&staff, "/audit/log".to_owned()),
            (&staff, "/audit/actions".to_owned()),
            (&admin, "/admin/users".to_owned()),
            (&admin, "/admin/tokens".to_owned()),
            (&admin, "/admin/config".to_owned()),
        ];
        for (browser, path) in signed_in {
            let answer = site
                .http
                .get(url(&path))
                .header("cookie", &browser.cookie)
                .send()
                .await
                .unwrap();
            answers.push(("signed in", answer));
        }
        let post = site
            .http
            .post(url(&m.preferences))
            .form(&[("do", "leave"), ("theme", "telework")]);
        answers.push(("POST /p", post.send().await.unwrap()));
        for (what, answer) in &answers {
            assert_eq!(header(answer, "cache-control"), "no-store", "{what} {}", answer.url());
        }
        let css = site.http.get(url("/static/site.css")).send().await.unwrap();
        assert_eq!(header(&css, "cache-control"), "public, max-age=31536000, immutable");
    }
);

/// `%FF%FE` is no UTF-8: the member gets the same bilingual 400 page as for any broken link.
#[tokio::test]
async fn a_token_that_is_not_utf8_gets_the_bilingual_invalid_link_page() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let site = staff_site::plain(&mut env, &[]).await;
    for path in ["/u/%FF%FE", "/p/%FF%FE", "/u/ok%C3"] {
        let url = format!("{}{path}", site.base);
        let form = [("do", "join"), ("theme", "telework")];
        for answer in [
            site.http.get(&url).send().await.unwrap(),
            site.http.post(&url).form(&form).send().await.unwrap(),
        ] {
            assert_eq!(answer.status(), 400, "{path}");
            assert!(header(&answer, "content-type").starts_with("text/html"), "{path}");
            assert_eq!(header(&answer, "cache-control"), "no-store", "{path}");
            let html = answer.text().await.unwrap();
            assert!(html.contains("このリンクは使用できません"), "{path}: {html}");
            assert!(html.contains("This link cannot be used"), "{path}: {html}");
        }
    }
}
