//! kill -9 in the middle of a run, against a real SMTP server, then a restart: every delivery ends sent, none
//! is lost, and a recipient gets a second copy only if the server had accepted the mail as the process died
//! (at most pool_size such copies, with the same Message-ID).

use crate::common;
use crate::support;

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use support::smtp::TestSmtp;

const MEMBERS: usize = 400;
const POOL: usize = 4;

fn serve(env: &TestEnv) -> Child {
    env.command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start outreach serve")
}

/// `members` subscribers of a newsletter whose run has started (send-now), sending to `smtp`; returns the
/// campaign id.
fn run_started(env: &mut TestEnv, smtp: &TestSmtp, members: usize, extra: &[(&str, &str)]) -> String {
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
        .set("OUTREACH_SMTP__POOL_SIZE", POOL.to_string())
        .set("OUTREACH_WEB__SIGNING_KEY", "crash-test-signing-key-0123456789abcdef");
    for (k, v) in extra {
        env.set(k, *v);
    }
    assert_eq!(env.run(&["init"]).0, 0);
    let mut csv = String::from("email,company,contact_name,themes,locale\n");
    for i in 0..members {
        csv.push_str(&format!(
            "m{i:04}@example.co.jp,株式会社クラッシュ,担当 {i},telework,ja\n"
        ));
    }
    let file = env.write("members.csv", csv);
    assert_eq!(env.run(&["members", "import", &file]).0, 0);
    let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!(code, 0, "{err}");
    let id = id.trim().to_owned();
    assert_eq!(env.run(&["campaign", "send-now", &id]).0, 0);
    id
}

fn sent_rows(env: &TestEnv) -> usize {
    let (code, out, err) = env.run(&["log", "list", "--status", "sent"]);
    assert_eq!(code, 0, "{err}");
    out.lines().count()
}

both_backends!(kill_9_mid_run_loses_nothing, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    // Slow enough to be killed in the middle. The lease stays at its default (minutes): what brings the mail
    // back within seconds is the dead instance's silence, in database time.
    let extra = [
        ("OUTREACH_DELIVERY__BATCH_SIZE", "20"),
        ("OUTREACH_DELIVERY__RATE_PER_SECOND", "150"),
        ("OUTREACH_DELIVERY__HEARTBEAT_SECS", "1"),
        ("OUTREACH_DELIVERY__INSTANCE_TIMEOUT_SECS", "3"),
        ("OUTREACH_SMTP__TIMEOUT_SECS", "1"),
    ];
    let id = run_started(&mut env, &smtp, MEMBERS, &extra);

    // First life: killed with SIGKILL once some mail has gone out, well before the end.
    let mut first = serve(&env);
    assert!(
        smtp.wait_for(MEMBERS / 4, Duration::from_secs(60)),
        "serve did not start sending"
    );
    first.kill().expect("kill -9");
    first.wait().expect("reap");
    let killed = Instant::now();
    let before_restart = smtp.messages().len();
    assert!(
        before_restart < MEMBERS,
        "killed too late to test anything ({before_restart})"
    );

    // Second life: `send-due --wait` takes the dead instance's deliveries over and finishes the run; it
    // neither waits for the lease nor reports done while any is unsent.
    let (code, out, err) = env.run(&["send-due", "--wait"]);
    assert_eq!(code, 0, "{out}{err}");
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "the takeover waited for the lease instead of the heartbeat: {took:?}"
    );
    eprintln!("kill -9 → run finished by send-due --wait in {took:?}: {out}");
    // Past the instance timeout the killed process is listed as dead.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (code, instances, _) = env.run(&["instances"]);
    assert_eq!(code, 0);
    let pid = first.id().to_string();
    assert!(
        instances.lines().any(|l| l.contains("\tdead\t")
            && l.contains(&format!("serve pid {pid}\t"))
            && l.contains("holds nothing")),
        "the killed serve is listed as dead, holding nothing: {instances}"
    );
    assert!(
        instances.lines().any(|l| l.contains("\tstopped\tsend-due")),
        "{instances}"
    );

    assert_eq!(sent_rows(&env), MEMBERS, "every delivery ends sent, once in the log");
    let mut copies: HashMap<String, Vec<String>> = HashMap::new();
    for m in smtp.messages() {
        let raw = String::from_utf8_lossy(&m.data).into_owned();
        let id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap_or_default()
            .to_owned();
        copies.entry(m.rcpt_to[0].to_lowercase()).or_default().push(id);
    }
    assert_eq!(copies.len(), MEMBERS, "somebody got no mail");
    let duplicates: Vec<_> = copies.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        duplicates.len() <= POOL,
        "more second copies than connections in flight: {duplicates:?}"
    );
    for (who, ids) in duplicates {
        assert!(
            ids.len() == 2 && ids[0] == ids[1],
            "{who}: a second copy must carry the same Message-ID: {ids:?}"
        );
    }
    let (_, show, _) = env.run(&["campaign", "show", &id]);
    assert!(
        show.contains(&format!("sent {MEMBERS}, failed 0, waiting 0, not sent 0")),
        "{show}"
    );

    // kill -9 lost no log row from the verifiable log: what the killed serve had not sealed, send-due sealed
    // before it said done; every attempt is one leaf and the log verifies.
    let (code, out, err) = env.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 committed entries not yet sealed"), "{out}");
    let leaves = common::scalar(&env, "SELECT COUNT(*) FROM audit_leaves WHERE kind = 'send_attempt'").await;
    assert_eq!(leaves, common::scalar(&env, "SELECT COUNT(*) FROM send_log").await);
});

