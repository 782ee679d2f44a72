//! The member CSV check in the browser (a real file chosen in the file input: the bad line named, nothing
//! imported), and the roles as a browser meets them: an auditor gets the 403 page on every staff page and
//! sees no staff form, and the staff forms posted from the auditor's own session are refused; a staff user
//! gets the same on every admin page and form.

use std::io::Write;

use outreach::domain::campaign::CampaignState;
use outreach::domain::plan::Channel;

use super::harness::{Browser, WAIT};
use super::staff::{PASSWORD, fetch_status, import_members, run_js, staff_site, table_rows};
use crate::common::{self, TestEnv, tester};
use crate::support::rig::campaign;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_csv_with_one_bad_row_is_named_and_nothing_is_imported() {
    let Some(b) = Browser::start().await else { return };
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let (app, base) = staff_site(&mut env).await;
    b.sign_in(&base, "staff@example.org", PASSWORD).await;
    b.goto("/staff/members/import").await;
    b.wait_text("h1", "会員CSVの取り込み", WAIT).await;
    b.axe().await;

    // A file on disk, chosen in the file input as a person would.
    let mut file = tempfile::Builder::new()
        .prefix("members-")
        .suffix(".csv")
        .tempfile()
        .expect("a temporary file");
    file.write_all(
        "email,company,contact_name,themes,locale\n\
         ok@example.jp,会社A,担当A,telework,ja\n\
         not-an-address,会社B,担当B,telework,ja\n\
         two@example.jp,会社C,担当C,telework,ja\n"
            .as_bytes(),
    )
    .expect("write the file");
    let path = file.path().to_str().expect("a UTF-8 path").to_owned();
    b.find("input[type=file]#file")
        .await
        .send_keys(&path)
        .await
        .expect("choose the file");
    b.click("ファイルを確認する").await;

    // The dry run: line 3 named with its problem, no import button, nothing in the database.
    b.wait_text("main", "誤りのある行：1 行", WAIT).await;
    let refused = table_rows(&b, "誤りのある行").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0][0], "3", "the line of the bad row: {refused:?}");
    assert!(refused[0][1].contains("not-an-address"), "the problem: {refused:?}");
    assert!(b.text("main").await.contains("取り込める行：2 行"));
    let confirm = run_js(&b, "return document.querySelectorAll('input[name=confirm]').length;").await;
    assert_eq!(confirm, 0, "no import button for a file with errors");
    assert!(app.members(None).await.expect("members").is_empty(), "nothing imported");
    b.axe().await;
}

/// Every staff page (`{id}` a campaign, `{run}` a run, `{member}` a member).
const STAFF_PAGES: &[&str] = &[
    "/staff",
    "/staff/runs/{run}/progress",
    "/staff/schedule/preview?cron=0+9+*+*+MON",
    "/staff/campaigns",
    "/staff/campaigns/new",
    "/staff/campaigns/{id}",
    "/staff/campaigns/{id}/preview.html",
    "/staff/campaigns/{id}/confirm/pause",
    "/staff/campaigns/{id}/confirm/resume",
    "/staff/campaigns/{id}/confirm/cancel",
    "/staff/campaigns/{id}/confirm/send-now",
    "/staff/members",
    "/staff/members/{member}",
    "/staff/advisors",
    "/staff/members/import",
];
/// Every staff form (urlencoded; the upload takes any body and refuses it first).
const STAFF_ACTIONS: &[&str] = &[
    "/staff/campaigns",
    "/staff/campaigns/{id}/pause",
    "/staff/campaigns/{id}/cancel",
    "/staff/campaigns/{id}/send-now",
    "/staff/campaigns/{id}/send-test",
    "/staff/members/{member}/suppress",
    "/staff/members/{member}/unsubscribe",
    "/staff/advisors/activate",
    "/staff/members/import",
];
const ADMIN_PAGES: &[&str] = &["/admin/users", "/admin/tokens", "/admin/config"];
const ADMIN_ACTIONS: &[&str] = &[
    "/admin/users",
    "/admin/users/active",
    "/admin/users/role",
    "/admin/tokens",
    "/admin/tokens/1/revoke",
];

