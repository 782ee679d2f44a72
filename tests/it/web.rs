//! The member pages as members and their mail providers reach them: the link of a real sent newsletter,
//! fetched by a link scanner (GET: nothing changes), posted by Gmail's one-click button (RFC 8058: leaves at
//! once, no cookie), altered by hand (400, in both languages); and the release binary's `serve` answering.

use crate::common;
use crate::support;

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use common::{TestEnv, tester};
use outreach::store::ActionFilter;
use support::rig::*;
use support::smtp::TestSmtp;

/// Serves the member pages of `app` on a free port; the base URL to reach them.
async fn serve_pages(app: Arc<outreach::Application>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(outreach::web::serve(app, listener, std::future::pending()));
    base
}

/// The one-click URL of the mail sent to `to`, from its List-Unsubscribe header, and the body's link.
fn links_of(smtp: &TestSmtp, to: &str) -> (String, String) {
    let mail = smtp.messages().into_iter().find(|m| m.rcpt_to[0] == to).unwrap();
    let raw = String::from_utf8_lossy(&mail.data).into_owned();
    let head = raw.split("\r\n\r\n").next().unwrap();
    let header = head
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: "))
        .unwrap()
        .trim_matches(['<', '>'])
        .to_owned();
    assert!(
        head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{head}"
    );
    let path = header.split_once("/u/").unwrap().1.to_owned();
    // The text part carries the same link (quoted-printable may wrap it; the token has no '=').
    let unfolded = raw.replace("=\r\n", "");
    assert!(unfolded.contains(&path), "the mail body links the same token");
    (header, path)
}

both_backends!(
    one_click_leaves_at_once_and_a_scanner_changes_nothing,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        newsletter_fired(&r, &["stays@example.co.jp", "leaves@example.co.jp"]).await;
        assert_eq!(r.worker.drain().await.unwrap().sent, 2);
        let (header, token) = links_of(&smtp, "leaves@example.co.jp");
        assert!(header.starts_with("https://outreach.example.org/u/"), "{header}");
        let app = Arc::new(r.app);
        let url = format!("{}/u/{token}", serve_pages(app.clone()).await);
        let http = reqwest::Client::new();
        let subscribed = || async {
            let members = app.members(Some("telework")).await.unwrap();
            members.iter().map(|m| m.email.clone()).collect::<Vec<_>>()
        };

        // A mail gateway's scanner fetches the link, twice: a page with one button, and nothing changes.
        for _ in 0..2 {
            let page = http.get(&url).send().await.unwrap();
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            assert!(
                html.contains("配信を停止しますか") && html.contains("<form method=\"post\">"),
                "{html}"
            );
            assert!(
                html.contains("leaves@example.co.jp") && html.contains("テレワークの推進"),
                "{html}"
            );
        }
        assert_eq!(subscribed().await.len(), 2);

        // Gmail's one-click: a POST with the RFC 8058 body, no cookie. The member leaves the theme at once.
        let answer = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert!(answer.headers().get("set-cookie").is_none());
        assert!(answer.text().await.unwrap().contains("配信を停止しました"));
        assert_eq!(subscribed().await, ["stays@example.co.jp"]);
        let rows = app.store.actions(&ActionFilter::default()).await.unwrap();
        let left: Vec<_> = rows.iter().filter(|a| a.action == "member.unsubscribe").collect();
        assert_eq!(left.len(), 1);
        assert_eq!(
            (
                left[0].actor_kind.as_str(),
                left[0].target.as_str(),
                left[0].address.as_str()
            ),
            ("member", "leaves@example.co.jp", "127.0.0.1"),
            "the member's own change, with the client's address"
        );

        // Posted again (a double click, a retrying provider): said so, nothing recorded twice.
        let again = http.post(&url).body("List-Unsubscribe=One-Click").send().await.unwrap();
        assert_eq!(again.status(), 200);
        assert!(again.text().await.unwrap().contains("すでに配信を停止しています"));
        let rows = app.store.actions(&ActionFilter::default()).await.unwrap();
        assert_eq!(rows.iter().filter(|a| a.action == "member.unsubscribe").count(), 1);

        // A link altered by hand, or one signed with another key: 400 in both languages, nothing changes.
        let mut altered = token.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        let (stays, _) = links_of(&smtp, "stays@example.co.jp");
        let stays_token = stays.split_once("/u/").unwrap().1;
        let now = app.now();
        let forged =
            outreach::mail::token::MemberToken::verify(stays_token, &[b"test-signing-key-0123456789abcdef0123"], now)
                .unwrap()
                .sign(b"another deployment's key, 32 bytes or more");
        for bad in [altered, forged, "garbage".to_owned(), "a.b".to_owned()] {
            let base = url.rsplit_once("/u/").unwrap().0;
            for request in [
                http.get(format!("{base}/u/{bad}")),
                http.post(format!("{base}/u/{bad}")),
            ] {
                let page = request.send().await.unwrap();
                assert_eq!(page.status(), 400, "{bad}");
                let html = page.text().await.unwrap();
                assert!(
                    html.contains("このリンクは使用できません") && html.contains("This link cannot be used"),
                    "{html}"
                );
            }
        }
        assert_eq!(subscribed().await, ["stays@example.co.jp"]);
    }
);

