//! The staff-action log: one row per change, written in the change's own transaction (a change that fails
//! writes none; a failure between the change and the commit leaves neither), append-only in the database,
//! and listed by `outreach actions list` with who and when.

use crate::common;

use std::sync::Arc;

use common::execute;
use common::{Db, TestEnv, tester};
use outreach::clock::SystemClock;
use outreach::domain::campaign::CampaignState;
use outreach::store::ActionFilter;

/// The rows of the staff-action log of one action, as stored.
async fn recorded(app: &outreach::Application, action: &str) -> Vec<outreach::domain::ActionRecord> {
    let filter = ActionFilter {
        action: Some(action.into()),
        ..ActionFilter::default()
    };
    app.store.actions(&filter).await.unwrap()
}

both_backends!(
    an_action_row_commits_with_its_change_or_not_at_all,
    |mut env: TestEnv| async move {
        env.set("OUTREACH_WEB__SIGNING_KEY", "actions-test-signing-key-0123456789abcdef");
        let app = env.app(Arc::new(SystemClock)).await;
        let me = tester();
        let count = || {
            let store = app.store.clone();
            async move { store.actions(&ActionFilter::default()).await.unwrap().len() }
        };
        let csv = "email,company,contact_name,themes,locale\na@example.co.jp,株式会社記録,担当,telework,ja\n";
        app.import_members(&me, csv.as_bytes(), false, false).await.unwrap();
        let templates = app.templates().unwrap();
        let request = outreach::services::CampaignRequest {
            name: "記録".into(),
            title: None,
            issue: None,
            theme_slug: "telework".into(),
            channel: outreach::domain::plan::Channel::Newsletter,
            at: None,
            cron: Some("0 9 * * *".into()),
            from: None,
            until: None,
            fiscal_year: None,
        };
        let id = app.create_campaign(&me, &templates, &request).await.unwrap();
        let before = count().await;

        // A change that succeeds: exactly one row, naming the actor, the action and the target.
        app.set_campaign_state(&me, id, CampaignState::Paused).await.unwrap();
        let rows = app.store.actions(&ActionFilter::default()).await.unwrap();
        assert_eq!(rows.len(), before + 1);
        let last = rows.last().unwrap();
        assert_eq!(
            (last.actor.as_str(), last.action.as_str(), last.target.clone()),
            ("tester@example.org", "campaign.pause", format!("campaign {id}"))
        );
        assert_eq!(last.summary, r#"{"from":"scheduled","to":"paused"}"#);

        // Changes that fail write nothing: a transition the campaign cannot make, an import with a bad row.
        assert!(app.set_campaign_state(&me, id, CampaignState::Paused).await.is_err());
        let bad = "email,company,contact_name,themes,locale\nnot-an-address,x,y,telework,ja\n";
        assert!(
            !app.import_members(&me, bad.as_bytes(), false, false)
                .await
                .unwrap()
                .imported
        );
        assert_eq!(count().await, before + 1);
        // An actor who may not make the change is refused before anything is written.
        let member = outreach::domain::Actor::Member(1);
        let err = app
            .set_campaign_state(&member, id, CampaignState::Scheduled)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), outreach::error::ErrorKind::Forbidden, "{err}");
        assert_eq!(app.campaign(id).await.unwrap().state, CampaignState::Paused);
        assert_eq!(count().await, before + 1);

        // A failure between the change and the commit (the log refuses the row) leaves neither.
        let inject = match env.db {
            Db::Sqlite => "CREATE TRIGGER inject BEFORE INSERT ON actions WHEN NEW.action = 'campaign.cancel' \
                       BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
                .to_owned(),
            Db::Postgres => "CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                         IF NEW.action = 'campaign.cancel' THEN RAISE EXCEPTION 'injected failure'; END IF; \
                         RETURN NEW; END; $$; \
                         CREATE TRIGGER inject BEFORE INSERT ON actions FOR EACH ROW EXECUTE FUNCTION inject();"
                .to_owned(),
        };
        execute(&env, &inject).await.unwrap();
        let err = app
            .set_campaign_state(&me, id, CampaignState::Cancelled)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("injected failure"), "{err}");
        assert_eq!(
            app.campaign(id).await.unwrap().state,
            CampaignState::Paused,
            "the change was rolled back"
        );
        assert_eq!(count().await, before + 1);

        // The database itself refuses to change or remove a row.
        for sql in ["UPDATE actions SET actor = 'someone else'", "DELETE FROM actions"] {
            let err = execute(&env, sql).await.unwrap_err();
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
        assert_eq!(count().await, before + 1);

        // Every change that committed is one leaf of the audit log, queued in its own transaction; the ones
        // rolled back left nothing to seal (a queued row whose change was rolled back would stop the seal).
        app.seal().await.unwrap();
        let logged = common::scalar(
            &env,
            "SELECT (SELECT COUNT(*) FROM send_log) + (SELECT COUNT(*) FROM actions) + (SELECT COUNT(*) FROM member_events)",
        )
        .await;
        assert_eq!(common::scalar(&env, "SELECT COUNT(*) FROM audit_leaves").await, logged);
        assert_eq!(common::scalar(&env, "SELECT COUNT(*) FROM audit_pending").await, 0);
        assert_eq!(
            common::scalar(&env, "SELECT COUNT(*) FROM audit_leaves WHERE kind = 'staff_action'").await,
            i64::try_from(before + 1).unwrap()
        );
    }
);

