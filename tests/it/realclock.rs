//! The shape users deploy, on the real clock: the binary, an every-minute cron, several processes started in
//! the same second, watched over two minute boundaries. No fake clock anywhere in this file.

use crate::common;

use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::TestEnv;

const MEMBERS: usize = 3;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The first whole minute strictly after `ms`.
fn next_minute(ms: i64) -> i64 {
    (ms / 60_000 + 1) * 60_000
}

async fn sleep_until(ms: i64) {
    let wait = ms - now_ms();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
}

fn spawn(env: &TestEnv, args: &[&str]) -> Child {
    env.command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start outreach")
}

/// `(tick line, audience)` of every run `campaign show` lists.
fn runs(env: &TestEnv, id: &str) -> Vec<String> {
    let (code, out, err) = env.run(&["campaign", "show", id]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .filter(|l| l.starts_with("run "))
        .map(str::to_owned)
        .collect()
}

both_backends!(
    every_minute_cron_fires_once_per_minute_across_processes,
    |mut env: TestEnv| async move {
        env.set("OUTREACH_WEB__SIGNING_KEY", "real-clock-test-signing-key-0123456789");
        // Every serve seals every second: the sealers meet, and the log must still hold each row once.
        env.set("OUTREACH_AUDIT__SEAL_SECS", "1");
        assert_eq!(env.run(&["init"]).0, 0);
        let mut csv = String::from("email,company,contact_name,themes,locale\n");
        for i in 0..MEMBERS {
            csv.push_str(&format!("m{i}@example.co.jp,株式会社時計,担当 {i},telework,ja\n"));
        }
        let file = env.write("members.csv", csv);
        assert_eq!(env.run(&["members", "import", &file]).0, 0);

        // Keep clear of a minute boundary while the campaign is created, so the first tick is unambiguous.
        if next_minute(now_ms()) - now_ms() < 5_000 {
            tokio::time::sleep(Duration::from_secs(6)).await;
        }
        let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "* * * * *"]);
        assert_eq!(code, 0, "{err}");
        let id = id.trim().to_owned();
        let first = next_minute(now_ms());
        let second = first + 60_000;

        // Just after the first tick: two `serve` and one `send-due` in the same second all find it due.
        sleep_until(first + 300).await;
        let mut a = spawn(&env, &["serve"]);
        let mut b = spawn(&env, &["serve"]);
        let mut c = spawn(&env, &["send-due"]);
        // Over the second boundary, with time for the second tick's mail to go out.
        sleep_until(second + 20_000).await;
        for child in [&mut a, &mut b] {
            child.kill().ok();
            child.wait().ok();
        }
        let status = c.wait().expect("send-due");
        assert!(status.success(), "send-due: {status}");

        let runs = runs(&env, &id);
        assert_eq!(
            runs.len(),
            2,
            "one run per minute boundary, whatever the processes: {runs:#?}"
        );
        let tz = chrono_tz::Asia::Tokyo;
        for (run, tick) in runs.iter().zip([first, second]) {
            let at = outreach::domain::campaign::schedule::format_local(tick, tz);
            assert!(
                run.contains(&format!("for {at} (schedule)")),
                "{run} should be the tick of {at}"
            );
            assert!(run.contains(&format!("{MEMBERS} recipients, sent {MEMBERS}")), "{run}");
        }
        let mails = std::fs::read_dir(env.path().join("outbox"))
            .expect("outbox")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count();
        assert_eq!(mails, 2 * MEMBERS, "each member one mail per tick");

        // Three processes sealed beside each other (two killed with SIGKILL): every row is one leaf, in one
        // order, and the log verifies once what they left is sealed.
        let (code, out, err) = env.run(&["audit", "seal"]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = env.run(&["audit", "verify"]);
        assert_eq!(code, 0, "{out}{err}");
        let rows = common::scalar(
            &env,
            "SELECT (SELECT COUNT(*) FROM send_log) + (SELECT COUNT(*) FROM actions) \
             + (SELECT COUNT(*) FROM member_events)",
        )
        .await;
        assert!(out.starts_with(&format!("OK {rows} ")), "{out}");
        let sent_leaves = common::scalar(&env, "SELECT COUNT(*) FROM audit_leaves WHERE kind = 'send_attempt'").await;
        assert_eq!(usize::try_from(sent_leaves).unwrap(), 2 * MEMBERS);
        assert!(
            common::scalar(&env, "SELECT COUNT(*) FROM audit_checkpoints").await >= 2,
            "sealed more than once"
        );
    }
);
