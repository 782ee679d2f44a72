//! The binary as an operator runs it: a mail server that cannot be reached is loud and `send-due` says so by
//! its exit code, `campaign show` says why mail waits, and a running `serve` reloads its templates on
//! `outreach reload` and SIGHUP, refusing a set that does not compile.

use crate::common;
use crate::support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;

fn members(env: &TestEnv, n: usize) {
    let mut csv = String::from("email,company,contact_name,themes,locale\n");
    for i in 0..n {
        csv.push_str(&format!("s{i}@example.co.jp,株式会社運用,担当 {i},telework,ja\n"));
    }
    let file = env.write("members.csv", csv);
    let (code, _, err) = env.run(&["members", "import", &file]);
    assert_eq!(code, 0, "{err}");
}

fn newsletter(env: &TestEnv) -> String {
    let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!(code, 0, "{err}");
    id.trim().to_owned()
}

both_backends!(an_unreachable_mail_server_is_loud, |mut env: TestEnv| async move {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", port.to_string())
        .set("OUTREACH_WEB__SIGNING_KEY", "service-test-signing-key-0123456789abcdef")
        .set("OUTREACH_LOG", "warn");
    assert_eq!(env.run(&["init"]).0, 0);
    members(&env, 2);
    let id = newsletter(&env);
    assert_eq!(env.run(&["campaign", "send-now", &id]).0, 0);
    let (code, out, err) = env.run(&["send-due"]);
    assert_eq!(code, 4, "nothing could be delivered: {out}{err}");
    assert!(err.contains("could not be reached"), "{err}");
    assert_eq!(
        err.matches("cannot reach the mail server").count(),
        1,
        "one warning per outage, not one per mail: {err}"
    );
    let (_, show, _) = env.run(&["campaign", "show", &id]);
    assert!(
        show.contains("waiting: 2 queued for a retry at") && show.contains("connection failed"),
        "campaign show says why the run waits: {show}"
    );
});

fn serve(env: &TestEnv, log: &std::path::Path) -> Child {
    env.command(&["serve"])
        .env("OUTREACH_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start serve")
}

/// The content hash of every sent mail, in log order.
fn hashes(env: &TestEnv) -> Vec<String> {
    let (code, csv, err) = env.run(&["log", "export", "--format", "csv", "--status", "sent"]);
    assert_eq!(code, 0, "{err}");
    if csv.is_empty() {
        return Vec::new();
    }
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "content_sha256")
        .unwrap();
    reader.records().map(|r| r.unwrap()[column].to_owned()).collect()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

both_backends!(
    serve_reloads_templates_and_keeps_a_good_set,
    |mut env: TestEnv| async move {
        let templates = env.path().join("templates");
        let text = templates.join("newsletter/telework/text.hbs");
        std::fs::create_dir_all(text.parent().unwrap()).unwrap();
        let good =
            std::fs::read_to_string(common::repo().join("templates/email/newsletter/telework/text.hbs")).unwrap();
        std::fs::write(&text, &good).unwrap();
        env.set("OUTREACH_TEMPLATES__DIR", templates.display().to_string())
            .set("OUTREACH_WEB__SIGNING_KEY", "service-test-signing-key-0123456789abcdef")
            .set("OUTREACH_DELIVERY__HEARTBEAT_SECS", "1")
            .set("OUTREACH_DELIVERY__INSTANCE_TIMEOUT_SECS", "3");
        assert_eq!(env.run(&["init"]).0, 0);
        members(&env, 1);
        let id = newsletter(&env);
        let log = env.path().join("serve.log");
        let mut child = serve(&env, &log);
        let send_now = |n: usize| {
            assert_eq!(env.run(&["campaign", "send-now", &id]).0, 0);
            let env = &env;
            async move { wait_for("the mail", || hashes(env).len() == n).await }
        };
        send_now(1).await;

        // A template broken on disk and a reload asked for: refused with file and line, the old set stays.
        std::fs::write(&text, format!("{good}\n{{{{#if}}\n")).unwrap();
        wait_for("serve to register", || env.run(&["instances"]).1.contains("live")).await;
        let (code, out, _) = env.run(&["reload"]);
        assert_eq!((code, out.contains("asked 1 live serve")), (0, true), "{out}");
        wait_for("the refusal", || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("templates not reloaded")
        })
        .await;
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("text.hbs:"),
            "the refusal names the file and line: {logged}"
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
        send_now(2).await;
        let sent = hashes(&env);
        assert_eq!(sent[0], sent[1], "the previous set stays in use");

        // Fixed, and a SIGHUP: the new text goes out from the next mail on.
        std::fs::write(&text, format!("{good}\n再読み込みの確認\n")).unwrap();
        let pid = child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .unwrap()
                .success()
        );
        wait_for("the reload", || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("templates reloaded")
        })
        .await;
        send_now(3).await;
        let sent = hashes(&env);
        assert_ne!(sent[1], sent[2], "the reloaded template is used");
        child.kill().ok();
        child.wait().ok();
    }
);

