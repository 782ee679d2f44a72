//! The staff, auditor and admin pages of issue 10 (members, audit, admin), as a browser reaches them: the role
//! each page and form needs, member search and a member's page, a suppression with and without a reason, the
//! CSV upload in two steps, the logs' keyset pages and streamed CSV, API tokens shown once, the configuration
//! masked, and markup in member data escaped.

use crate::common;
use crate::support;

use common::{TestEnv, tester};
use outreach::domain::Actor;
use support::smtp::TestSmtp;
use support::staff_site::*;

/// Pages for staff and admins only.
const STAFF_PAGES: &[&str] = &[
    "/staff/members",
    "/staff/members/1",
    "/staff/advisors",
    "/staff/members/import",
];
/// Forms for staff and admins only (urlencoded; the upload is checked on its own).
const STAFF_ACTIONS: &[&str] = &[
    "/staff/members/1/suppress",
    "/staff/members/1/unsuppress",
    "/staff/members/1/unsubscribe",
    "/staff/advisors/activate",
    "/staff/advisors/deactivate",
];
const ADMIN_PAGES: &[&str] = &["/admin/users", "/admin/tokens", "/admin/config"];
const ADMIN_ACTIONS: &[&str] = &[
    "/admin/users",
    "/admin/users/active",
    "/admin/users/role",
    "/admin/tokens",
    "/admin/tokens/1/revoke",
];
const AUDIT_PAGES: &[&str] = &["/audit/log", "/audit/actions", "/audit/log.csv", "/audit/actions.csv"];

both_backends!(each_role_reaches_only_its_pages, |mut env: TestEnv| async move {
    let s = plain(&mut env, &[]).await;
    let auditor = s.sign_in("auditor@example.org").await;
    let staff = s.sign_in("staff@example.org").await;
    for path in STAFF_PAGES.iter().chain(ADMIN_PAGES) {
        assert_eq!(s.get(&auditor, path).await.0, 403, "auditor GET {path}");
    }
    for path in STAFF_ACTIONS.iter().chain(ADMIN_ACTIONS) {
        let form = [
            ("email", "x@example.org"),
            ("reason", "r"),
            ("role", "admin"),
            ("active", "1"),
        ];
        assert_eq!(s.post(&auditor, path, &form).await.0, 403, "auditor POST {path}");
    }
    assert_eq!(s.upload(&auditor, Some("email\n"), None).await.0, 403, "auditor upload");
    for path in ADMIN_PAGES {
        assert_eq!(s.get(&staff, path).await.0, 403, "staff GET {path}");
    }
    for path in ADMIN_ACTIONS {
        let form = [
            ("email", "x@example.org"),
            ("password", PASSWORD),
            ("role", "admin"),
            ("name", "n"),
        ];
        assert_eq!(s.post(&staff, path, &form).await.0, 403, "staff POST {path}");
    }
    for path in AUDIT_PAGES {
        assert_eq!(s.get(&auditor, path).await.0, 200, "auditor GET {path}");
    }
    // The menu shows auditors their pages and nothing else.
    let (_, html) = s.get(&auditor, "/audit/log").await;
    assert!(html.contains("href=\"/audit/actions\"") && !html.contains("href=\"/staff/members\""));
    // A form without the session's token changes nothing.
    let forged = Browser {
        cookie: staff.cookie.clone(),
        csrf: "forged".into(),
    };
    assert_eq!(
        s.post(&forged, "/staff/advisors/activate", &[("email", "x@y.jp")])
            .await
            .0,
        403
    );
    assert_eq!(s.upload(&forged, Some("email\n"), None).await.0, 403);
});

both_backends!(members_are_found_and_markup_is_escaped, |mut env: TestEnv| async move {
    let s = plain(&mut env, &[]).await;
    let csv = "email,company,contact_name,themes,locale\n\
               sato@alpha.example.jp,株式会社アルファ,佐藤 一郎,telework,ja\n\
               evil@beta.example.jp,<script>alert(1)</script>,悪 太郎,telework,ja\n";
    s.app
        .import_members(&tester(), csv.as_bytes(), false, false)
        .await
        .unwrap();
    let staff = s.sign_in("staff@example.org").await;
    let (status, html) = s
        .get(&staff, "/staff/members?q=%E3%82%A2%E3%83%AB%E3%83%95%E3%82%A1")
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("sato@alpha.example.jp") && !html.contains("evil@beta"),
        "by company"
    );
    let (_, html) = s.get(&staff, "/staff/members?q=EVIL@beta").await;
    assert!(
        html.contains("evil@beta.example.jp") && !html.contains("sato@alpha"),
        "by address"
    );
    assert!(
        !html.contains("<script>alert(1)</script>") && html.contains("&lt;script&gt;"),
        "list escapes"
    );
    let id = s.member_id("evil@beta.example.jp").await;
    let (_, html) = s.get(&staff, &format!("/staff/members/{id}")).await;
    assert!(
        !html.contains("<script>alert(1)</script>") && html.contains("&lt;script&gt;"),
        "page escapes"
    );
});

