//! Scheduling and delivery against a real SMTP server (in process), on SQLite and PostgreSQL.
//! Time is a hand-moved clock: no test sleeps for a cron tick.

use crate::common;
use crate::support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use common::TestEnv;
use outreach::Application;
use outreach::domain::campaign::CampaignState;
use outreach::domain::plan::Channel;
use outreach::store::{LogEntry, LogFilter};
use support::external::{captured_by_aiosmtpd, external};
use support::rig::*;
use support::smtp::TestSmtp;

async fn log(app: &Application) -> Vec<LogEntry> {
    app.store.send_log(&LogFilter::default(), 0, 1_000_000).await.unwrap()
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

both_backends!(one_time_newsletter_to_1000_members, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let captured = || smtp.messages().into_iter().map(|m| (m.rcpt_to, m.data)).collect();
    newsletter_to_1000(&mut env, smtp.port(), "", &captured).await;
});

// The same against the capturing aiosmtpd server CI runs, reading what it wrote to disk.
both_backends!(
    one_time_newsletter_to_1000_members_via_aiosmtpd,
    |mut env: TestEnv| async move {
        let Some((port, capture)) = external("OUTREACH_TEST_SCRIPTED_SMTP", "OUTREACH_TEST_SCRIPTED_CAPTURE") else {
            return;
        };
        let tag = format!(".n{}", env.db.tag());
        let captured = || {
            captured_by_aiosmtpd(&capture)
                .into_iter()
                .filter(|(to, _)| to[0].contains(&tag))
                .collect()
        };
        newsletter_to_1000(&mut env, port, &tag, &captured).await;
    }
);

