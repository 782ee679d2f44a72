//! Editing a campaign: through the staff page (the form filled from the campaign, bad input shown beside its
//! field with what was typed kept, only staff, only with the session's token) and in the service (a new
//! schedule fires from now on: ticks already past are never fired because of an edit).

use crate::common;
use crate::support;

use common::{TestEnv, tester};
use outreach::domain::campaign::{CampaignState, Schedule};
use outreach::domain::plan::Channel;
use outreach::services::CampaignEdit;
use outreach::store::ActionFilter;
use support::rig::*;
use support::smtp::TestSmtp;
use support::staff_site::plain;

/// A monthly newsletter campaign made through the service; its id.
async fn monthly(app: &outreach::Application) -> i64 {
    let mut request = request(Channel::Newsletter, None, Some("0 9 * * MON#1"));
    request.name = "月例メールマガジン".into();
    create(app, &request).await
}

both_backends!(staff_edit_a_campaign_on_its_page, |mut env: TestEnv| async move {
    let site = plain(&mut env, &[]).await;
    let id = monthly(&site.app).await;
    let staff = site.sign_in("staff@example.org").await;
    let path = format!("/staff/campaigns/{id}/edit");

    // The form is filled from the campaign; theme and channel are not offered.
    let (status, html) = site.get(&staff, &path).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("value=\"月例メールマガジン\"") && html.contains("0 9 * * MON#1"),
        "{html}"
    );
    assert!(!html.contains("<select id=\"theme\""), "theme is not offered: {html}");

    // Bad input: the message beside the field, what was typed kept, nothing changed.
    let (status, html) = site
        .post(
            &staff,
            &path,
            &[("name", "新しい名前"), ("kind", "cron"), ("cron", "0 0 31 2 *")],
        )
        .await;
    assert_eq!(status, 400, "{html}");
    assert!(
        html.contains("id=\"schedule-error\"") && html.contains("value=\"新しい名前\""),
        "{html}"
    );
    assert!(html.contains("0 0 31 2 *"), "the typed cron is kept: {html}");
    assert_eq!(site.app.campaign(id).await.unwrap().name, "月例メールマガジン");

    // A good edit: saved, recorded with what changed, as the signed-in user.
    let (status, _) = site
        .post(
            &staff,
            &path,
            &[
                ("name", "新しい名前"),
                ("title", "7月のお知らせ"),
                ("kind", "cron"),
                ("cron", "30 10 * * MON#1"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let c = site.app.campaign(id).await.unwrap();
    assert_eq!(
        (c.name.as_str(), c.title.as_deref()),
        ("新しい名前", Some("7月のお知らせ"))
    );
    assert!(matches!(&c.schedule, Schedule::Cron { expr, .. } if expr == "30 10 * * MON#1"));
    let edits = site
        .app
        .actions(&ActionFilter {
            action: Some("campaign.edit".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(
        (edits[0].actor.as_str(), edits[0].address.as_str()),
        ("staff@example.org", "127.0.0.1")
    );
    assert!(
        edits[0].summary.contains("新しい名前") && edits[0].summary.contains("30 10"),
        "{}",
        edits[0].summary
    );
    // The same again changes nothing and records nothing.
    let same = [
        ("name", "新しい名前"),
        ("title", "7月のお知らせ"),
        ("kind", "cron"),
        ("cron", "30 10 * * MON#1"),
    ];
    assert_eq!(site.post(&staff, &path, &same).await.0, 303);
    assert_eq!(
        site.app
            .actions(&ActionFilter {
                action: Some("campaign.edit".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );

    // Without the session's token: refused, nothing changed.
    let answer = site
        .http
        .post(format!("{}{path}", site.base))
        .header("cookie", &staff.cookie)
        .form(&[("name", "x"), ("kind", "cron"), ("cron", "0 9 * * *")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    // An auditor may neither see the form nor post it.
    let auditor = site.sign_in("auditor@example.org").await;
    assert_eq!(site.get(&auditor, &path).await.0, 403);
    assert_eq!(site.post(&auditor, &path, &same).await.0, 403);
    // A cancelled campaign is not edited.
    site.app
        .set_campaign_state(&tester(), id, CampaignState::Cancelled)
        .await
        .unwrap();
    assert_eq!(site.get(&staff, &path).await.0, 409);
    assert_eq!(site.app.campaign(id).await.unwrap().name, "新しい名前");
});

both_backends!(a_new_schedule_fires_from_now_on_only, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
    import(&r.app, &[("member@example.co.jp", "telework")]).await;
    let id = campaign(&r.app, Channel::Newsletter, None, Some("0 9 * * *")).await;
    // Nothing fired at 9:00 (the process was down); at 10:00 staff move the daily time to 9:30.
    r.clock.set(tokyo("2020-06-01T10:00"));
    let edit = CampaignEdit {
        name: "テスト配信".into(),
        title: None,
        issue: None,
        at: None,
        cron: Some("30 9 * * *".into()),
    };
    let templates = r.app.templates().unwrap();
    assert!(r.app.edit_campaign(&tester(), &templates, id, &edit).await.unwrap());
    // Neither 9:00 nor 9:30 of today fires late because of the edit.
    r.clock.set(tokyo("2020-06-01T10:00:01"));
    r.app.scheduler().fire_due().await.unwrap();
    assert!(r.app.runs(id).await.unwrap().is_empty());
    // Tomorrow at 9:30 it fires.
    r.clock.set(tokyo("2020-06-02T09:30:01"));
    r.app.scheduler().fire_due().await.unwrap();
    let runs = r.app.runs(id).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].run.scheduled_for, tokyo("2020-06-02T09:30"));
    // An edit that never fires is refused; a paused campaign can be edited and stays paused.
    let never = CampaignEdit {
        cron: Some("0 0 31 2 *".into()),
        ..edit.clone()
    };
    let refused = r
        .app
        .edit_campaign(&tester(), &templates, id, &never)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("never fires"), "{refused}");
    r.app
        .set_campaign_state(&tester(), id, CampaignState::Paused)
        .await
        .unwrap();
    let later = CampaignEdit {
        cron: Some("0 11 * * *".into()),
        ..edit
    };
    assert!(r.app.edit_campaign(&tester(), &templates, id, &later).await.unwrap());
    assert_eq!(r.app.campaign(id).await.unwrap().state, CampaignState::Paused);
});