both_backends!(
    a_member_page_shows_history_and_mail_and_suppresses_with_a_reason,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let s = with_mail(&mut env, &smtp).await;
        let staff = s.sign_in("staff@example.org").await;
        let id = s.member_id("c@example.co.jp").await;
        let page = format!("/staff/members/{id}");
        let (status, html) = s.get(&staff, &page).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("登録") && html.contains("CSV取り込み") && html.contains("2020年6月1日"),
            "history"
        );
        assert!(
            html.contains("/audit/log/") && html.contains("送信済み") && html.contains("テレワークの推進"),
            "mail"
        );

        // No reason: refused beside the field, the typed theme kept, nothing changed.
        let (status, html) = s
            .post(
                &staff,
                &format!("{page}/unsubscribe"),
                &[("theme", "telework"), ("reason", "  ")],
            )
            .await;
        assert_eq!(status, 400);
        assert!(
            html.contains("unsubscribe-reason-error") && html.contains("理由を入力してください"),
            "{html}"
        );
        assert!(html.contains("value=\"telework\" selected"), "the chosen theme is kept");
        let (status, html) = s.post(&staff, &format!("{page}/suppress"), &[("reason", "")]).await;
        assert_eq!(status, 400);
        assert!(html.contains("suppress-reason-error"));
        assert_eq!(
            s.app
                .store
                .member("c@example.co.jp")
                .await
                .unwrap()
                .unwrap()
                .status
                .as_str(),
            "active"
        );

        // With a reason: suppressed, recorded with who and why, and shown in the history.
        let (status, _) = s
            .post(&staff, &format!("{page}/suppress"), &[("reason", "電話で依頼あり")])
            .await;
        assert_eq!(status, 303);
        assert_eq!(
            s.app
                .store
                .member("c@example.co.jp")
                .await
                .unwrap()
                .unwrap()
                .status
                .as_str(),
            "suppressed"
        );
        let actions = s.app.actions(&Default::default()).await.unwrap();
        let done = actions
            .iter()
            .find(|a| a.action == "member.suppress")
            .expect("recorded");
        assert_eq!(
            (done.actor.as_str(), done.target.as_str()),
            ("staff@example.org", "c@example.co.jp")
        );
        assert!(done.summary.contains("電話で依頼あり") && done.address == "127.0.0.1");
        let (_, html) = s.get(&staff, &page).await;
        assert!(
            html.contains("配信停止（抑止）")
                && html.contains("staff@example.org が c@example.co.jp へのすべての送信を抑止しました")
                && html.contains("電話で依頼あり")
        );
        // And lifted again.
        let (status, _) = s
            .post(&staff, &format!("{page}/unsuppress"), &[("reason", "誤り")])
            .await;
        assert_eq!(status, 303);
        assert_eq!(
            s.app
                .store
                .member("c@example.co.jp")
                .await
                .unwrap()
                .unwrap()
                .status
                .as_str(),
            "active"
        );
    }
);