/// A one-time newsletter to 1,000 subscribed members (and three who must not get it): exactly 1,000 mails with
/// the required headers, 1,000 sent rows in the log, and a CSV export that matches what arrived, mail for mail.
async fn newsletter_to_1000(
    env: &mut TestEnv,
    port: u16,
    tag: &str,
    captured: &dyn Fn() -> Vec<(Vec<String>, Vec<u8>)>,
) {
    let r = rig_on(env, port, "2020-05-01T00:00", &[]).await;
    let members: Vec<(String, &str)> = (0..1000)
        .map(|i| (format!("member{i:04}{tag}@example.co.jp"), "telework"))
        .collect();
    let mut rows: Vec<(&str, &str)> = members.iter().map(|(e, t)| (e.as_str(), *t)).collect();
    // Not in the audience: another theme only, unsubscribed from the theme, suppressed.
    rows.extend([
        ("other@example.co.jp", "sme-talent"),
        ("left@example.co.jp", "telework"),
        ("gone@example.co.jp", "*"),
    ]);
    import(&r.app, &rows).await;
    r.app
        .unsubscribe(&common::tester(), "left@example.co.jp", Some("telework"))
        .await
        .unwrap();
    r.app
        .suppress(&common::tester(), "gone@example.co.jp", "bounced")
        .await
        .unwrap();

    let id = campaign(&r.app, Channel::Newsletter, Some("2020-06-01T09:00"), None).await;
    assert!(
        r.app.scheduler().fire_due().await.unwrap().fired.is_empty(),
        "nothing is due a month early"
    );
    r.clock.set(tokyo("2020-06-01T09:00") + 400);
    let tick = r.app.scheduler().fire_due().await.unwrap();
    assert_eq!(tick.fired.len(), 1);
    assert_eq!(tick.fired[0].audience, 1000);
    let summary = r.worker.drain().await.unwrap();
    assert_eq!((summary.sent, summary.failed, summary.deferred), (1000, 0, 0));

    let messages = captured();
    assert_eq!(messages.len(), 1000);
    let mut by_recipient: HashMap<String, String> = HashMap::new();
    for (rcpt_to, data) in &messages {
        assert_eq!(rcpt_to.len(), 1);
        let raw = String::from_utf8_lossy(data);
        let message_id = header(&raw, "Message-ID").expect("Message-ID").to_owned();
        let unsubscribe = header(&raw, "List-Unsubscribe").expect("List-Unsubscribe");
        assert!(
            unsubscribe.starts_with("<https://outreach.example.org/u/"),
            "{unsubscribe}"
        );
        assert_eq!(
            header(&raw, "List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        assert!(
            header(&raw, "Subject").unwrap().starts_with("=?utf-8?"),
            "RFC 2047 subject"
        );
        assert!(raw.contains("multipart/alternative") && raw.contains("text/plain") && raw.contains("text/html"));
        assert!(
            by_recipient.insert(rcpt_to[0].to_lowercase(), message_id).is_none(),
            "two mails to {rcpt_to:?}"
        );
    }
    let expected: HashSet<String> = members.iter().map(|(e, _)| e.clone()).collect();
    assert_eq!(by_recipient.keys().cloned().collect::<HashSet<_>>(), expected);

    let entries = log(&r.app).await;
    assert_eq!(entries.len(), 1000);
    assert!(
        entries
            .iter()
            .all(|e| e.outcome == "sent" && e.smtp_code == Some(250) && e.campaign_id == id)
    );
    assert!(
        entries
            .iter()
            .all(|e| e.theme_slug == "telework" && e.channel == "newsletter" && e.content_sha256.len() == 64)
    );
    assert!(entries[0].duty.contains("周知啓発"), "{}", entries[0].duty);

    // The CSV export, as an auditor runs it, matches what arrived, mail for mail.
    let (code, csv, err) = env.run(&["log", "export", "--format", "csv", "--campaign", &id.to_string()]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (recipient, message_id, outcome) = (col("recipient"), col("message_id"), col("outcome"));
    let at = col("at");
    let exported: HashMap<String, String> = reader
        .records()
        .map(|r| r.unwrap())
        .inspect(|r| assert_eq!(&r[outcome], "sent"))
        // ISO 8601 with the configured zone's offset, as the campaign fired at 9:00 Tokyo time.
        .inspect(|r| {
            assert!(
                r[at].starts_with("2020-06-01T09:0") && r[at].ends_with("+09:00"),
                "{}",
                &r[at]
            )
        })
        .map(|r| (r[recipient].to_lowercase(), r[message_id].to_owned()))
        .collect();
    assert_eq!(exported, by_recipient);
    let (_, jsonl, _) = env.run(&[
        "log",
        "export",
        "--format",
        "jsonl",
        "--recipient",
        &format!("MEMBER0007{tag}@example.co.jp"),
    ]);
    assert_eq!(jsonl.lines().count(), 1, "{jsonl}");

    // The run is done, the one-time campaign finished, and nothing fires again.
    assert_eq!(r.app.campaign(id).await.unwrap().state, CampaignState::Finished);
    r.clock.advance_secs(3600);
    assert!(r.app.scheduler().fire_due().await.unwrap().fired.is_empty());
    assert_eq!(r.worker.drain().await.unwrap().claimed, 0);
    assert_eq!(captured().len(), 1000);
}

both_backends!(a_tick_fired_twice_makes_one_run, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
    let emails: Vec<String> = (0..60).map(|i| format!("m{i}@example.co.jp")).collect();
    import(
        &r.app,
        &emails.iter().map(|e| (e.as_str(), "telework")).collect::<Vec<_>>(),
    )
    .await;
    campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
    r.clock.set(tokyo("2020-06-01T09:00:01"));
    // A second instance on the same database, with its own scheduler and worker.
    let other = Application::open(env.settings(), Arc::new(r.clock.clone()))
        .await
        .unwrap();
    let other_worker = worker_of(&other).await;
    let (s1, s2, s3) = (r.app.scheduler(), other.scheduler(), r.app.scheduler());
    let (a, b, c) = tokio::join!(s1.fire_due(), s2.fire_due(), s3.fire_due());
    let fired = a.unwrap().fired.len() + b.unwrap().fired.len() + c.unwrap().fired.len();
    assert_eq!(fired, 1, "one run for one tick");
    assert_eq!(r.app.store.runs(None).await.unwrap().len(), 1);
    let (x, y) = tokio::join!(r.worker.drain(), other_worker.drain());
    assert_eq!(x.unwrap().sent + y.unwrap().sent, 60);
    assert_eq!(smtp.messages().len(), 60);
    for e in &emails {
        assert_eq!(smtp.count_for(e), 1, "{e}");
    }
});

both_backends!(faults_retry_fail_and_suppress, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let count = |e: &str| smtp.count_for(e);
    fault_scenario(&mut env, smtp.port(), "", &count).await;
    assert_eq!(smtp.messages().len(), 2);
});