both_backends!(
    an_english_member_reads_the_pages_in_english,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        let csv = "email,company,contact_name,themes,locale\nen@example.co.jp,Tokyo Test Ltd.,John Smith,telework,en\n";
        r.app
            .import_members(&tester(), csv.as_bytes(), false, false)
            .await
            .unwrap();
        let member = r.app.store.member("en@example.co.jp").await.unwrap().unwrap();
        let key = r.app.signing_key().unwrap();
        let links =
            outreach::mail::context::Links::for_member("", &key, member.id, "telework", r.app.now() / 86_400_000 + 90);
        let app = Arc::new(r.app);
        let base = serve_pages(app.clone()).await;
        let http = reqwest::Client::new();
        let page = http.get(format!("{base}{}", links.unsubscribe)).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(
            html.contains("<html lang=\"en\">") && html.contains("Stop receiving"),
            "{html}"
        );
        let done = http.post(format!("{base}{}", links.unsubscribe)).send().await.unwrap();
        assert!(done.text().await.unwrap().contains("You have been unsubscribed"));
        assert!(app.members(Some("telework")).await.unwrap().is_empty());
    }
);

/// The release shape: `serve` from the binary listens on `web.bind` beside the scheduler and the worker.
#[tokio::test]
async fn serve_answers_member_links() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    env.set("OUTREACH_LOG", "info")
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123");
    let (code, _, err) = env.run(&["init"]);
    assert_eq!(code, 0, "{err}");
    let mut serve = env
        .command(&["serve"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stderr.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find_map(|l| {
            l.contains("member pages listening").then(|| {
                l.split("address=")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned()
            })
        })
        .unwrap();
    let page = reqwest::get(format!("http://{address}/u/not-a-token")).await.unwrap();
    let status = page.status();
    let html = page.text().await.unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(status, 400);
    assert!(html.contains("このリンクは使用できません"), "{html}");
}

/// A port already taken stops `serve` before it claims any mail, naming the key (exit 2, configuration).
#[tokio::test]
async fn a_taken_port_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    env.set("OUTREACH_WEB__BIND", taken.local_addr().unwrap().to_string());
    let (code, _, err) = env.run(&["serve"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("web.bind") && err.contains("cannot listen"), "{err}");
}

both_backends!(
    the_preferences_page_changes_one_theme_at_a_time,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let r = rig(&mut env, &smtp, "2020-06-01T08:00", &[]).await;
        let csv =
            "email,company,contact_name,themes,locale\np@example.co.jp,株式会社設定,担当,telework;sme-talent,ja\n";
        r.app
            .import_members(&tester(), csv.as_bytes(), false, false)
            .await
            .unwrap();
        let member = r.app.store.member("p@example.co.jp").await.unwrap().unwrap();
        let key = r.app.signing_key().unwrap();
        let links =
            outreach::mail::context::Links::for_member("", &key, member.id, "telework", r.app.now() / 86_400_000 + 90);
        let app = Arc::new(r.app);
        let url = format!("{}{}", serve_pages(app.clone()).await, links.preferences);
        let http = reqwest::Client::new();
        let themes = || async {
            let m = app.store.member("p@example.co.jp").await.unwrap().unwrap();
            (m.status.as_str().to_owned(), m.themes)
        };

        // Seen: every theme of the plan with its state; fetching it changes nothing.
        let html = http.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(
            html.contains("メールマガジンの配信設定") && html.contains("配信中") && html.contains("停止中"),
            "{html}"
        );
        assert_eq!(
            html.matches("name=\"theme\" value=\"").count(),
            8,
            "seven themes and leave-all: {html}"
        );
        let before = themes().await;
        assert!(
            html.contains("株式会社設定 担当 様"),
            "greeted by company and name: {html}"
        );
        assert!(!html.contains("元に戻す"), "{html}");

        let post = |form: &'static str| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let page = http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form)
                    .send()
                    .await
                    .unwrap();
                (page.status(), page.text().await.unwrap())
            }
        };
        let (status, html) = post("theme=telework&do=leave").await;
        assert_eq!(status, 200);
        assert!(html.contains("「テレワークの推進」の配信を停止しました。"), "{html}");
        // The way back: an undo that joins the theme just left, and leave buttons unlike join buttons.
        let undo = html.split("元に戻す").next().unwrap();
        assert!(
            undo.ends_with("<button type=\"submit\" name=\"do\" value=\"join\" class=\"secondary\">")
                && undo.contains("<input type=\"hidden\" name=\"theme\" value=\"telework\"><button"),
            "{html}"
        );
        assert!(html.contains("value=\"leave\" class=\"leave\"") && html.contains("value=\"join\" class=\"join\""));
        assert_eq!(themes().await, ("active".to_owned(), vec!["sme-talent".to_owned()]));
        assert_ne!(themes().await, before);
        let (_, html) = post("theme=women-advancement&do=join").await;
        assert!(html.contains("の配信を開始しました。"), "{html}");
        assert_eq!(themes().await.1, ["sme-talent", "women-advancement"]);

        // Leaving everything, then coming back for one theme, brings back only that one.
        let (_, html) = post("theme=&do=leave-all").await;
        assert!(html.contains("すべての配信を停止しました。"), "{html}");
        assert_eq!(themes().await.0, "unsubscribed", "out of every audience");
        post("theme=telework&do=join").await;
        assert_eq!(themes().await, ("active".to_owned(), vec!["telework".to_owned()]));

        // Each change is the member's own, in the staff-action log.
        let rows = app.store.actions(&ActionFilter::default()).await.unwrap();
        let mine: Vec<_> = rows
            .iter()
            .filter(|a| a.actor_kind == "member")
            .map(|a| a.action.as_str())
            .collect();
        assert_eq!(
            mine,
            ["member.unsubscribe", "member.join", "member.unsubscribe", "member.join"]
        );

        // A theme that does not exist, or an unknown change, is refused without a change.
        let (status, _) = post("theme=golf&do=join").await;
        assert_eq!(status, 400);
        let (status, _) = post("theme=telework&do=explode").await;
        assert_eq!(status, 400);
        // A suppressed member cannot rejoin through the link: only staff lift a suppression.
        app.suppress(&tester(), "p@example.co.jp", "宛先不明").await.unwrap();
        let (_, html) = post("theme=sme-talent&do=join").await;
        assert!(html.contains("このアドレスへの配信は停止されています"), "{html}");
        assert!(
            html.contains("「中小企業の人材確保") && html.contains("の配信は開始されていません。"),
            "{html}"
        );
        assert!(
            !html.contains("の配信を開始しました。"),
            "told the truth, not that mail will come: {html}"
        );
        assert_eq!(themes().await.0, "suppressed");

        // After a one-click leave, the page links to the member's preferences (relative to it), which open.
        let base = url.split("/p/").next().unwrap().to_owned();
        let page = http.post(format!("{base}{}", links.unsubscribe)).send().await.unwrap();
        let html = page.text().await.unwrap();
        let href = html
            .split("<a href=\"../p/")
            .nth(1)
            .expect("a link back")
            .split('"')
            .next()
            .unwrap();
        let back = http.get(format!("{base}/p/{href}")).send().await.unwrap();
        assert_eq!(back.status(), 200);
        assert!(back.text().await.unwrap().contains("メールマガジンの配信設定"));
    }
);

