//! What a sender must never do, against a real SMTP server (in process) on both backends: suppress members for
//! the server's own refusal, fail deliveries for our own broken template, defer mail on a stale connection,
//! let `send-now` cancel the real send, or reuse another installation's Message-IDs.

use crate::common;
use crate::support;

use std::sync::Arc;

use common::TestEnv;
use outreach::Application;
use outreach::domain::campaign::CampaignState;
use outreach::domain::plan::Channel;
use support::rig::*;
use support::smtp::TestSmtp;

async fn statuses(app: &Application) -> Vec<(String, String)> {
    app.store
        .members(None)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.email, m.status.to_string()))
        .collect()
}

async fn state(app: &Application, campaign: i64) -> (CampaignState, String) {
    let c = app.campaign(campaign).await.unwrap();
    (c.state, c.state_reason.to_string())
}

both_backends!(refusals_by_kind, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
    // A mailbox refusal, with or without an enhanced code, is about that member only.
    let first = ["ok1@example.co.jp", "reject1@example.co.jp", "nouser1@example.co.jp"];
    let tick = newsletter_fired(&r, &first).await;
    let done = r.worker.drain().await.unwrap();
    assert_eq!((done.sent, done.failed), (1, 2), "{done:?}");
    let suppressed: Vec<_> = statuses(&r.app)
        .await
        .into_iter()
        .filter(|(_, s)| s == "suppressed")
        .map(|(e, _)| e)
        .collect();
    assert_eq!(suppressed, ["nouser1@example.co.jp", "reject1@example.co.jp"]);
    assert_eq!(r.app.store.runs(None).await.unwrap()[0].id, tick.fired[0].id);

    // A relay refusal (5.7.1 at RCPT) is the server's problem: nobody is suppressed, the campaign pauses with
    // the reply, the deliveries wait; once the server is fixed, resume sends each member one copy.
    let members: Vec<String> = (0..30).map(|i| format!("m{i}@example.co.jp")).collect();
    import(
        &r.app,
        &members.iter().map(|e| (e.as_str(), "telework")).collect::<Vec<_>>(),
    )
    .await;
    let id = campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
    r.clock.set(tokyo("2020-06-02T09:00:01"));
    let fired = r.app.scheduler().fire_due().await.unwrap();
    assert_eq!(fired.fired.len(), 1);
    smtp.refuse_relay(true);
    let refused = r.worker.drain().await.unwrap();
    assert_eq!((refused.sent, refused.failed), (0, 0), "{refused:?}");
    let (st, reason) = state(&r.app, id).await;
    assert_eq!(st, CampaignState::Paused);
    assert!(reason.contains("Relaying denied"), "{reason}");
    let now_suppressed = statuses(&r.app).await.iter().filter(|(_, s)| s == "suppressed").count();
    assert_eq!(now_suppressed, 2, "a relay refusal must suppress nobody");
    let counts = r.app.store.run_counts(fired.fired[0].id).await.unwrap();
    assert_eq!(counts.queued, 31, "every delivery waits in the queue: {counts:?}");
    smtp.refuse_relay(false);
    r.app
        .set_campaign_state(&common::tester(), id, CampaignState::Scheduled)
        .await
        .unwrap();
    let resumed = r.worker.drain().await.unwrap();
    assert_eq!(resumed.sent, 31, "{resumed:?}");
    for m in &members {
        assert_eq!(smtp.count_for(m), 1, "{m}");
    }
});

both_backends!(
    sender_refusal_pauses_and_touches_nobody,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let bad = [("OUTREACH_DELIVERY__FROM", "badsender@example.org")];
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &bad).await;
        let members: Vec<String> = (0..25).map(|i| format!("s{i}@example.co.jp")).collect();
        newsletter_fired(&r, &members).await;
        let refused = r.worker.drain().await.unwrap();
        assert_eq!((refused.sent, refused.failed), (0, 0), "{refused:?}");
        let campaign = paused_touching_nobody(&r.app, "Sender address rejected").await.id;
        // The sender fixed in the configuration: a new process on the same database sends everyone once.
        env.set("OUTREACH_DELIVERY__FROM", "outreach@example.org");
        let fixed = env.app(Arc::new(r.clock.clone())).await;
        fixed
            .set_campaign_state(&common::tester(), campaign, CampaignState::Scheduled)
            .await
            .unwrap();
        let sent = worker_of(&fixed).await.drain().await.unwrap();
        assert_eq!(sent.sent, 25, "{sent:?}");
        assert_eq!(smtp.messages().len(), 25);
    }
);