// The same faults against the scripted aiosmtpd server CI starts (OUTREACH_TEST_SCRIPTED_SMTP=host:port,
// OUTREACH_TEST_SCRIPTED_CAPTURE=its capture folder).
both_backends!(faults_against_scripted_aiosmtpd, |mut env: TestEnv| async move {
    let Some((port, capture)) = external("OUTREACH_TEST_SCRIPTED_SMTP", "OUTREACH_TEST_SCRIPTED_CAPTURE") else {
        return;
    };
    let tag = format!(".{}", env.db.tag());
    let count = |e: &str| {
        captured_by_aiosmtpd(&capture)
            .iter()
            .filter(|(to, _)| to.iter().any(|r| r.eq_ignore_ascii_case(e)))
            .count()
    };
    fault_scenario(&mut env, port, &tag, &count).await;
});

// Refusals by kind against the scripted aiosmtpd server: a mailbox refusal suppresses that member only; a
// relay refusal (5.7.1 at RCPT, for every recipient of a domain) suppresses nobody and pauses the campaign with
// the reply; once the server is fixed, resume delivers to everyone.
both_backends!(
    refusals_by_kind_against_scripted_aiosmtpd,
    |mut env: TestEnv| async move {
        let Some((port, capture)) = external("OUTREACH_TEST_SCRIPTED_SMTP", "OUTREACH_TEST_SCRIPTED_CAPTURE") else {
            return;
        };
        let domain = format!("relay-{}.example", env.db.tag());
        let r = rig_on(&mut env, port, "2020-06-01T08:00", &[]).await;
        let mut who: Vec<String> = (0..12).map(|i| format!("r{i}@{domain}")).collect();
        who.push(format!("nouser@{domain}"));
        let control = std::path::Path::new(&capture).join(format!("refuse-relay-{domain}"));
        std::fs::write(&control, "").unwrap();
        newsletter_fired(&r, &who).await;
        let refused = r.worker.drain().await.unwrap();
        assert_eq!((refused.sent, refused.failed), (0, 0), "{refused:?}");
        let c = paused_touching_nobody(&r.app, "Relaying denied").await;
        std::fs::remove_file(&control).unwrap();
        r.app
            .set_campaign_state(&common::tester(), c.id, CampaignState::Scheduled)
            .await
            .unwrap();
        let resumed = r.worker.drain().await.unwrap();
        assert_eq!((resumed.sent, resumed.failed), (12, 1), "{resumed:?}");
        let suppressed: Vec<String> = r
            .app
            .store
            .members(None)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.status == "suppressed")
            .map(|m| m.email)
            .collect();
        assert_eq!(
            suppressed,
            [format!("nouser@{domain}")],
            "550 without an enhanced code is the mailbox's"
        );
        let got = captured_by_aiosmtpd(&capture);
        for w in who.iter().filter(|w| !w.starts_with("nouser")) {
            assert_eq!(
                got.iter()
                    .filter(|(to, _)| to.iter().any(|t| t.eq_ignore_ascii_case(w)))
                    .count(),
                1,
                "{w}"
            );
        }
    }
);

// A refusal at MAIL FROM (553 5.7.1 sender rejected) from the scripted aiosmtpd server: nobody is suppressed,
// the campaign pauses with the reply; with the sender fixed, resume delivers to everyone.
both_backends!(
    sender_refusal_against_scripted_aiosmtpd,
    |mut env: TestEnv| async move {
        let Some((port, capture)) = external("OUTREACH_TEST_SCRIPTED_SMTP", "OUTREACH_TEST_SCRIPTED_CAPTURE") else {
            return;
        };
        let domain = format!("sender-{}.example", env.db.tag());
        let bad = [("OUTREACH_DELIVERY__FROM", "badsender@example.org")];
        let r = rig_on(&mut env, port, "2020-06-01T08:00", &bad).await;
        let who: Vec<String> = (0..8).map(|i| format!("s{i}@{domain}")).collect();
        newsletter_fired(&r, &who).await;
        let refused = r.worker.drain().await.unwrap();
        assert_eq!((refused.sent, refused.failed), (0, 0), "{refused:?}");
        let c = paused_touching_nobody(&r.app, "Sender address rejected").await;
        env.set("OUTREACH_DELIVERY__FROM", "outreach@example.org");
        let fixed = env.app(std::sync::Arc::new(r.clock.clone())).await;
        fixed
            .set_campaign_state(&common::tester(), c.id, CampaignState::Scheduled)
            .await
            .unwrap();
        assert_eq!(worker_of(&fixed).await.drain().await.unwrap().sent, 8);
        let got = captured_by_aiosmtpd(&capture);
        for w in &who {
            assert_eq!(
                got.iter()
                    .filter(|(to, _)| to.iter().any(|t| t.eq_ignore_ascii_case(w)))
                    .count(),
                1,
                "{w}"
            );
        }
    }
);