both_backends!(links_expire_and_survive_a_key_rotation, |mut env: TestEnv| async move {
    let smtp = TestSmtp::start();
    let old_key = "the-key-before-the-rotation-0123456789";
    let r = rig(
        &mut env,
        &smtp,
        "2020-06-01T08:00",
        &[("OUTREACH_WEB__SIGNING_KEY", old_key)],
    )
    .await;
    newsletter_fired(&r, &["old@example.co.jp", "late@example.co.jp"]).await;
    assert_eq!(r.worker.drain().await.unwrap().sent, 2);
    let (_, old_link) = links_of(&smtp, "old@example.co.jp");
    let (_, late_link) = links_of(&smtp, "late@example.co.jp");

    // The deployment rotates its key: links already sent keep working with the previous key set.
    env.set("OUTREACH_WEB__SIGNING_KEY", "the-key-after-the-rotation-0123456789")
        .set("OUTREACH_WEB__PREVIOUS_SIGNING_KEY", old_key);
    let rotated = Arc::new(
        outreach::Application::open(env.settings(), Arc::new(r.clock.clone()))
            .await
            .unwrap(),
    );
    let base = serve_pages(rotated.clone()).await;
    let http = reqwest::Client::new();
    let page = http.post(format!("{base}/u/{old_link}")).send().await.unwrap();
    assert_eq!(page.status(), 200, "signed before the rotation, still honoured");

    // Without the previous key the same kind of link is foreign.
    env.set("OUTREACH_WEB__PREVIOUS_SIGNING_KEY", "");
    let forgotten = Arc::new(
        outreach::Application::open(env.settings(), Arc::new(r.clock.clone()))
            .await
            .unwrap(),
    );
    let base_forgotten = serve_pages(forgotten).await;
    let page = http
        .get(format!("{base_forgotten}/u/{late_link}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);

    // 91 days after the mail, the link has expired: its own page, nothing changes.
    r.clock.advance_secs(91 * 86_400);
    let page = http.post(format!("{base}/u/{late_link}")).send().await.unwrap();
    assert_eq!(page.status(), 400);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("有効期限が切れています") && html.contains("This link has expired"),
        "{html}"
    );
    let still = rotated.members(Some("telework")).await.unwrap();
    assert!(still.iter().any(|m| m.email == "late@example.co.jp"));
});

#[tokio::test]
async fn a_short_signing_key_is_refused() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    env.set("OUTREACH_WEB__SIGNING_KEY", "too-short");
    let (code, _, err) = env.run(&["init"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("web.signing_key") && err.contains("at least 32"), "{err}");
}

/// A second folder on the same database must not sign with a key of its own: every link already sent would stop
/// working. The key that signs is recorded; another is refused unless it rotates from it.
#[tokio::test]
async fn a_database_keeps_the_key_its_links_were_signed_with() {
    let first = TestEnv::new(common::Db::Sqlite).await.unwrap();
    for args in [&["init"][..], &["send-due"]] {
        let (code, _, err) = first.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    // Another folder on the same database, with no key: init refuses to make a new one.
    let mut second = TestEnv::new(common::Db::Sqlite).await.unwrap();
    second.set("OUTREACH_DATABASE__URL", first.url.as_str());
    let (code, _, err) = second.run(&["init"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("web.signing_key") && err.contains("instead of creating a new one"),
        "{err}"
    );
    assert!(!second.path().join("signing.key").exists());

    // Configured with another key: it does not send.
    let old_key = std::fs::read_to_string(first.path().join("signing.key")).unwrap();
    let new_key = "a-key-of-the-second-folder-0123456789abcdef";
    second.set("OUTREACH_WEB__SIGNING_KEY", new_key);
    let (code, _, err) = second.run(&["send-due"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("were signed with key"), "{err}");
    // Rotating from the recorded key is allowed, and from then on the new key is the one.
    second.set("OUTREACH_WEB__PREVIOUS_SIGNING_KEY", old_key.trim());
    let (code, _, err) = second.run(&["send-due"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = first.run(&["send-due"]);
    assert_eq!(code, 2, "the old key alone no longer signs: {err}");
}
