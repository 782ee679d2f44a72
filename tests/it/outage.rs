//! The database goes away in the middle of a run while `serve` sends: SQLite locked by another process past
//! the busy timeout, PostgreSQL locked and then its connections terminated. No new mail may go on the wire
//! until the outcomes waiting are recorded (at most pool_size accepted without a record), and once it is back
//! every mail that arrived has its own send-log row, each exactly once.

use crate::common;
use crate::support;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Db, TestEnv};
use sqlx::Connection;
use support::smtp::TestSmtp;

const MEMBERS: usize = 300;
const POOL: usize = 4;

fn sent_rows(env: &TestEnv) -> usize {
    let (code, out, err) = env.run(&["log", "list", "--status", "sent"]);
    assert_eq!(code, 0, "{err}");
    out.lines().count()
}

both_backends!(database_outage_mid_run_loses_no_record, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
        .set("OUTREACH_SMTP__POOL_SIZE", POOL.to_string())
        .set("OUTREACH_WEB__SIGNING_KEY", "outage-test-signing-key-0123456789abcdef")
        .set("OUTREACH_DELIVERY__RATE_PER_SECOND", "60")
        .set("OUTREACH_DELIVERY__BATCH_SIZE", "20");
    assert_eq!(env.run(&["init"]).0, 0);
    let mut csv = String::from("email,company,contact_name,themes,locale\n");
    for i in 0..MEMBERS {
        csv.push_str(&format!("o{i:04}@example.co.jp,株式会社停電,担当 {i},telework,ja\n"));
    }
    let file = env.write("members.csv", csv);
    assert_eq!(env.run(&["members", "import", &file]).0, 0);
    let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.run(&["campaign", "send-now", id.trim()]).0, 0);

    let mut serve = env
        .command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        smtp.wait_for(40, Duration::from_secs(60)),
        "serve did not start sending"
    );

    // The outage: every write of the service waits or fails for longer than SQLite's busy timeout (10 s).
    let (before, during) = match env.db {
        Db::Sqlite => {
            let path = env.url.trim_start_matches("sqlite://").to_owned();
            let mut lock = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                .await
                .unwrap();
            sqlx::query("BEGIN EXCLUSIVE").execute(&mut lock).await.unwrap();
            let before = smtp.messages().len();
            tokio::time::sleep(Duration::from_secs(13)).await;
            let during = smtp.messages().len();
            sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
            (before, during)
        }
        Db::Postgres => {
            let mut lock = sqlx::PgConnection::connect(&env.url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
            // In the order the service writes them (deliveries, then the send log), so this waits for a group
            // commit in progress instead of deadlocking with it.
            sqlx::query("LOCK TABLE deliveries, send_log IN ACCESS EXCLUSIVE MODE")
                .execute(&mut lock)
                .await
                .unwrap();
            let before = smtp.messages().len();
            tokio::time::sleep(Duration::from_secs(6)).await;
            // Then the service's connections are cut, as when the database restarts.
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .execute(&mut lock)
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_secs(3)).await;
            let during = smtp.messages().len();
            sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
            (before, during)
        }
    };
    assert!(
        during - before <= POOL,
        "{} mails were accepted while their outcomes could not be recorded (pool_size {POOL})",
        during - before
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    while sent_rows(&env) < MEMBERS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    serve.kill().ok();
    serve.wait().ok();
    assert_eq!(sent_rows(&env), MEMBERS, "every delivery ends sent, once in the log");
    let mut arrived: HashMap<String, usize> = HashMap::new();
    for m in smtp.messages() {
        *arrived.entry(m.rcpt_to[0].to_lowercase()).or_default() += 1;
    }
    assert_eq!(arrived.len(), MEMBERS, "somebody got no mail");
    assert!(arrived.values().all(|n| *n == 1), "no second copies without a crash");
    let (_, log, _) = env.run(&["log", "list", "--status", "sent"]);
    for who in arrived.keys() {
        assert!(
            log.contains(&format!("\t{who}\t")),
            "{who} received a mail the log does not list"
        );
    }
});