// Postfix's smtp-sink, a production MTA's front end: a newsletter to 300 members all accepted.
both_backends!(newsletter_through_postfix_smtp_sink, |mut env: TestEnv| async move {
    let Some((port, _)) = external("OUTREACH_TEST_SMTP_SINK", "OUTREACH_TEST_SMTP_SINK") else {
        return;
    };
    let r = rig_on(&mut env, port, "2020-06-01T08:00", &[]).await;
    let emails: Vec<String> = (0..300).map(|i| format!("sink{i}@example.co.jp")).collect();
    newsletter_fired(&r, &emails).await;
    let summary = r.worker.drain().await.unwrap();
    assert_eq!((summary.sent, summary.failed, summary.deferred), (300, 0, 0));
    assert!(log(&r.app).await.iter().all(|e| e.smtp_code == Some(250)));
});

/// ok, flaky, tempfail, reject, denied and drop addresses (local parts tagged with `tag`).
async fn fault_scenario(env: &mut TestEnv, port: u16, tag: &str, count_for: &dyn Fn(&str) -> usize) {
    let extra = [
        ("OUTREACH_DELIVERY__MAX_ATTEMPTS", "3"),
        ("OUTREACH_DELIVERY__RETRY_BASE_SECS", "60"),
    ];
    let r = rig_on(env, port, "2020-06-01T08:00", &extra).await;
    let who: Vec<String> = ["ok", "flaky", "tempfail", "reject", "denied", "drop"]
        .iter()
        .map(|k| format!("{k}{tag}@example.co.jp"))
        .collect();
    let addr = |k: &str| format!("{k}{tag}@example.co.jp");
    newsletter_fired(&r, &who).await;
    let first = r.worker.drain().await.unwrap();
    assert_eq!(
        (first.sent, first.deferred, first.failed),
        (1, 3, 2),
        "{first:?} {:#?}",
        log(&r.app).await
    );
    let status = |e: String| {
        let app = &r.app;
        async move { app.store.member(&e).await.unwrap().unwrap().status }
    };
    assert_eq!(status(addr("reject")).await, "suppressed", "550 suppresses the address");
    assert_eq!(status(addr("denied")).await, "active", "a message-level 554 does not");
    // Nothing is due before the backoff has passed.
    assert_eq!(r.worker.drain().await.unwrap().claimed, 0);
    assert_eq!(
        r.app
            .store
            .due_count(r.app.now(), outreach::store::Lease::of(&r.app.settings.delivery))
            .await
            .unwrap(),
        0
    );
    r.clock.advance_secs(75);
    assert_eq!(
        r.app
            .store
            .due_count(r.app.now(), outreach::store::Lease::of(&r.app.settings.delivery))
            .await
            .unwrap(),
        3,
        "flaky, tempfail and drop wait for a retry"
    );
    let second = r.worker.drain().await.unwrap();
    assert_eq!((second.sent, second.deferred, second.failed), (1, 2, 0), "{second:?}");
    r.clock.advance_secs(150);
    let third = r.worker.drain().await.unwrap();
    assert_eq!((third.sent, third.deferred, third.failed), (0, 0, 2), "{third:?}");

    let entries = log(&r.app).await;
    let of = |k: &str| entries.iter().filter(|x| x.recipient == addr(k)).collect::<Vec<_>>();
    let tempfail = of("tempfail");
    assert_eq!(
        tempfail.iter().map(|e| e.outcome.as_str()).collect::<Vec<_>>(),
        ["deferred", "deferred", "failed"]
    );
    assert!(
        tempfail
            .iter()
            .all(|e| e.smtp_code == Some(451) && e.message_id == tempfail[0].message_id)
    );
    assert_eq!(of("reject")[0].smtp_code, Some(550));
    assert_eq!(of("denied")[0].smtp_code, Some(554));
    assert!(of("drop").iter().all(|e| e.smtp_code.is_none()));
    assert_eq!(
        of("flaky").iter().map(|e| e.outcome.as_str()).collect::<Vec<_>>(),
        ["deferred", "sent"]
    );
    assert_eq!((count_for(&addr("ok")), count_for(&addr("flaky"))), (1, 1));
    for k in ["tempfail", "reject", "denied", "drop"] {
        assert_eq!(count_for(&addr(k)), 0, "{k} must not have been accepted");
    }
    // What an auditor filters on the command line.
    let lines = |args: &[&str]| {
        let (code, out, err) = env.run(args);
        assert_eq!(code, 0, "{err}");
        out.lines().count()
    };
    assert_eq!(lines(&["log", "list", "--status", "failed"]), 4);
    assert_eq!(lines(&["log", "list", "--status", "sent"]), 2);
    assert_eq!(
        lines(&["log", "list", "--theme", "telework", "--channel", "newsletter"]),
        entries.len()
    );
    assert_eq!(
        lines(&["log", "list", "--from", "2020-06-01", "--to", "2020-06-01"]),
        entries.len()
    );
    assert_eq!(lines(&["log", "list", "--from", "2020-06-02"]), 0);
    let (code, _, err) = env.run(&["log", "list", "--status", "lost"]);
    assert_eq!((code, err.contains("--status")), (1, true), "{err}");
}

