//! The attack suite: what an attacker tried against a served instance (the real binary's `serve`, started from
//! an empty folder with only environment variables), on both backends, so that none of it regresses. The holes
//! of issue 15 that these tests show — each failed before its fix — and the attempts that held: markup in every
//! field, roles on routes, CSRF variants and tampered member links.

use crate::common;
use crate::support;

use std::time::Duration;

use common::TestEnv;
use serde_json::json;
use support::served::*;

/// The page a preview's link shows: what the link would do, and that nothing was done.
const PREVIEW_PAGE: &str = "これはプレビュー用のリンクです";

both_backends!(
    staff_cannot_act_in_a_members_name_and_looking_is_recorded,
    |env: TestEnv| async move {
        let s = served(env).await;
        let staff = s.sign_in(STAFF).await;
        let (status, html) = s
            .get(
                &staff.cookie,
                &format!("/staff/campaigns/{}/preview.html?member=alice%40example.jp", s.campaign),
            )
            .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("有栖"), "the member's own mail: {html}");
        let (prefs, leave) = (member_links(&html, "p"), member_links(&html, "u"));
        assert!(!prefs.is_empty() && !leave.is_empty(), "{html}");
        // The links look like the member's, and act on nothing: joining a theme, leaving one.
        for (path, form) in [
            (&prefs[0], vec![("do", "join"), ("theme", "smooth-biz")]),
            (&prefs[0], vec![("do", "leave-all")]),
            (&leave[0], vec![]),
        ] {
            let answer = s.http.post(s.url(path)).form(&form).send().await.unwrap();
            assert_eq!(answer.status(), 200, "{path}");
            assert!(answer.text().await.unwrap().contains(PREVIEW_PAGE), "{path}");
        }
        let shown = s.cli(&["members", "show", ALICE]);
        assert!(shown.contains("themes: telework\n"), "{shown}");
        assert!(!shown.contains("by member"), "{shown}");

        // The command line's preview is inert and recorded too, as the operator's.
        let printed = s.cli(&[
            "preview",
            "--theme",
            "telework",
            "--channel",
            "newsletter",
            "--member",
            ALICE,
        ]);
        let cli_link = &member_links(&printed, "p")[0];
        let answer = s.http.get(s.url(cli_link)).send().await.unwrap();
        assert!(answer.text().await.unwrap().contains(PREVIEW_PAGE));

        // A test mail's links say they are a preview's (they used to open "this link cannot be used").
        let (status, _) = s
            .post(&staff, &format!("/staff/campaigns/{}/send-test", s.campaign), &[])
            .await;
        assert_eq!(status, 303);
        let test_mail = s
            .outbox()
            .into_iter()
            .find(|m| m.subject.starts_with("[テスト]"))
            .expect("the test mail in the outbox");
        let test_link = &member_links(&test_mail.html, "u")[0];
        let answer = s.http.get(s.url(test_link)).send().await.unwrap();
        assert!(answer.text().await.unwrap().contains(PREVIEW_PAGE));

        let log = s.cli(&["actions", "list", "--action", "campaign.preview_as_member"]);
        let rows: Vec<&str> = log.lines().collect();
        assert!(
            rows.iter()
                .any(|r| r.contains(&format!("user {STAFF}")) && r.contains(ALICE)),
            "{log}"
        );
        assert!(
            rows.iter().any(|r| r.contains("operator ") && r.contains(ALICE)),
            "{log}"
        );
        let joins = s.cli(&["actions", "list", "--action", "member.join"]);
        assert!(joins.trim().is_empty(), "{joins}");
    }
);