both_backends!(
    a_csv_upload_is_checked_first_then_imported,
    |mut env: TestEnv| async move {
        let s = plain(&mut env, &[]).await;
        let staff = s.sign_in("staff@example.org").await;
        let bad = "email,company,contact_name,themes,locale\n\
               ok@example.jp,会社A,担当A,telework,ja\n\
               not-an-address,会社B,担当B,telework,ja\n";
        let (status, html) = s.upload(&staff, Some(bad), None).await;
        assert_eq!(status, 400);
        assert!(
            html.contains("<th scope=\"row\">3</th>"),
            "the bad line is named: {html}"
        );
        assert!(
            !html.contains("name=\"confirm\""),
            "no import button for a file with errors"
        );
        assert!(
            s.app.members(None).await.unwrap().is_empty(),
            "a dry run imports nothing"
        );

        // Each refused row is worded in the page's language: in Japanese, no English outside the values the file
        // holds (quoted 「…」) and the plan's theme names.
        let refused = "email,company,contact_name,themes,locale\n\
               ok@example.jp,会社A,担当A,telework,ja\n\
               not-an-address,会社B,担当B,telework,ja\n\
               OK@example.jp,,担当C,telework,fr\n\
               d@example.jp,会社D,担当D,golf,ja\n\
               e@example.jp,会社E\n";
        let titles: Vec<String> = s
            .app
            .plan(None)
            .await
            .unwrap()
            .themes
            .iter()
            .map(|t| t.title_ja.clone())
            .collect();
        let (status, html) = s.upload(&staff, Some(refused), None).await;
        assert_eq!(status, 400);
        let said = refusals(&html);
        let lines: Vec<&str> = said.iter().map(|(line, _)| line.as_str()).collect();
        assert_eq!(lines, ["3", "4", "5", "6"], "{html}");
        assert_eq!(
            said[0].1,
            "メールアドレス「not-an-address」の形が正しくありません（@ がありません）。"
        );
        assert_eq!(
            said[1].1,
            "メールアドレス「OK@example.jp」は2行目と同じアドレスです。会社名が空です（必須の項目です）。\
             言語「fr」は使えません。「ja」（日本語）か「en」（英語）にしてください（空欄なら日本語）。"
        );
        assert!(
            said[2]
                .1
                .starts_with("テーマ「golf」は計画にありません。使えるテーマ：「work-style-reform」（"),
            "{}",
            said[2].1
        );
        assert_eq!(said[3].1, "列の数が違います：5列のはずが、2列あります。");
        for (line, reason) in &said {
            let unquoted = crate::support::spellings::outside(
                &titles.iter().fold(reason.clone(), |r, t| r.replace(t.as_str(), "")),
                '「',
                '」',
            );
            assert!(
                !unquoted.chars().any(|c| c.is_ascii_alphabetic()),
                "English on line {line}: {reason}"
            );
        }
        // The same rows on an English page, in English.
        let english = Browser {
            cookie: format!("{}; outreach_lang=en", staff.cookie),
            csrf: staff.csrf.clone(),
        };
        let (status, html) = s.upload(&english, Some(refused), None).await;
        assert_eq!(status, 400);
        assert!(html.contains("<html lang=\"en\""));
        let said = refusals(&html);
        assert_eq!(
            said[0].1,
            "The email address \"not-an-address\" is not well formed (it has no @)."
        );
        assert!(
            said[1]
                .1
                .starts_with("The email address \"OK@example.jp\" is the same as on line 2."),
            "{}",
            said[1].1
        );
        for (line, reason) in &said {
            assert!(
                !reason.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                "Japanese on line {line}: {reason}"
            );
        }
        // A file refused as a whole (its header) is worded too.
        let (status, html) = s.upload(&staff, Some("email,company\nx@example.jp,X社\n"), None).await;
        assert_eq!(status, 400);
        let message = message_of(&html);
        assert!(
            message.starts_with("ファイルを取り込めません。列名の行「email,company」が正しくありません（足りない列："),
            "{message}"
        );
        assert!(
            !crate::support::spellings::outside(&message, '「', '」')
                .chars()
                .any(|c| c.is_ascii_alphabetic()),
            "{message}"
        );
        let (status, html) = s.upload(&english, Some("email,company\n"), None).await;
        assert_eq!(status, 400);
        let message = message_of(&html);
        assert!(
            message.starts_with("The file cannot be imported. The header \"email,company\""),
            "{message}"
        );

        let good = "email,company,contact_name,themes,locale\n\
                ok@example.jp,会社A,担当A,telework,ja\n\
                two@example.jp,会社B,担当B,telework,ja\n";
        let (status, html) = s.upload(&staff, Some(good), None).await;
        assert_eq!(status, 200);
        assert!(
            s.app.members(None).await.unwrap().is_empty(),
            "still nothing before the confirmation"
        );
        let hash = html
            .split("name=\"confirm\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        // Another session cannot import this session's file.
        let other = s.sign_in("admin@example.org").await;
        assert_eq!(s.upload(&other, None, Some(&hash)).await.0, 409);
        let (status, html) = s.upload(&staff, None, Some(&hash)).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("新規 2 件"), "{html}");
        assert_eq!(s.app.members(None).await.unwrap().len(), 2);
        // The kept file is used once.
        assert_eq!(s.upload(&staff, None, Some(&hash)).await.0, 409);
    }
);

/// The refused rows of a checked upload: (line, what the page says), unescaped.
fn refusals(html: &str) -> Vec<(String, String)> {
    html.split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let line = row.split('<').next().unwrap().to_owned();
            let cell = row.split("<td").nth(1).unwrap();
            let text = cell.split_once('>').unwrap().1.split("</td>").next().unwrap();
            (line, unescaped(text))
        })
        .collect()
}

/// The message under the file field.
fn message_of(html: &str) -> String {
    let after = html
        .split("id=\"file-error\" class=\"error\" role=\"alert\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no message: {html}"));
    unescaped(after.split("</p>").next().unwrap())
}