both_backends!(failing_campaign_is_paused, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let extra = [
        ("OUTREACH_DELIVERY__FAILURE_MIN_SAMPLE", "4"),
        ("OUTREACH_DELIVERY__FAILURE_RATE_PAUSE", "0.2"),
    ];
    let r = rig(&mut env, &smtp, "2020-06-01T08:00", &extra).await;
    let emails: Vec<String> = (0..6).map(|i| format!("reject{i}@example.co.jp")).collect();
    import(
        &r.app,
        &emails.iter().map(|e| (e.as_str(), "telework")).collect::<Vec<_>>(),
    )
    .await;
    let id = campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
    r.clock.set(tokyo("2020-06-01T09:00:01"));
    r.app.scheduler().fire_due().await.unwrap();
    r.worker.drain().await.unwrap();
    let c = r.app.campaign(id).await.unwrap();
    assert_eq!(c.state, CampaignState::Paused);
    assert!(
        matches!(
            c.state_reason,
            outreach::domain::campaign::StateReason::FailureRate { failed: 6, done: 6, .. }
        ),
        "{:?}",
        c.state_reason
    );
    // Paused: tomorrow's tick does not fire.
    r.clock.set(tokyo("2020-06-02T09:00:01"));
    assert!(r.app.scheduler().fire_due().await.unwrap().fired.is_empty());
});

both_backends!(catch_up_policy_and_pause, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let r = rig(&mut env, &smtp, "2020-06-01T00:00", &[]).await;
    import(&r.app, &[("a@example.co.jp", "telework")]).await;
    let daily = campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
    // Down from before 09:00 on the 1st until 10:00 on the 3rd: only the latest missed tick fires, once.
    r.clock.set(tokyo("2020-06-03T10:00"));
    let tick = r.app.scheduler().fire_due().await.unwrap();
    assert_eq!(tick.fired.len(), 1);
    assert_eq!(
        (tick.fired[0].scheduled_for, tick.fired[0].trigger.as_str()),
        (tokyo("2020-06-03T09:00"), "catch-up")
    );
    assert!(r.app.scheduler().fire_due().await.unwrap().fired.is_empty());
    // Seven hours late is beyond max_lateness (6 h): skipped, and said why.
    r.clock.set(tokyo("2020-06-04T16:00"));
    let tick = r.app.scheduler().fire_due().await.unwrap();
    assert!(tick.fired.is_empty());
    assert_eq!(tick.skipped.len(), 1);
    assert!(tick.skipped[0].why.contains("max_lateness"), "{:?}", tick.skipped);
    // Paused over a tick; resuming does not fire it; the next one fires.
    r.clock.set(tokyo("2020-06-05T08:00"));
    r.app
        .set_campaign_state(&common::tester(), daily, CampaignState::Paused)
        .await
        .unwrap();
    r.clock.set(tokyo("2020-06-05T09:30"));
    assert!(r.app.scheduler().fire_due().await.unwrap().fired.is_empty());
    r.app
        .set_campaign_state(&common::tester(), daily, CampaignState::Scheduled)
        .await
        .unwrap();
    assert!(
        r.app.scheduler().fire_due().await.unwrap().fired.is_empty(),
        "resume must not fire the missed tick"
    );
    r.clock.set(tokyo("2020-06-06T09:00:02"));
    let tick = r.app.scheduler().fire_due().await.unwrap();
    assert_eq!(tick.fired.len(), 1);
    assert_eq!(tick.fired[0].trigger, "schedule");

    // Policy skip: an hour late is not on time, so nothing fires.
    let mut skip_env = TestEnv::new(env.db).await.unwrap();
    let r2 = rig(
        &mut skip_env,
        &smtp,
        "2020-06-01T00:00",
        &[("OUTREACH_SCHEDULE__CATCH_UP", "skip")],
    )
    .await;
    campaign(&r2.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
    r2.clock.set(tokyo("2020-06-01T10:00"));
    let tick = r2.app.scheduler().fire_due().await.unwrap();
    assert!(tick.fired.is_empty());
    assert!(tick.skipped[0].why.contains("catch_up = skip"), "{:?}", tick.skipped);
});