/// Opens `path` and expects the 403 page for `role` (also the status the page's own fetch gets).
async fn refused(b: &Browser, path: &str, role: &str) {
    b.goto(path).await;
    b.wait_text("h1", "操作できません", WAIT).await;
    let text = b.text("main").await;
    assert!(
        text.contains(&format!("この操作は、あなたの権限（{role}）では行えません。")),
        "{path}: {text}"
    );
    assert_eq!(fetch_status(b, "GET", path).await, 403, "GET {path}");
    b.axe().await;
}

/// The forms posting anywhere but the sign-out.
async fn forms(b: &Browser) -> Vec<String> {
    let actions = run_js(
        b,
        "return Array.from(document.forms).filter(f => f.method === 'post')\
           .map(f => f.getAttribute('action')).filter(a => a !== '/sign-out');",
    )
    .await;
    serde_json::from_value(actions).expect("form actions")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_auditor_is_refused_every_staff_page_and_form_and_staff_every_admin_one() {
    let Some(b) = Browser::start().await else { return };
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let (app, base) = staff_site(&mut env).await;
    import_members(&app, &[("m@example.co.jp", "株式会社見本", "見本 太郎")]).await;
    let id = campaign(&app, Channel::Newsletter, None, Some("0 9 1 * *")).await;
    let run = app.send_now(&tester(), id).await.expect("send now").expect("a run");
    let member = app
        .store
        .member("m@example.co.jp")
        .await
        .expect("member")
        .expect("known")
        .id;
    let fill = |p: &str| {
        p.replace("{id}", &id.to_string())
            .replace("{run}", &run.id.to_string())
            .replace("{member}", &member.to_string())
    };

    // The auditor lands on the send log; the menu and the pages they may use offer no staff form.
    b.sign_in(&base, "auditor@example.org", PASSWORD).await;
    assert!(b.url().await.ends_with("/audit/log"), "{}", b.url().await);
    let menu = b.text("nav").await;
    assert!(
        menu.contains("送信ログ") && !menu.contains("キャンペーン") && !menu.contains("会員"),
        "{menu}"
    );
    for path in ["/audit/log", "/audit/actions"] {
        b.goto(path).await;
        b.wait_text("body", "auditor@example.org", WAIT).await;
        assert_eq!(forms(&b).await, Vec::<String>::new(), "no staff form on {path}");
        b.axe().await;
    }
    for path in STAFF_PAGES.iter().chain(ADMIN_PAGES) {
        refused(&b, &fill(path), "監査").await;
    }
    // The staff forms posted from the auditor's session, with its CSRF token: refused, nothing changed.
    b.goto("/audit/log").await;
    for path in STAFF_ACTIONS.iter().chain(ADMIN_ACTIONS) {
        assert_eq!(fetch_status(&b, "POST", &fill(path)).await, 403, "auditor POST {path}");
    }
    assert_eq!(
        app.campaign(id).await.expect("campaign").state,
        CampaignState::Scheduled
    );
    assert_eq!(app.campaigns().await.expect("campaigns").len(), 1);
    assert_eq!(app.all_runs().await.expect("runs").len(), 1);
    let m = app
        .store
        .member("m@example.co.jp")
        .await
        .expect("member")
        .expect("known");
    assert_eq!(m.status.as_str(), "active");
    assert_eq!(m.themes, ["telework"]);

    // Staff: every admin page and form refused; the same form from staff goes through (the check is the role).
    b.click("ログアウト").await;
    assert!(b.wait_until(|url| url.ends_with("/sign-in")).await);
    b.sign_in(&base, "staff@example.org", PASSWORD).await;
    let menu = b.text("nav").await;
    assert!(menu.contains("キャンペーン") && !menu.contains("ユーザー"), "{menu}");
    for path in ADMIN_PAGES {
        refused(&b, path, "スタッフ").await;
    }
    b.goto("/staff").await;
    for path in ADMIN_ACTIONS {
        assert_eq!(fetch_status(&b, "POST", path).await, 403, "staff POST {path}");
    }
    assert_eq!(app.users().await.expect("users").len(), 3, "no user added");
    assert_eq!(
        fetch_status(&b, "POST", &fill("/staff/campaigns/{id}/pause")).await,
        0,
        "a staff form from the same session is taken (an opaque redirect)"
    );
    assert_eq!(app.campaign(id).await.expect("campaign").state, CampaignState::Paused);
}
