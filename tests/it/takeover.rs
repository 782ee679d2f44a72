//! A dead instance on this machine is known dead at once, not after `instance_timeout_secs`: its process is gone
//! (or its process id belongs to a newer process). Through the built binary, with the instance timeout at 300 s
//! so that waiting for the heartbeat to go stale would visibly fail.
#![cfg(target_os = "linux")]

use crate::common;
use crate::support;

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use outreach::clock::Clock;
use outreach::runtime::Step;
use outreach::store::{InstanceInfo, Lease, ProcessIdentity};
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
        .set(
            "OUTREACH_WEB__SIGNING_KEY",
            "takeover-test-signing-key-0123456789abcdef",
        )
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

both_backends!(
    send_due_takes_over_a_killed_serve_at_once,
    |mut env: TestEnv| async move {
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
        assert!(
            !out.contains("not finished"),
            "the killed serve was taken for live: {out}"
        );
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
    }
);

both_backends!(
    a_live_serve_on_this_host_keeps_its_work,
    |mut env: TestEnv| async move {
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
            env.run(&["campaign", "show", &id])
                .1
                .contains("sent 8, failed 0, waiting 0")
        })
        .await;
        child.kill().ok();
        child.wait().ok();
        assert_eq!(smtp.messages().len(), 8, "each mail once");
        let senders: std::collections::HashSet<_> = sent_by(&env, &id).into_values().collect();
        assert_eq!(senders.len(), 1, "serve sent all of it: {senders:?}");
    }
);

/// A process as the test reads it from /proc itself: (boot id, pid namespace, start time of `pid`).
fn identity_of(pid: u32) -> ProcessIdentity {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let (_, rest) = stat.rsplit_once(')').expect("stat line");
    ProcessIdentity {
        boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .expect("boot id")
            .trim()
            .to_owned(),
        pid_ns: std::fs::read_link("/proc/self/ns/pid")
            .expect("pid namespace")
            .display()
            .to_string(),
        start_ticks: rest
            .split_whitespace()
            .nth(19)
            .expect("starttime")
            .parse()
            .expect("ticks"),
    }
}

both_backends!(
    the_process_decides_on_this_machine_the_heartbeat_elsewhere,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let extra = [
            ("OUTREACH_DELIVERY__INSTANCE_TIMEOUT_SECS", "300"),
            ("OUTREACH_DELIVERY__LEASE_SECS", "300"),
        ];
        let r = support::rig::rig(&mut env, &smtp, "2020-06-01T08:00", &extra).await;
        let emails = [
            "a@example.co.jp",
            "b@example.co.jp",
            "c@example.co.jp",
            "d@example.co.jp",
        ];
        support::rig::newsletter_fired(&r, &emails).await;

        let me = identity_of(std::process::id());
        let mut exited = std::process::Command::new("true").spawn().expect("spawn true");
        let exited_identity = identity_of(exited.id());
        let exited_pid = exited.id();
        exited.wait().expect("reap");
        let mut alive = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("spawn sleep");
        let holders = [
            // This test's own pid, recorded with an earlier start: the pid was reused.
            (
                "reused",
                std::process::id(),
                ProcessIdentity {
                    start_ticks: me.start_ticks - 1,
                    ..me.clone()
                },
            ),
            ("exited", exited_pid, exited_identity.clone()),
            ("alive", alive.id(), identity_of(alive.id())),
            // Gone here, but on another machine: only its heartbeat (fresh) can tell.
            (
                "elsewhere",
                exited_pid,
                ProcessIdentity {
                    boot_id: "another-boot".into(),
                    ..exited_identity
                },
            ),
        ];
        let lease = Lease::of(&r.app.settings.delivery);
        for (id, pid, process) in holders {
            r.app
                .store
                .register_instance(&InstanceInfo {
                    id: id.into(),
                    host: "this-host".into(),
                    pid: i64::from(pid),
                    version: "test".into(),
                    role: "serve".into(),
                    process: Some(process),
                })
                .await
                .unwrap();
            let claimed = r.app.store.claim(id, r.clock.now_ms(), lease, 1).await.unwrap();
            assert_eq!(claimed.len(), 1, "{id} holds one delivery");
        }

        let step = r.worker.step().await.unwrap();
        let Step::Batch(batch) = step else {
            panic!("the dead instances' deliveries were not taken over: {step:?}");
        };
        assert_eq!((batch.claimed, batch.sent), (2, 2), "{batch:?}");
        let states: HashMap<String, &str> = r
            .app
            .store
            .instances(lease.instance_timeout_ms)
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.id, i.state))
            .collect();
        for (id, state) in [
            ("reused", "dead"),
            ("exited", "dead"),
            ("alive", "live"),
            ("elsewhere", "live"),
        ] {
            assert_eq!(states[id], state, "{id}: {states:?}");
        }
        let mut held: Vec<_> = r
            .app
            .store
            .held_elsewhere(r.worker.owner(), lease.instance_timeout_ms)
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.instance, h.deliveries))
            .collect();
        held.sort();
        assert_eq!(held, [("alive".to_owned(), 1), ("elsewhere".to_owned(), 1)]);
        alive.kill().ok();
        alive.wait().ok();
    }
);