both_backends!(
    advisors_and_editorial_desk_get_their_mails,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        env.set("OUTREACH_TOSHO_SHIMBUN__EDITORIAL_DESK", "desk@shimbun.example");
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        let advisors = "email,name,branch\nsato@cci.example,佐藤 花子,中央支部\nito@cci.example,伊藤 次郎,\n";
        r.app
            .import_advisors(&common::tester(), advisors.as_bytes(), false, false)
            .await
            .unwrap();
        campaign(&r.app, Channel::AdvisorHandout, Some("2020-06-01T09:00"), None).await;
        campaign(&r.app, Channel::ToshoShimbun, Some("2020-06-01T09:00"), None).await;
        r.clock.set(tokyo("2020-06-01T09:00:01"));
        assert_eq!(r.app.scheduler().fire_due().await.unwrap().fired.len(), 2);
        assert_eq!(r.worker.drain().await.unwrap().sent, 3);
        assert_eq!(smtp.count_for("desk@shimbun.example"), 1);
        assert_eq!(smtp.count_for("sato@cci.example"), 1);
        let desk = smtp
            .messages()
            .into_iter()
            .find(|m| m.rcpt_to[0] == "desk@shimbun.example")
            .unwrap();
        let raw = String::from_utf8_lossy(&desk.data);
        assert!(
            header(&raw, "List-Unsubscribe").is_none(),
            "only newsletters carry List-Unsubscribe"
        );
    }
);

both_backends!(
    an_inactive_advisor_gets_no_handout_and_stays_listed,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        let me = common::tester();
        let advisors = "email,name,branch\nsato@cci.example,佐藤 花子,中央支部\nito@cci.example,伊藤 次郎,\n";
        r.app
            .import_advisors(&me, advisors.as_bytes(), false, false)
            .await
            .unwrap();
        assert!(r.app.set_advisor_active(&me, "ITO@cci.example", false).await.unwrap());
        assert!(
            !r.app.set_advisor_active(&me, "ito@cci.example", false).await.unwrap(),
            "already"
        );
        let err = r
            .app
            .set_advisor_active(&me, "nobody@cci.example", false)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "no advisor nobody@cci.example");
        // An import of the same list does not bring them back; only staff do.
        let report = r
            .app
            .import_advisors(&me, advisors.as_bytes(), false, false)
            .await
            .unwrap();
        assert_eq!(report.report.unchanged, 2);
        let listed: Vec<(String, bool)> = r
            .app
            .advisors()
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.email, a.active))
            .collect();
        assert_eq!(
            listed,
            [
                ("ito@cci.example".to_owned(), false),
                ("sato@cci.example".to_owned(), true)
            ]
        );

        campaign(&r.app, Channel::AdvisorHandout, Some("2020-06-01T09:00"), None).await;
        r.clock.set(tokyo("2020-06-01T09:00:01"));
        assert_eq!(r.app.scheduler().fire_due().await.unwrap().fired[0].audience, 1);
        assert_eq!(r.worker.drain().await.unwrap().sent, 1);
        assert_eq!(
            (smtp.count_for("sato@cci.example"), smtp.count_for("ito@cci.example")),
            (1, 0)
        );
        let actions = r.app.actions(&Default::default()).await.unwrap();
        assert_eq!(actions.iter().filter(|a| a.action == "advisor.deactivate").count(), 1);
    }
);