both_backends!(
    the_same_refusal_in_a_row_is_the_servers,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(
            &mut env,
            &smtp,
            "2020-06-01T08:00",
            &[("OUTREACH_DELIVERY__REFUSAL_STREAK", "5")],
        )
        .await;
        let members: Vec<String> = (0..40).map(|i| format!("reject{i}@example.co.jp")).collect();
        newsletter_fired(&r, &members).await;
        r.worker.drain().await.unwrap();
        let suppressed = statuses(&r.app).await.iter().filter(|(_, s)| s == "suppressed").count();
        assert_eq!(
            suppressed, 4,
            "the fifth refusal in a row is judged the server's, not the member's"
        );
        let (st, reason) = state(&r.app, r.app.store.campaigns().await.unwrap()[0].id).await;
        assert_eq!(st, CampaignState::Paused, "{reason}");
    }
);

both_backends!(
    a_template_broken_after_create_holds_the_run,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("newsletter/telework/text.hbs");
        std::fs::create_dir_all(text.parent().unwrap()).unwrap();
        let good =
            std::fs::read_to_string(common::repo().join("templates/email/newsletter/telework/text.hbs")).unwrap();
        std::fs::write(&text, &good).unwrap();
        let folder = dir.path().display().to_string();
        let r = rig(
            &mut env,
            &smtp,
            "2020-06-01T08:00",
            &[("OUTREACH_TEMPLATES__DIR", folder.as_str())],
        )
        .await;
        let members: Vec<String> = (0..30).map(|i| format!("t{i}@example.co.jp")).collect();
        newsletter_fired(&r, &members).await;
        // Broken after the campaign was created and checked; the running service reloads it.
        std::fs::write(&text, format!("{good}\n{{{{no_such_field}}}}\n")).unwrap();
        r.worker.set_templates(r.app.reload_templates().unwrap());
        let held = r.worker.drain().await.unwrap();
        assert_eq!(
            (held.sent, held.failed),
            (0, 0),
            "nobody is failed for our template: {held:?}"
        );
        let campaign = r.app.store.campaigns().await.unwrap()[0].id;
        let (st, reason) = state(&r.app, campaign).await;
        assert_eq!(st, CampaignState::Paused);
        assert!(
            reason.contains("does not render") && reason.contains("text.hbs"),
            "{reason}"
        );
        // Resuming with the template still broken is refused with the error; fixed, each member gets one copy.
        let err = r
            .app
            .set_campaign_state(&common::tester(), campaign, CampaignState::Scheduled)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no_such_field"), "{err}");
        std::fs::write(&text, &good).unwrap();
        r.worker.set_templates(r.app.reload_templates().unwrap());
        r.app
            .set_campaign_state(&common::tester(), campaign, CampaignState::Scheduled)
            .await
            .unwrap();
        assert_eq!(r.worker.drain().await.unwrap().sent, 30);
        for m in &members {
            assert_eq!(smtp.count_for(m), 1, "{m}");
        }
        // A run's failed deliveries can be queued again; the sent ones never are.
        let run = r.app.store.runs(None).await.unwrap()[0].id;
        assert_eq!(r.app.retry_run(&common::tester(), run).await.unwrap(), 0);
    }
);

both_backends!(
    a_connection_closed_while_idle_defers_nothing,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(
            &mut env,
            &smtp,
            "2020-06-01T08:00",
            &[("OUTREACH_SMTP__POOL_SIZE", "4")],
        )
        .await;
        let members: Vec<String> = (0..20).map(|i| format!("i{i}@example.co.jp")).collect();
        import(
            &r.app,
            &members.iter().map(|e| (e.as_str(), "telework")).collect::<Vec<_>>(),
        )
        .await;
        let id = campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
        r.clock.set(tokyo("2020-06-01T09:00:01"));
        assert_eq!(r.app.scheduler().fire_due().await.unwrap().fired.len(), 1);
        assert_eq!(r.worker.drain().await.unwrap().sent, 20);
        // The server closes the pooled connections during a quiet spell; the next day's run goes out.
        assert!(
            smtp.drop_connections() > 0,
            "the worker keeps its connections open between mails"
        );
        r.clock.set(tokyo("2020-06-02T09:00:01"));
        assert_eq!(
            r.app.scheduler().fire_due().await.unwrap().fired.len(),
            1,
            "campaign {id}"
        );
        let again = r.worker.drain().await.unwrap();
        assert_eq!((again.sent, again.deferred), (20, 0), "{again:?}");
    }
);