both_backends!(
    a_part_that_fails_for_good_ends_serve_non_zero,
    |mut env: TestEnv| async move {
        env.set("OUTREACH_WEB__SIGNING_KEY", "service-test-signing-key-0123456789abcdef");
        assert_eq!(env.run(&["init"]).0, 0);
        members(&env, 3);
        let id = newsletter(&env);
        let log = env.path().join("serve.log");
        let mut child = serve(&env, &log);
        wait_for("serve to register", || env.run(&["instances"]).1.contains("live")).await;
        // Somebody breaks the schema under the running service: recording an outcome can never succeed.
        let (code, _, _) = match env.db {
            common::Db::Sqlite => {
                let path = env.url.trim_start_matches("sqlite://").to_owned();
                let status = std::process::Command::new("python3")
                .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE send_log'); c.commit()", &path])
                .status()
                .unwrap();
                (status.code().unwrap_or(-1), String::new(), String::new())
            }
            common::Db::Postgres => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&env.url).await.unwrap();
                sqlx::query("DROP TABLE send_log").execute(&mut conn).await.unwrap();
                (0, String::new(), String::new())
            }
        };
        assert_eq!(code, 0);
        assert_eq!(env.run(&["campaign", "send-now", &id]).0, 0);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "serve kept running with a dead worker"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(status.code(), Some(5), "an internal failure exits 5");
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("worker failed") && logged.contains("send_log"),
            "the reason is logged: {logged}"
        );
    }
);

both_backends!(
    send_due_reports_what_a_live_instance_holds,
    |mut env: TestEnv| async move {
        // Every mail takes the server 2 s to accept: serve holds its batch for a while.
        let smtp = support::smtp::TestSmtp::start();
        env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
            .set("OUTREACH_SMTP__HOST", "127.0.0.1")
            .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
            .set("OUTREACH_SMTP__POOL_SIZE", "2")
            .set("OUTREACH_WEB__SIGNING_KEY", "service-test-signing-key-0123456789abcdef");
        assert_eq!(env.run(&["init"]).0, 0);
        let mut csv = String::from("email,company,contact_name,themes,locale\n");
        for i in 0..6 {
            csv.push_str(&format!("slow{i}@example.co.jp,株式会社低速,担当 {i},telework,ja\n"));
        }
        let file = env.write("members.csv", csv);
        assert_eq!(env.run(&["members", "import", &file]).0, 0);
        let id = newsletter(&env);
        assert_eq!(env.run(&["campaign", "send-now", &id]).0, 0);
        let log = env.path().join("serve.log");
        let mut child = serve(&env, &log);
        wait_for("serve to hold the run", || {
            env.run(&["instances"]).1.contains("holds 6 deliveries")
        })
        .await;
        let (code, out, err) = env.run(&["send-due"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("due deliveries are held by live instance") && out.contains(") until "),
            "send-due says who holds the rest and until when: {out}"
        );
        // --wait waits for them: when it returns, the run is done.
        let (code, out, err) = env.run(&["send-due", "--wait"]);
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains("not finished"), "{out}");
        let (_, show, _) = env.run(&["campaign", "show", &id]);
        assert!(show.contains("sent 6, failed 0, waiting 0"), "{show}");
        child.kill().ok();
        child.wait().ok();
    }
);

/// `serve` told to stop while it is still starting (a restart loop, a deploy that changes its mind) stops cleanly
/// with exit 0, instead of dying of the signal before its handler exists (the soak caught one: status -15).
#[test]
fn a_sigterm_during_startup_exits_cleanly() {
    let env = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestEnv::new(common::Db::Sqlite))
        .unwrap();
    assert_eq!(env.run(&["init"]).0, 0);
    // From when the process has surely reached its own code (a signal before `main` kills any program) to
    // well into opening the database and importing the plan.
    for delay_ms in [30, 100, 250] {
        let child = env
            .command(&["serve"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "SIGTERM {delay_ms} ms after start: {:?}",
            output.status
        );
    }
}