both_backends!(
    members_who_leave_after_the_freeze_get_nothing,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        let who = ["stays@example.co.jp", "leaves@example.co.jp", "bounced@example.co.jp"];
        let tick = newsletter_fired(&r, &who).await;
        assert_eq!(
            tick.fired[0].audience, 3,
            "all three were in the audience when the run started"
        );
        // Between the freeze and the send: one leaves the theme by the link, one is suppressed.
        r.app
            .unsubscribe(&common::tester(), "leaves@example.co.jp", Some("telework"))
            .await
            .unwrap();
        r.app
            .suppress(&common::tester(), "bounced@example.co.jp", "mailbox gone")
            .await
            .unwrap();
        let summary = r.worker.drain().await.unwrap();
        assert_eq!((summary.sent, summary.skipped), (1, 2), "{summary:?}");
        assert_eq!(smtp.messages().len(), 1);
        assert_eq!(smtp.count_for("stays@example.co.jp"), 1);
        let entries = log(&r.app).await;
        let skipped: Vec<_> = entries
            .iter()
            .filter(|e| e.outcome == "skipped")
            .map(|e| e.recipient.as_str())
            .collect();
        assert_eq!(skipped.len(), 2);
        assert!(skipped.contains(&"leaves@example.co.jp") && skipped.contains(&"bounced@example.co.jp"));
        let counts = r.app.store.run_counts(tick.fired[0].id).await.unwrap();
        assert_eq!((counts.sent, counts.cancelled, counts.queued), (1, 2, 0));
        assert_eq!(r.app.store.runs(None).await.unwrap()[0].status, "done");
    }
);

both_backends!(
    a_rate_limited_batch_fits_in_half_a_lease,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let extra = [
            ("OUTREACH_DELIVERY__RATE_PER_SECOND", "10"),
            ("OUTREACH_DELIVERY__LEASE_SECS", "6"),
            ("OUTREACH_DELIVERY__BATCH_SIZE", "200"),
            // No heartbeat renews leases here: a mail starts only while its lease outlasts the server's answer,
            // so the 3 s a claim takes to send must fit in 6 s less the timeout.
            ("OUTREACH_SMTP__TIMEOUT_SECS", "1"),
        ];
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &extra).await;
        let emails: Vec<String> = (0..40).map(|i| format!("rate{i}@example.co.jp")).collect();
        newsletter_fired(&r, &emails).await;
        let mut claims = Vec::new();
        let total = r.worker.drain_with(|b| claims.push(b.claimed)).await.unwrap();
        // 10 mails/s × 6 s / 2 = 30 per claim, not the configured 200.
        assert_eq!(claims, [30, 10]);
        assert_eq!(total.sent, 40);
        assert_eq!(smtp.messages().len(), 40);
    }
);