both_backends!(
    send_now_leaves_the_scheduled_firing_alone,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        import(&r.app, &[("n1@example.co.jp", "telework")]).await;
        let id = campaign(&r.app, Channel::Newsletter, Some("2020-06-05T09:00"), None).await;
        let c = r.app.campaign(id).await.unwrap();
        r.app
            .send_now(&common::tester(), c.id)
            .await
            .unwrap()
            .expect("a manual run");
        assert_eq!(r.worker.drain().await.unwrap().sent, 1);
        r.clock.set(tokyo("2020-06-02T09:00"));
        r.app.scheduler().fire_due().await.unwrap();
        r.worker.drain().await.unwrap();
        assert_eq!(
            state(&r.app, id).await.0,
            CampaignState::Scheduled,
            "send-now must not finish it"
        );
        r.clock.set(tokyo("2020-06-05T09:00:02"));
        let fired = r.app.scheduler().fire_due().await.unwrap();
        assert_eq!(fired.fired.len(), 1, "the --at time still fires");
        assert_eq!(r.worker.drain().await.unwrap().sent, 1);
        assert_eq!(state(&r.app, id).await.0, CampaignState::Finished);
        assert_eq!(smtp.count_for("n1@example.co.jp"), 2);
    }
);

both_backends!(
    message_ids_differ_between_installations,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        newsletter_fired(&r, &["x@example.co.jp"]).await;
        r.worker.drain().await.unwrap();
        // A second installation: its own database, numbering its runs and deliveries from 1 too.
        let mut other_env = TestEnv::new(env.db).await.unwrap();
        let other = rig(&mut other_env, &smtp, "2020-06-01T08:00", &[]).await;
        newsletter_fired(&other, &["x@example.co.jp"]).await;
        other.worker.drain().await.unwrap();
        let ids: Vec<String> = smtp
            .messages()
            .iter()
            .map(|m| {
                let raw = String::from_utf8_lossy(&m.data).into_owned();
                raw.lines()
                    .find_map(|l| l.strip_prefix("Message-ID: "))
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(ids.len(), 2);
        assert!(
            ids[0].starts_with("<outreach.1.1.") && ids[1].starts_with("<outreach.1.1."),
            "{ids:?}"
        );
        assert_ne!(ids[0], ids[1], "two installations issued the same Message-ID");
    }
);

both_backends!(
    a_late_outcome_cannot_overwrite_the_new_owner,
    |mut env: TestEnv| async move {
        use outreach::domain::delivery::{AttemptRecord, Outcome};
        use outreach::store::Lease;
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        newsletter_fired(&r, &["late@example.co.jp"]).await;
        let store = &r.app.store;
        let now = r.app.now();
        // Instance A claims with a lease that runs out at once (its machine stalled); B takes the delivery over.
        let short = Lease {
            ms: 1,
            instance_timeout_ms: 60_000,
        };
        let a = store.claim("instance-a", now, short, 10).await.unwrap();
        assert_eq!((a.len(), a[0].attempt), (1, 1));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let b = store
            .claim(
                "instance-b",
                now,
                outreach::store::Lease::of(&r.app.settings.delivery),
                10,
            )
            .await
            .unwrap();
        assert_eq!((b.len(), b[0].attempt), (1, 2), "the takeover is a new attempt");
        let record = |owner: &str, attempt: i64, outcome: Outcome| AttemptRecord {
            delivery_id: a[0].id,
            owner: owner.into(),
            at: now,
            attempt,
            outcome,
            next_attempt_at: now + 60_000,
            smtp_code: Some(if outcome == Outcome::Sent { 250 } else { 451 }),
            smtp_reply: "reply".into(),
            suppress_member: None,
            run_id: a[0].run_id,
            campaign_id: a[0].campaign_id,
            theme_slug: "telework".into(),
            duty: "duty".into(),
            channel: "newsletter".into(),
            recipient: a[0].email.clone(),
            message_id: "<m@x>".into(),
            template: "newsletter/telework".into(),
            content_sha256: String::new(),
        };
        // A's late outcome (a deferral) must not put B's delivery back in the queue, yet it is logged.
        store
            .record_attempts(&[record("instance-a", 1, Outcome::Deferred)])
            .await
            .unwrap();
        let counts = store.run_counts(a[0].run_id).await.unwrap();
        assert_eq!((counts.sending, counts.queued), (1, 0), "{counts:?}");
        store
            .record_attempts(&[record("instance-b", 2, Outcome::Sent)])
            .await
            .unwrap();
        let counts = store.run_counts(a[0].run_id).await.unwrap();
        assert_eq!(counts.sent, 1);
        let rows = store.send_log(&Default::default(), 0, 100).await.unwrap();
        let mine: Vec<_> = rows
            .iter()
            .map(|e| (e.attempt, e.sender.as_str(), e.outcome.as_str()))
            .collect();
        assert_eq!(mine, [(1, "instance-a", "deferred"), (2, "instance-b", "sent")]);
    }
);
