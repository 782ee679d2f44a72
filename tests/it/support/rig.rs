//! A scheduler and worker on a hand-moved clock, sending to a real SMTP server: the set-up the delivery tests
//! share.
#![allow(dead_code)]

use std::sync::Arc;

use outreach::Application;
use outreach::clock::ManualClock;
use outreach::domain::campaign::schedule::parse_local_datetime;
use outreach::domain::plan::Channel;
use outreach::runtime::Instance;
use outreach::runtime::Worker;
use outreach::services::CampaignRequest;

use super::smtp::TestSmtp;
use crate::common::TestEnv;

pub fn tokyo(s: &str) -> i64 {
    parse_local_datetime("test", s, chrono_tz::Asia::Tokyo).unwrap()
}

pub struct Rig {
    pub app: Application,
    pub clock: ManualClock,
    pub worker: Worker,
}

pub async fn rig(env: &mut TestEnv, smtp: &TestSmtp, start: &str, extra: &[(&str, &str)]) -> Rig {
    rig_on(env, smtp.port(), start, extra).await
}

pub async fn rig_on(env: &mut TestEnv, port: u16, start: &str, extra: &[(&str, &str)]) -> Rig {
    env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
        .set("OUTREACH_SMTP__HOST", "127.0.0.1")
        .set("OUTREACH_SMTP__PORT", port.to_string())
        .set("OUTREACH_SMTP__TIMEOUT_SECS", "5")
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123")
        .set("OUTREACH_WEB__BASE_URL", "https://outreach.example.org")
        .set("OUTREACH_DELIVERY__FAILURE_MIN_SAMPLE", "1000");
    for (k, v) in extra {
        env.set(k, *v);
    }
    let clock = ManualClock::at(tokyo(start));
    let app = env.app(Arc::new(clock.clone())).await;
    let worker = worker_of(&app).await;
    Rig { app, clock, worker }
}

/// A worker of its own registered instance, as `serve` and `send-due` make one.
pub async fn worker_of(app: &Application) -> Worker {
    let instance = Instance::register(app.store.clone(), "send-due").await.unwrap();
    app.worker(app.transport().unwrap(), &instance.id).await.unwrap()
}

pub async fn import(app: &Application, rows: &[(&str, &str)]) {
    let mut csv = String::from("email,company,contact_name,themes,locale\n");
    for (email, themes) in rows {
        csv.push_str(&format!("{email},株式会社テスト,担当 太郎,{themes},ja\n"));
    }
    let result = app
        .import_members(&crate::common::tester(), csv.as_bytes(), false, false)
        .await
        .unwrap();
    assert!(result.rejected.is_empty(), "{:?}", result.rejected);
}

pub async fn campaign(app: &Application, channel: Channel, at: Option<&str>, cron: Option<&str>) -> i64 {
    create(app, &request(channel, at, cron)).await
}

/// The request [`campaign`] makes, to change before [`create`].
pub fn request(channel: Channel, at: Option<&str>, cron: Option<&str>) -> CampaignRequest {
    CampaignRequest {
        name: "テスト配信".into(),
        title: None,
        issue: None,
        theme_slug: "telework".into(),
        channel,
        at: at.map(str::to_owned),
        cron: cron.map(str::to_owned),
        from: None,
        until: None,
        fiscal_year: None,
    }
}

pub async fn create(app: &Application, request: &CampaignRequest) -> i64 {
    let templates = app.templates().unwrap();
    app.create_campaign(&crate::common::tester(), &templates, request)
        .await
        .unwrap()
}

/// Members (each subscribed to telework) and a one-time newsletter to them at 09:00 on 2020-06-01, fired at
/// 09:00:01: the run has started and its audience is frozen.
pub async fn newsletter_fired<S: AsRef<str>>(r: &Rig, emails: &[S]) -> outreach::runtime::Tick {
    import(
        &r.app,
        &emails.iter().map(|e| (e.as_ref(), "telework")).collect::<Vec<_>>(),
    )
    .await;
    campaign(&r.app, Channel::Newsletter, Some("2020-06-01T09:00"), None).await;
    r.clock.set(tokyo("2020-06-01T09:00:01"));
    r.app.scheduler().fire_due().await.unwrap()
}

/// The one campaign, paused by a refusal that was the server's, with its reply as the reason, and every member
/// still active.
pub async fn paused_touching_nobody(app: &Application, reply: &str) -> outreach::domain::campaign::Campaign {
    let c = app.store.campaigns().await.unwrap()[0].clone();
    assert_eq!(c.state, outreach::domain::campaign::CampaignState::Paused);
    assert!(
        matches!(
            &c.state_reason,
            outreach::domain::campaign::StateReason::ServerRefusesSending { .. }
        ),
        "{:?}",
        c.state_reason
    );
    assert!(c.state_reason.to_string().contains(reply), "{}", c.state_reason);
    assert!(
        app.store
            .members(None)
            .await
            .unwrap()
            .iter()
            .all(|m| m.status == "active")
    );
    c
}