both_backends!(sigterm_finishes_in_flight_and_exits_0, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let extra = [
        ("OUTREACH_DELIVERY__BATCH_SIZE", "50"),
        ("OUTREACH_DELIVERY__RATE_PER_SECOND", "100"),
        ("OUTREACH_DELIVERY__SHUTDOWN_GRACE_SECS", "10"),
    ];
    let id = run_started(&mut env, &smtp, 300, &extra);

    let mut child = serve(&env);
    assert!(
        smtp.wait_for(30, Duration::from_secs(60)),
        "serve did not start sending"
    );
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(12),
            "not stopped within shutdown_grace_secs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0), "SIGTERM must exit 0");
    // Everything the server accepted is in the log; the rest waits, none is held by the stopped process.
    let arrived = smtp.messages().len();
    assert!(arrived < 300, "stopped too late to test anything");
    assert_eq!(sent_rows(&env), arrived, "a mail was accepted but not recorded");
    let (_, show, _) = env.run(&["campaign", "show", &id]);
    assert!(
        show.contains(&format!(
            "sent {arrived}, failed 0, waiting {}, not sent 0",
            300 - arrived
        )),
        "{show}"
    );
    // A graceful stop leaves no lease behind: the next start sends the rest at once, and nobody twice.
    let mut again = serve(&env);
    assert!(
        smtp.wait_for(300, Duration::from_secs(60)),
        "the rest was not sent after restart"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    again.kill().ok();
    again.wait().ok();
    assert_eq!(
        smtp.messages().len(),
        300,
        "a graceful stop must cause no second copies"
    );
});

both_backends!(two_instances_send_each_mail_once, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let extra = [
        ("OUTREACH_DELIVERY__BATCH_SIZE", "25"),
        ("OUTREACH_DELIVERY__RATE_PER_SECOND", "150"),
    ];
    let id = run_started(&mut env, &smtp, 400, &extra);
    // Two instances of the service on one database, started together.
    let mut a = serve(&env);
    let mut b = serve(&env);
    let deadline = Instant::now() + Duration::from_secs(120);
    while sent_rows(&env) < 400 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for child in [&mut a, &mut b] {
        child.kill().ok();
        child.wait().ok();
    }
    assert_eq!(sent_rows(&env), 400);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 400, "each mail once");
    let recipients: std::collections::HashSet<_> = messages.iter().map(|m| m.rcpt_to[0].clone()).collect();
    assert_eq!(recipients.len(), 400);
    // Both did part of the work.
    let (_, csv, _) = env.run(&["log", "export", "--format", "csv", "--campaign", &id]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let sender = reader.headers().unwrap().iter().position(|h| h == "sender").unwrap();
    let senders: std::collections::HashSet<String> = reader.records().map(|r| r.unwrap()[sender].to_owned()).collect();
    assert_eq!(senders.len(), 2, "both instances sent: {senders:?}");
});