both_backends!(
    another_spelling_of_an_address_counts_against_its_limits,
    |env: TestEnv| async move {
        let s = served(env).await;
        let ask = |email: &'static str| {
            let request = s.http.post(s.url("/link")).form(&[("email", email)]);
            async move { request.send().await.unwrap() }
        };
        for _ in 0..3 {
            assert_eq!(ask(ALICE).await.status(), 200);
        }
        for spelling in [
            ALICE,
            "alice@ｅｘａｍｐｌｅ.jp",
            "alice@example。jp",
            " ALICE@Example.JP ",
        ] {
            assert_eq!(ask(spelling).await.status(), 429, "{spelling}");
        }
        let refused = ask(ALICE).await;
        let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&wait), "{wait}");
        // The mails go out after the answers: wait for the three, then make sure no fourth follows.
        let to_alice = || {
            s.outbox()
                .iter()
                .filter(|m| m.header("To").is_some_and(|to| to.contains(ALICE)))
                .count()
        };
        for _ in 0..50 {
            if to_alice() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(to_alice(), 3);

        // Sign-in: the typed address's limit is the account's, whatever the spelling.
        for _ in 0..5 {
            let (status, _) = s
                .post_raw(
                    "",
                    "/sign-in",
                    &[("email", STAFF), ("password", "wrong password!")],
                    &[],
                )
                .await;
            assert_eq!(status, 401);
        }
        let (status, _) = s
            .post_raw(
                "",
                "/sign-in",
                &[("email", "staff@ｅｘａｍｐｌｅ.org"), ("password", PASSWORD)],
                &[],
            )
            .await;
        assert_eq!(status, 429);
    }
);

/// Texts an attacker pastes: a forged line with a colour change, NUL, and 60 KB.
const FORGED: &str = "月次\r\nforged line\u{1b}[31m red";

both_backends!(
    control_characters_are_refused_everywhere_and_escaped_on_terminals,
    |env: TestEnv| async move {
        let s = served(env).await;
        let token = s.token(STAFF);
        let long = "長".repeat(60_000 / 3);
        for (name, why) in [
            (FORGED, "control characters"),
            ("nul\0name", "control characters"),
            (long.as_str(), "longer than the limit of 200"),
        ] {
            let body = json!({"name": name, "theme": "telework", "channel": "newsletter", "cron": "0 9 1 * *"});
            let (status, error) = s.api(&token, "POST", "/campaigns", Some(body)).await;
            assert_eq!(status, 400, "{error}");
            assert_eq!(error["field"], "name", "{error}");
            assert!(error["message"].as_str().unwrap().contains(why), "{error}");
        }
        let (status, error) = s
            .api(
                &token,
                "POST",
                "/members/alice@example.jp/suppress",
                Some(json!({"reason": FORGED})),
            )
            .await;
        assert_eq!((status.as_u16(), &error["field"]), (400, &json!("reason")), "{error}");
        let (status, error) = s
            .api(
                &token,
                "POST",
                "/members/alice%00@example.jp/suppress",
                Some(json!({"reason": "x"})),
            )
            .await;
        assert_eq!(status, 400, "{error}");
        let (status, _) = s.api(&token, "GET", "/send-log?recipient=a%00b", None).await;
        assert_eq!(status, 400);

        // The pages: a reason with NUL is explained beside its field, and nothing changes.
        let staff = s.sign_in(STAFF).await;
        let alice = s.member_id(&token, ALICE).await;
        let (status, html) = s
            .post(
                &staff,
                &format!("/staff/members/{alice}/suppress"),
                &[("reason", "a\0b")],
            )
            .await;
        assert_eq!(status, 400);
        assert!(html.contains("改行や制御文字は使えません"), "{html}");
        let (status, _) = s.get(&staff.cookie, "/staff/members?q=a%00b").await;
        assert!(status.is_client_error() || status.is_success(), "{status}");
        assert!(!s.cli(&["members", "show", ALICE]).contains("suppressed"));

        // The command line refuses the same texts, exit 1.
        let (code, _, err) = s.env.run(&[
            "campaign",
            "create",
            "--name",
            FORGED,
            "--theme",
            "telework",
            "--channel",
            "newsletter",
            "--cron",
            "0 9 1 * *",
        ]);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("--name must not contain control characters (U+000D found)"),
            "{err}"
        );
        assert!(!err.contains('\u{1b}'), "{err}");

        // Rows written before these rules print escaped: no forged line, no colour.
        s.sql("UPDATE campaigns SET name = $1", FORGED).await;
        s.sql("UPDATE members SET company = $1", FORGED).await;
        let id = s.campaign.to_string();
        for args in [
            vec!["campaign", "list"],
            vec!["campaign", "show", &id],
            vec!["members", "show", ALICE],
        ] {
            let out = s.cli(&args);
            assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{args:?}: {out:?}");
            assert!(out.contains("月次\\r\\nforged line\\u{1b}[31m red"), "{args:?}: {out}");
            assert!(!out.lines().any(|l| l.starts_with("forged line")), "{out}");
        }
    }
);