// A newsletter run with one Japanese and one English member, the campaign named `nl` by staff: each member
// reads their own language, the banner and `<title>` show the theme's title (never the staff's name), and the
// English mail's links are the signed ones of the List-Unsubscribe header.
both_backends!(
    members_read_their_language_and_the_title,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-05-01T00:00", &[]).await;
        let members = "email,company,contact_name,themes,locale\n\
                   ja@example.co.jp,株式会社テスト,担当 太郎,telework,ja\n\
                   en@example.co.jp,Sample Trading Co.,Jane Doe,telework,en\n";
        let imported = r
            .app
            .import_members(&common::tester(), members.as_bytes(), false, false)
            .await
            .unwrap();
        assert!(imported.rejected.is_empty(), "{:?}", imported.rejected);
        let mut nl = request(Channel::Newsletter, Some("2020-06-01T09:00"), None);
        nl.name = "nl".into();
        create(&r.app, &nl).await;
        r.clock.set(tokyo("2020-06-01T09:00:01"));
        assert_eq!(r.app.scheduler().fire_due().await.unwrap().fired.len(), 1);
        assert_eq!(r.worker.drain().await.unwrap().sent, 2);
        let mails: HashMap<String, support::mime::Read> = smtp
            .messages()
            .into_iter()
            .map(|m| (m.rcpt_to[0].clone(), support::mime::read(&m.data)))
            .collect();

        let ja = &mails["ja@example.co.jp"];
        assert!(ja.subject.starts_with("【東商メールマガジン】"), "{}", ja.subject);
        assert_eq!(ja.html_title(), "東商メールマガジン｜テレワークの推進");
        assert_eq!(ja.text.lines().nth(1), Some("東商メールマガジン｜テレワークの推進"));
        assert!(ja.html.contains("東商メールマガジン｜テレワークの推進<"), "banner");
        assert!(ja.text.contains("担当 太郎 様") && ja.text.contains("いつもお世話になっております。"));

        let en = &mails["en@example.co.jp"];
        assert!(en.subject.starts_with("[TCCI Newsletter] "), "{}", en.subject);
        assert!(en.subject.is_ascii(), "{}", en.subject);
        assert!(en.html.contains("<html lang=\"en\">"));
        assert_eq!(en.html_title(), "TCCI Newsletter | Promoting telework");
        assert_eq!(en.text.lines().nth(1), Some("TCCI Newsletter | Promoting telework"));
        assert!(en.text.contains("Dear Jane Doe,"), "{}", en.text);
        for japanese in ["いつもお世話", "様", "配信停止", "お問い合わせ"] {
            assert!(
                !en.text.contains(japanese) && !en.html.contains(japanese),
                "{japanese} in {}",
                en.text
            );
        }
        let unsubscribe = en.header("List-Unsubscribe").unwrap().trim_matches(['<', '>']);
        assert!(
            unsubscribe.starts_with("https://outreach.example.org/u/"),
            "{unsubscribe}"
        );
        assert!(
            en.text.contains(&format!("Leave this theme:\n{unsubscribe}")),
            "{}",
            en.text
        );
        assert!(en.html.contains(&format!("href=\"{unsubscribe}\"")), "{}", en.html);
        assert!(
            en.text.contains("https://outreach.example.org/p/") && en.html.contains("https://outreach.example.org/p/")
        );

        for mail in [ja, en] {
            assert!(!mail.html_title().contains("nl"), "{}", mail.html_title());
            assert!(!mail.text.lines().nth(1).unwrap_or("").contains("nl"));
        }
        // The send log names the template each member got.
        let mut templates: Vec<(String, String)> = log(&r.app)
            .await
            .into_iter()
            .map(|e| (e.recipient, e.template))
            .collect();
        templates.sort();
        assert_eq!(
            templates,
            [
                ("en@example.co.jp".to_owned(), "newsletter/telework/en".to_owned()),
                ("ja@example.co.jp".to_owned(), "newsletter/telework".to_owned())
            ]
        );
    }
);

// The manuscript names the issue staff gave, or asks for an upcoming one without a date; the rest is the same.
both_backends!(manuscript_names_its_issue, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    env.set("OUTREACH_TOSHO_SHIMBUN__EDITORIAL_DESK", "desk@shimbun.example");
    let r = rig(&mut env, &smtp, "2020-05-20T08:00", &[]).await;
    let mut dated = request(Channel::ToshoShimbun, Some("2020-05-25T09:00"), None);
    dated.issue = Some("6月1日号".into());
    create(&r.app, &dated).await;
    create(&r.app, &request(Channel::ToshoShimbun, Some("2020-05-25T09:00"), None)).await;
    r.clock.set(tokyo("2020-05-25T09:00:01"));
    assert_eq!(r.app.scheduler().fire_due().await.unwrap().fired.len(), 2);
    assert_eq!(r.worker.drain().await.unwrap().sent, 2);
    let mails: Vec<support::mime::Read> = smtp.messages().iter().map(|m| support::mime::read(&m.data)).collect();
    let (with, without): (Vec<_>, Vec<_>) = mails.iter().partition(|m| m.subject.contains("6月1日号"));
    let (with, without) = (with[0], without[0]);
    assert_eq!(with.subject, "【東商新聞 原稿】テレワーク導入支援（6月1日号掲載用）");
    assert_eq!(without.subject, "【東商新聞 原稿】テレワーク導入支援（次号以降掲載用）");
    for part in [&with.text, &with.html] {
        assert!(
            part.contains("東商新聞6月1日号への掲載用原稿をお送りいたします。"),
            "{part}"
        );
    }
    for part in [&without.text, &without.html] {
        assert!(
            part.contains("次号以降の東商新聞への掲載用原稿をお送りいたします"),
            "{part}"
        );
    }
    for mail in [with, without] {
        assert!(
            !mail.text.contains("発行号") && !mail.html.contains("発行号"),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains("2020年5月25日") && !mail.subject.contains("2020年5月25日"));
    }
    // The manuscript itself does not change.
    let manuscript = |m: &support::mime::Read| m.text.split_once("ここから").unwrap().1.to_owned();
    assert_eq!(manuscript(with), manuscript(without));
    assert!(manuscript(with).contains("【見出し】\nテレワーク導入を都が支援"));
});