both_backends!(actions_list_shows_a_scripted_session, |mut env: TestEnv| async move {
    env.set("OUTREACH_WEB__SIGNING_KEY", "actions-test-signing-key-0123456789abcdef");
    let ok = |args: &[&str]| {
        let (code, out, err) = env.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    ok(&["init", "--as", "admin@tokyo-cci.example"]);
    let csv = "email,company,contact_name,themes,locale\n\
               a@example.co.jp,株式会社一,担当 一,telework,ja\n\
               b@example.co.jp,株式会社二,担当 二,telework,ja\n";
    let file = env.write("members.csv", csv);
    let staff = "suzuki@tokyo-cci.example";
    ok(&["members", "import", &file, "--as", staff]);
    let id = ok(&[
        "campaign",
        "create",
        "--as",
        staff,
        "--name",
        "記録",
        "--theme",
        "telework",
        "--channel",
        "newsletter",
        "--cron",
        "0 9 * * *",
    ]);
    let id = id.trim();
    for verb in ["pause", "resume", "cancel"] {
        ok(&["campaign", verb, id, "--as", staff]);
    }
    ok(&[
        "members",
        "unsubscribe",
        "a@example.co.jp",
        "--theme",
        "telework",
        "--as",
        staff,
    ]);
    ok(&[
        "members",
        "suppress",
        "b@example.co.jp",
        "--reason",
        "宛先不明",
        "--as",
        staff,
    ]);

    let table = ok(&["actions", "list"]);
    let actions: Vec<&str> = table
        .lines()
        .map(|l| l.split('\t').nth(2).unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "plan.import",
            "members.import",
            "campaign.create",
            "campaign.pause",
            "campaign.resume",
            "campaign.cancel",
            "member.unsubscribe",
            "member.suppress"
        ],
        "{table}"
    );
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .contains("operator admin@tokyo-cci.example"),
        "{table}"
    );
    assert!(
        table.lines().skip(1).all(|l| l.contains(&format!("operator {staff}"))),
        "{table}"
    );
    // Each with its time, in the configured zone.
    assert!(
        table.lines().all(|l| l.split('\t').next().unwrap().ends_with("JST")),
        "{table}"
    );
    assert!(table.contains(r#""created":2"#), "an import says what it did: {table}");

    // Filters, and the canonical JSON form.
    assert_eq!(
        ok(&["actions", "list", "--actor", "admin@tokyo-cci.example"])
            .lines()
            .count(),
        1
    );
    assert_eq!(
        ok(&["actions", "list", "--action", "campaign.pause"]).lines().count(),
        1
    );
    assert_eq!(ok(&["actions", "list", "--since", "2999-01-01"]).lines().count(), 0);
    let json = ok(&["actions", "list", "--format", "json", "--action", "member.suppress"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["actor"], staff);
    assert_eq!(row["summary"]["reason"], "宛先不明");
    assert_eq!(
        json.trim(),
        row.to_string(),
        "the JSON form is canonical: sorted keys, no spaces"
    );
    let (code, _, err) = env.run(&["actions", "list", "--since", "yesterday"]);
    assert_eq!((code, err.contains("--since")), (1, true), "{err}");
});

both_backends!(
    booleans_cross_the_store_typed_and_a_stray_value_is_named,
    |mut env: TestEnv| async move {
        env.set("OUTREACH_WEB__SIGNING_KEY", "actions-test-signing-key-0123456789abcdef");
        let app = env.app(Arc::new(SystemClock)).await;
        let me = tester();
        let csv =
            "email,company,contact_name,themes,locale\nb@example.co.jp,株式会社真偽,担当,telework;sme-talent,ja\n";
        app.import_members(&me, csv.as_bytes(), false, false).await.unwrap();
        app.unsubscribe(&me, "b@example.co.jp", Some("telework")).await.unwrap();
        // Read back as booleans: subscribed to one theme, not the other.
        assert_eq!(app.members(Some("sme-talent")).await.unwrap().len(), 1);
        assert!(app.members(Some("telework")).await.unwrap().is_empty());

        // A value that is neither 0 nor 1 is never read as true: the store names the column.
        execute(
            &env,
            "UPDATE member_themes SET subscribed = 2 WHERE theme_slug = 'telework'",
        )
        .await
        .unwrap();
        let err = app.import_members(&me, csv.as_bytes(), false, false).await.unwrap_err();
        assert!(err.to_string().contains("subscribed = 2, expected 0 or 1"), "{err}");
        assert_eq!(err.exit_code(), 3, "{err}");
    }
);

both_backends!(
    a_renamed_action_is_found_under_both_spellings,
    |mut env: TestEnv| async move {
        env.set("OUTREACH_WEB__SIGNING_KEY", "actions-test-signing-key-0123456789abcdef");
        let app = env.app(Arc::new(SystemClock)).await;
        // A row an earlier version wrote under the old spelling (the log is append-only: it keeps it).
        execute(
            &env,
            "INSERT INTO actions (at, actor_kind, actor, address, action, target, summary) \
             VALUES (1, 'operator', 'old', '', 'campaign.send-now', 'campaign 1', '{}')",
        )
        .await
        .unwrap();
        let csv = "email,company,contact_name,themes,locale\nm@example.co.jp,株式会社,担当,telework,ja\n";
        app.import_members(&tester(), csv.as_bytes(), false, false)
            .await
            .unwrap();
        let request = outreach::services::CampaignRequest {
            name: "今すぐ".into(),
            title: None,
            issue: None,
            theme_slug: "telework".into(),
            channel: outreach::domain::plan::Channel::Newsletter,
            at: None,
            cron: Some("0 9 1 * *".into()),
            from: None,
            until: None,
            fiscal_year: None,
        };
        let templates = app.templates().unwrap();
        let id = app.create_campaign(&tester(), &templates, &request).await.unwrap();
        app.send_now(&tester(), id).await.unwrap();
        let filter = ActionFilter {
            action: Some("campaign.send_now".into()),
            ..ActionFilter::default()
        };
        let rows = app.actions(&filter).await.unwrap();
        let spellings: Vec<&str> = rows.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(spellings, ["campaign.send-now", "campaign.send_now"]);
    }
);

// A one-time campaign finishes when its run is done: the worker's route to `finished` writes its action row and
// its reason in the same transaction, as the scheduler's route does (issue 17: this change escaped the log).
both_backends!(
    a_one_time_campaign_finished_by_its_run_is_in_the_log,
    |mut env: TestEnv| async move {
        let smtp = crate::support::smtp::TestSmtp::start();
        let r = crate::support::rig::rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        crate::support::rig::newsletter_fired(&r, &["one@example.co.jp", "two@example.co.jp"]).await;
        assert_eq!(r.worker.drain().await.unwrap().sent, 2);
        let c = r.app.store.campaigns().await.unwrap()[0].clone();
        assert_eq!(c.state, CampaignState::Finished);
        assert_eq!(c.state_reason, outreach::domain::campaign::StateReason::NoFiringLeft);
        let finished = recorded(&r.app, "campaign.finish").await;
        assert_eq!(finished.len(), 1, "{finished:?}");
        assert_eq!(finished[0].target, format!("campaign {}", c.id));
        assert_eq!(finished[0].actor_kind, "scheduler");
    }
);

// The send log and the consent history are append-only in the database, as the staff-action log is.
both_backends!(
    the_send_log_and_consent_history_refuse_update_and_delete,
    |mut env: TestEnv| async move {
        let smtp = crate::support::smtp::TestSmtp::start();
        let r = crate::support::rig::rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        crate::support::rig::newsletter_fired(&r, &["one@example.co.jp"]).await;
        assert_eq!(r.worker.drain().await.unwrap().sent, 1);
        for sql in [
            "UPDATE send_log SET outcome = 'failed'",
            "DELETE FROM send_log",
            "UPDATE member_events SET source = 'someone'",
            "DELETE FROM member_events",
        ] {
            let refused = execute(&env, sql).await;
            assert!(
                refused.as_ref().is_err_and(|e| e.contains("append-only")),
                "{sql}: {refused:?}"
            );
        }
        // Adding stays possible.
        execute(
            &env,
            "INSERT INTO member_events (member_id, theme_slug, event, source, reason, at) \
             SELECT id, NULL, 'created', 'test', '', 1 FROM members",
        )
        .await
        .unwrap();
    }
);

// A mailbox the mail server refuses (550 5.1.1) suppresses its member: the change is in the action log, by the
// mail server, in the transaction of the attempt (issue 17: only a member event was written).
both_backends!(
    a_suppression_by_the_mail_server_is_in_the_log,
    |mut env: TestEnv| async move {
        let smtp = crate::support::smtp::TestSmtp::start();
        let r = crate::support::rig::rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        crate::support::rig::newsletter_fired(&r, &["ok@example.co.jp", "reject@example.co.jp"]).await;
        let drained = r.worker.drain().await.unwrap();
        assert_eq!((drained.sent, drained.failed), (1, 1));
        let suppressed = recorded(&r.app, "member.suppress").await;
        assert_eq!(suppressed.len(), 1, "{suppressed:?}");
        assert_eq!(suppressed[0].actor_kind, "smtp");
        assert_eq!(suppressed[0].target, "reject@example.co.jp");
        assert!(suppressed[0].summary.contains("5.1.1"), "{}", suppressed[0].summary);
    }
);

// Signing out ends the session and records it in one transaction: a session that is already gone records nothing.
both_backends!(signing_out_twice_is_recorded_once, |mut env: TestEnv| async move {
    env.set("OUTREACH_WEB__SIGNING_KEY", "actions-test-signing-key-0123456789abcdef");
    let app = env.app(Arc::new(SystemClock)).await;
    let me = tester();
    let role = outreach::domain::account::Role::Staff;
    app.add_user(&me, "out@example.org", role, "a long enough passphrase")
        .await
        .unwrap();
    let signed_in = app
        .sign_in("out@example.org", "a long enough passphrase", "127.0.0.1")
        .await
        .unwrap();
    let user = signed_in.user.clone();
    app.sign_out(&signed_in.session_id, &user, "127.0.0.1").await.unwrap();
    app.sign_out(&signed_in.session_id, &user, "127.0.0.1").await.unwrap();
    let out = recorded(&app, "user.sign_out").await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(app.session(&signed_in.session_id).await.unwrap().is_none());
});

// A member who left everything and comes back through one theme's link gets that theme only: every other theme
// they had chosen is turned off with an event of its own, so the history says per theme what changed.
both_backends!(
    a_rejoin_records_each_theme_it_turns_off,
    |mut env: TestEnv| async move {
        env.set("OUTREACH_WEB__SIGNING_KEY", "actions-test-signing-key-0123456789abcdef");
        let app = env.app(Arc::new(SystemClock)).await;
        let csv = "email,company,contact_name,themes,locale\n\
                   back@example.co.jp,株式会社,担当,telework;sme-talent;women-advancement,ja\n";
        app.import_members(&tester(), csv.as_bytes(), false, false)
            .await
            .unwrap();
        let member = app.store.member("back@example.co.jp").await.unwrap().unwrap();
        assert!(app.leave_all_by_link(member.id, "127.0.0.1").await.unwrap());
        assert!(app.join_by_link(member.id, "telework", "127.0.0.1").await.unwrap());
        let history = app.store.member_history(member.id).await.unwrap();
        let off: Vec<&str> = history
            .iter()
            .filter(|e| e.event == "unsubscribed" && e.theme_slug.is_some())
            .filter_map(|e| e.theme_slug.as_deref())
            .collect();
        assert_eq!(off.len(), 2, "{history:?}");
        assert!(
            off.contains(&"sme-talent") && off.contains(&"women-advancement"),
            "{off:?}"
        );
        let back = app.store.member("back@example.co.jp").await.unwrap().unwrap();
        assert_eq!(back.themes, vec!["telework".to_owned()]);
    }
);