fn unescaped(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

both_backends!(
    log_pages_return_each_row_once_and_stream_csv,
    |mut env: TestEnv| async move {
        let smtp = TestSmtp::start();
        let s = with_mail(&mut env, &smtp).await;
        let auditor = s.sign_in("auditor@example.org").await;
        let ids_of = |html: &str| -> Vec<i64> {
            html.split("<th scope=\"row\"><a href=\"/audit/log/")
                .skip(1)
                .map(|r| r.split('"').next().unwrap().parse().unwrap())
                .collect()
        };
        let link = |html: &str, rel: &str| -> Option<String> {
            let marker = format!("\" rel=\"{rel}\"");
            html.split(&marker)
                .next()
                .filter(|_| html.contains(&marker))
                .map(|before| {
                    before
                        .rsplit("href=\"")
                        .next()
                        .unwrap()
                        .replace("&amp;", "&")
                        .replace("&#x3D;", "=")
                })
        };
        let mut seen = Vec::new();
        let mut path = "/audit/log?limit=3".to_owned();
        let mut last_page;
        loop {
            let (status, html) = s.get(&auditor, &path).await;
            assert_eq!(status, 200);
            seen.extend(ids_of(&html));
            last_page = html.clone();
            match link(&html, "next") {
                Some(next) => path = next,
                None => break,
            }
        }
        let all: Vec<i64> = s
            .app
            .send_log(&Default::default(), 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(seen, all, "every row once, in order");
        // Back from the last page with "previous": the same rows again, each once.
        let mut back = ids_of(&last_page);
        let mut html = last_page;
        while let Some(prev) = link(&html, "prev") {
            html = s.get(&auditor, &prev).await.1;
            let mut page = ids_of(&html);
            page.extend(back);
            back = page;
        }
        assert_eq!(back, all);
        // Filters: a recipient's rows only.
        let (_, html) = s.get(&auditor, "/audit/log?recipient=C%40example.co.jp").await;
        assert_eq!(ids_of(&html).len(), 1);

        // A formula in a cell (an operator named like one) is neutralised in the CSV.
        s.app
            .suppress(&Actor::operator("=HYPERLINK(\"x\")"), "d@example.co.jp", "test")
            .await
            .unwrap();
        for path in ["/audit/log.csv", "/audit/actions.csv"] {
            let answer = s
                .http
                .get(format!("{}{path}", s.base))
                .header("cookie", &auditor.cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            let headers = answer.headers().clone();
            assert!(
                headers["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment")
            );
            assert!(headers.get("content-length").is_none(), "streamed: {headers:?}");
            assert_eq!(headers["transfer-encoding"], "chunked");
            let body = answer.bytes().await.unwrap();
            assert_eq!(&body[..3], b"\xEF\xBB\xBF", "{path}: byte order mark");
            let text = String::from_utf8(body[3..].to_vec()).unwrap();
            if path == "/audit/log.csv" {
                assert_eq!(text.lines().count(), 1 + MEMBERS.len());
            } else {
                assert!(text.contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{text}");
            }
        }
    }
);

both_backends!(
    a_token_is_shown_once_and_the_config_is_masked,
    |mut env: TestEnv| async move {
        let smtp_password = "smtp-password-never-shown-42";
        let s = plain(&mut env, &[("OUTREACH_SMTP__PASSWORD", smtp_password)]).await;
        let admin = s.sign_in("admin@example.org").await;
        let (status, html) = s
            .post(
                &admin,
                "/admin/tokens",
                &[
                    ("email", "auditor@example.org"),
                    ("name", "監査用"),
                    ("expires_days", ""),
                ],
            )
            .await;
        assert_eq!(status, 200);
        let secret = html
            .split("<code class=\"secret\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        assert!(secret.starts_with("otk_"), "{secret}");
        assert!(s.app.token_user(&secret).await.unwrap().is_some());
        let (_, again) = s.get(&admin, "/admin/tokens").await;
        assert!(
            again.contains("監査用") && !again.contains(&secret),
            "never shown again"
        );
        // A bad number of days: the message beside the form, what was typed kept.
        let (status, html) = s
            .post(
                &admin,
                "/admin/tokens",
                &[
                    ("email", "auditor@example.org"),
                    ("name", "x1"),
                    ("expires_days", "abc"),
                ],
            )
            .await;
        assert_eq!(status, 400);
        assert!(html.contains("token-error") && html.contains("value=\"x1\""));

        // A weak password is refused beside its field, the address kept.
        let (status, html) = s
            .post(
                &admin,
                "/admin/users",
                &[("email", "new@example.org"), ("role", "auditor"), ("password", "short")],
            )
            .await;
        assert_eq!(status, 400);
        assert!(html.contains("password-error") && html.contains("value=\"new@example.org\""));

        let (status, html) = s.get(&admin, "/admin/config").await;
        assert_eq!(status, 200);
        assert!(
            !html.contains(SIGNING_KEY) && !html.contains(smtp_password),
            "secrets masked"
        );
        assert!(
            html.contains("<code class=\"value\">***</code>"),
            "the masked key is shown as masked"
        );
    }
);
