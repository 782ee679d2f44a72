//! A dead instance on this machine is known dead at once, not after `instance_timeout_secs`: its process is gone
//! (or its process id belongs to a newer process). Through the built binary, with the instance timeout at 300 s
//! so that waiting for the heartbeat to go stale would visibly fail.

mod common;
mod support;

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use support::smtp::TestSmtp;

const POOL: usize = 4;

fn serve(env: &TestEnv) -> Child {
    env.command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start outreach serve")
}

/// `members` subscribers whose addresses start with `slow` (the test server answers them late), a newsletter
/// to them whose run has started; returns the campaign id.
fn slow_run_started(env: &mut TestEnv, smtp: &TestSmtp, members: usize) -> String {
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", smtp.port().to_string())
        .set("OUTREACH_SMTP__POOL_SIZE", POOL.to_string())
        .set("OUTREACH_WEB__SIGNING_KEY", "takeover-test-signing-key-0123456789abcdef")
        .set("OUTREACH_DELIVERY__BATCH_SIZE", "40")
        .set("OUTREACH_DELIVERY__HEARTBEAT_SECS", "1")
        // Far longer than the test may take: only the judgement of the process can bring the mail back.
        .set("OUTREACH_DELIVERY__INSTANCE_TIMEOUT_SECS", "300")
        .set("OUTREACH_DELIVERY__LEASE_SECS", "300");
    assert_eq!(env.run(&["init"]).0, 0);
    let mut csv = String::from("email,company,contact_name,themes,locale\n");
    for i in 0..members {
        csv.push_str(&format!("slow{i:04}@example.co.jp,株式会社引継,担当 {i},telework,ja\n"));
    }
    let file = env.write("members.csv", csv);
    assert_eq!(env.run(&["members", "import", &file]).0, 0);
    let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!(code, 0, "{err}");
    let id = id.trim().to_owned();
    assert_eq!(env.run(&["campaign", "send-now", &id]).0, 0);
    id
}

/// The send log's sent rows: delivery recipient → the instance that sent it.
fn sent_by(env: &TestEnv, campaign: &str) -> HashMap<String, String> {
    let (code, csv, err) = env.run(&["log", "export", "--format", "csv", "--campaign", campaign]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("CSV header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (recipient, sender, outcome) = (column("recipient"), column("sender"), column("outcome"));
    let mut sent = HashMap::new();
    for row in reader.records() {
        let row = row.expect("CSV row");
        if &row[outcome] == "sent" {
            let earlier = sent.insert(row[recipient].to_lowercase(), row[sender].to_owned());
            assert!(earlier.is_none(), "{} sent twice in the log", &row[recipient]);
        }
    }
    sent
}

/// Waits until `done` holds, checking every 100 ms, for at most `limit`.
async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_backends!(send_due_takes_over_a_killed_serve_at_once, |mut env: TestEnv| async move {
    const MEMBERS: usize = 300;
    let smtp = TestSmtp::start_with_slow(Duration::from_millis(100));
    let id = slow_run_started(&mut env, &smtp, MEMBERS);

    let mut first = serve(&env);
    let pid = first.id();
    assert!(
        smtp.wait_for(MEMBERS / 5, Duration::from_secs(60)),
        "serve did not start sending"
    );
    first.kill().expect("kill -9");
    first.wait().expect("reap");
    let killed = Instant::now();
    let before = smtp.messages().len();
    assert!(before < MEMBERS - 50, "killed too late to test anything ({before})");

    // At once, without --wait: the killed serve's deliveries are this send-due's to finish.
    let (code, out, err) = env.run(&["send-due"]);
    let took = killed.elapsed();
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("not finished"), "the killed serve was taken for live: {out}");
    assert!(
        took < Duration::from_secs(60),
        "finished {took:?} after the kill: not by the process check"
    );
    eprintln!("kill -9 → run finished by send-due in {took:?} ({before} mails before): {out}");

    let (_, show, _) = env.run(&["campaign", "show", &id]);
    assert!(
        show.contains(&format!("sent {MEMBERS}, failed 0, waiting 0, not sent 0")),
        "{show}"
    );
    let (code, instances, _) = env.run(&["instances"]);
    assert_eq!(code, 0);
    assert!(
        instances.lines().any(|l| l.contains("\tdead\t")
            && l.contains(&format!("serve pid {pid}\t"))
            && l.contains("holds nothing")),
        "the killed serve is dead at once, holding nothing: {instances}"
    );

    // What the server got against the send log: everyone once, except mails the server had accepted as the
    // process died (at most one per connection), which come again with the same Message-ID.
    let log = sent_by(&env, &id);
    assert_eq!(log.len(), MEMBERS, "every delivery sent once in the log");
    let mut copies: HashMap<String, Vec<String>> = HashMap::new();
    for m in smtp.messages() {
        let raw = String::from_utf8_lossy(&m.data).into_owned();
        let message_id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap_or_default()
            .to_owned();
        copies.entry(m.rcpt_to[0].to_lowercase()).or_default().push(message_id);
    }
    assert_eq!(copies.len(), MEMBERS, "somebody got no mail");
    assert!(copies.keys().all(|r| log.contains_key(r)));
    let twice: Vec<_> = copies.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.len() <= POOL, "more second copies than connections: {twice:?}");
    for (who, ids) in twice {
        assert!(ids.len() == 2 && ids[0] == ids[1], "{who}: {ids:?}");
        assert!(
            !log[who].contains(&format!("-{pid}-")),
            "{who}: a second copy of a mail the killed serve had recorded"
        );
    }
});

both_backends!(a_live_serve_on_this_host_keeps_its_work, |mut env: TestEnv| async move {
    // Every mail takes the server 2 s: serve holds its batch while send-due looks at it.
    let smtp = TestSmtp::start();
    let id = slow_run_started(&mut env, &smtp, 8);
    let mut child = serve(&env);
    wait_until("serve to hold the run", Duration::from_secs(60), || {
        env.run(&["instances"]).1.contains("holds 8 deliveries")
    })
    .await;

    let (code, out, err) = env.run(&["send-due"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("sent 0,") && out.contains("due deliveries are held by live instance"),
        "a live serve on this host keeps its deliveries: {out}"
    );
    let (_, instances, _) = env.run(&["instances"]);
    let serve_line = instances
        .lines()
        .find(|l| l.contains(&format!("serve pid {}\t", child.id())))
        .unwrap_or_default();
    assert!(serve_line.contains("\tlive\t"), "{instances}");

    wait_until("serve to finish the run", Duration::from_secs(60), || {
        env.run(&["campaign", "show", &id]).1.contains("sent 8, failed 0, waiting 0")
    })
    .await;
    child.kill().ok();
    child.wait().ok();
    assert_eq!(smtp.messages().len(), 8, "each mail once");
    let senders: std::collections::HashSet<_> = sent_by(&env, &id).into_values().collect();
    assert_eq!(senders.len(), 1, "serve sent all of it: {senders:?}");
});