both_backends!(
    nul_in_a_sign_in_is_a_bad_request_and_still_recorded,
    |env: TestEnv| async move {
        let s = served(env).await;
        let (status, html) = s
            .post_raw(
                "",
                "/sign-in",
                &[("email", "admin@example.org\0"), ("password", PASSWORD)],
                &[],
            )
            .await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("使えない文字"), "{html}");
        let failed = s.cli(&["actions", "list", "--action", "user.sign_in_failed"]);
        assert!(failed.contains(&format!("\t{ADMIN}\t")), "{failed:?}");
        assert!(!failed.contains("\\0") && !failed.contains('\0'), "{failed:?}");
    }
);

both_backends!(
    what_held_still_holds_markup_roles_csrf_and_tampered_links,
    |env: TestEnv| async move {
        let s = served(env).await;
        let token = s.token(STAFF);
        let markup = "<script>alert(1)</script><img src=x onerror=alert(2)>";
        let body =
            json!({"name": markup, "title": markup, "theme": "telework", "channel": "newsletter", "cron": "0 9 1 * *"});
        let (status, created) = s.api(&token, "POST", "/campaigns", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        let marked = created["id"].as_i64().unwrap();
        let staff = s.sign_in(STAFF).await;
        for path in [
            "/staff/campaigns".to_owned(),
            format!("/staff/campaigns/{marked}"),
            "/staff".to_owned(),
        ] {
            let (_, html) = s.get(&staff.cookie, &path).await;
            assert!(
                !html.contains("<script>alert") && !html.contains("<img src=x"),
                "{path}"
            );
        }

        // Roles: an auditor's valid session and token change nothing; staff reach no admin page.
        let auditor = s.sign_in(AUDITOR).await;
        let pause = format!("/staff/campaigns/{}/pause", s.campaign);
        for path in [
            pause.as_str(),
            "/staff/campaigns",
            "/staff/members/1/suppress",
            "/admin/users",
        ] {
            let (status, _) = s.post(&auditor, path, &[("reason", "x"), ("name", "x")]).await;
            assert_eq!(status, 403, "auditor on {path}");
        }
        let (status, _) = s.post(&staff, "/admin/users", &[("email", "x@example.org")]).await;
        assert_eq!(status, 403);
        let auditor_token = s.token(AUDITOR);
        let (status, _) = s
            .api(
                &auditor_token,
                "POST",
                &format!("/campaigns/{}/pause", s.campaign),
                None,
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = s.get("", "/staff/campaigns").await;
        assert!(status.is_redirection() || status == 401, "{status}");

        // CSRF: no token, another session's token, another site's page.
        let csrf = staff.csrf.as_str();
        for (fields, headers) in [
            (vec![], vec![]),
            (vec![("csrf", auditor.csrf.as_str())], vec![]),
            (vec![("csrf", csrf)], vec![("origin", "https://evil.example")]),
            (vec![("csrf", csrf)], vec![("sec-fetch-site", "cross-site")]),
        ] {
            let (status, _) = s.post_raw(&staff.cookie, &pause, &fields, &headers).await;
            assert_eq!(status, 403, "{fields:?} {headers:?}");
        }
        let shown = s.cli(&["campaign", "show", &s.campaign.to_string()]);
        assert!(shown.contains("state: scheduled"), "{shown}");

        // Tampered member links: a live one from a fresh-link mail, altered three ways.
        assert_eq!(
            s.http
                .post(s.url("/link"))
                .form(&[("email", BOB)])
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let live = member_links(&s.mail_to(BOB).await.text, "p")[0].clone();
        assert_eq!(s.http.get(s.url(&live)).send().await.unwrap().status(), 200);
        let (payload, signature) = live.trim_start_matches("/p/").split_once('.').unwrap();
        let flipped = if signature.ends_with('A') { "B" } else { "A" };
        for forged in [
            format!("/p/{payload}.{}{flipped}", &signature[..signature.len() - 1]),
            format!("/u/{payload}.{signature}"),
            format!("/p/{}.{signature}", payload.replacen('c', "d", 1)),
            "/p/%FF%FE.x".to_owned(),
        ] {
            let answer = s
                .http
                .post(s.url(&forged))
                .form(&[("do", "leave-all")])
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 400, "{forged}");
        }
        let bob = s.cli(&["members", "show", BOB]);
        let themes = bob.lines().find(|l| l.starts_with("themes: ")).unwrap_or_default();
        assert!(themes.contains("telework") && themes.contains("smooth-biz"), "{bob}");
    }
);

both_backends!(
    secrets_files_caches_and_slow_clients_are_handled,
    |env: TestEnv| async move {
        use std::io::{Read, Write};
        use std::os::unix::fs::PermissionsExt;
        let s = served(env).await;
        let admin = s.sign_in(ADMIN).await;
        // The configuration page shows that a password is set, never the password.
        let (status, html) = s.get(&admin.cookie, "/admin/config").await;
        assert_eq!(status, 200);
        assert!(!html.contains("smtp-secret-never-shown"), "{html}");

        // Pages with personal data are not kept by caches: a member's page, a staff page, the API.
        let staff = s.sign_in(STAFF).await;
        assert_eq!(
            s.http
                .post(s.url("/link"))
                .form(&[("email", ALICE)])
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let prefs = member_links(&s.mail_to(ALICE).await.text, "p")[0].clone();
        for (path, cookie) in [(prefs.as_str(), ""), ("/staff/members", staff.cookie.as_str())] {
            let answer = s.http.get(s.url(path)).header("cookie", cookie).send().await.unwrap();
            assert_eq!(answer.status(), 200, "{path}");
            assert_eq!(answer.headers()["cache-control"], "no-store", "{path}");
        }

        // Everything the service wrote is its user's alone, though serve ran under umask 022.
        let mut open_to_others = Vec::new();
        let mut folders = vec![s.env.path().join("outbox")];
        folders.push(s.env.path().to_path_buf());
        for folder in folders {
            for entry in std::fs::read_dir(&folder).unwrap().filter_map(Result::ok) {
                let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                let name = entry.file_name().to_string_lossy().into_owned();
                let written_by_us = name.starts_with("outreach.db") || name.ends_with(".eml") || name == "outbox";
                if written_by_us && mode & 0o077 != 0 {
                    open_to_others.push(format!("{name}: {mode:o}"));
                }
            }
        }
        assert!(open_to_others.is_empty(), "{open_to_others:?}");

        // A client that sends half a request header and stalls is cut off at the header timeout (2 s here).
        let address = s.base.trim_start_matches("http://").to_owned();
        let cut_off = tokio::task::spawn_blocking(move || {
            let mut socket = std::net::TcpStream::connect(&address).unwrap();
            socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            socket
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            let started = std::time::Instant::now();
            let mut rest = Vec::new();
            let _ = socket.read_to_end(&mut rest);
            (started.elapsed(), String::from_utf8_lossy(&rest).into_owned())
        })
        .await
        .unwrap();
        assert!(cut_off.0 < Duration::from_secs(8), "still open after {:?}", cut_off.0);
        assert!(
            cut_off.1.is_empty() || cut_off.1.starts_with("HTTP/1.1 408"),
            "{}",
            cut_off.1
        );
    }
);
