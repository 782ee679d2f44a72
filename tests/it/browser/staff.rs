//! Staff in the browser: the sign-in form, the page it lands on, sign-out. The staff pages' flows go here, one
//! test each, on `staff_site` (an app on the real clock serving on a free port, with its own http base URL so
//! the session cookie and the same-origin check work as in production behind https).

use std::sync::Arc;

use outreach::Application;
use outreach::domain::account::Role;

use super::harness::{Browser, WAIT, listener, serve_on};
use crate::common::{self, TestEnv, tester};
use crate::support::smtp::TestSmtp;

/// Members of the telework theme, each with a company and contact of their own (seen in previews).
pub async fn import_members(app: &Application, rows: &[(&str, &str, &str)]) {
    let mut csv = String::from("email,company,contact_name,themes,locale\n");
    for (email, company, contact) in rows {
        csv.push_str(&format!("{email},{company},{contact},telework,ja\n"));
    }
    let result = app
        .import_members(&tester(), csv.as_bytes(), false, false)
        .await
        .expect("import");
    assert!(result.rejected.is_empty(), "{:?}", result.rejected);
}

/// Runs `script` (a function body ending in `return …`) in the page; its answer.
pub async fn run_js(b: &Browser, script: &str) -> serde_json::Value {
    match b.client().execute(script, vec![]).await {
        Ok(answer) => answer,
        Err(e) => panic!("run {script:?} on {}: {e}", b.url().await),
    }
}

/// The rows of the table captioned `caption` (the first whose caption contains it), each its cells' text.
pub async fn table_rows(b: &Browser, caption: &str) -> Vec<Vec<String>> {
    let script = "const [caption] = arguments;\
        const table = Array.from(document.querySelectorAll('table'))\
          .find(t => t.caption && t.caption.textContent.includes(caption));\
        return table ? Array.from(table.tBodies[0].rows)\
          .map(r => Array.from(r.cells).map(c => c.textContent.trim())) : null;";
    let rows = match b.client().execute(script, vec![caption.into()]).await {
        Ok(rows) => rows,
        Err(e) => panic!("read the table {caption:?} on {}: {e}", b.url().await),
    };
    assert!(!rows.is_null(), "no table captioned {caption:?} on {}", b.url().await);
    serde_json::from_value(rows).expect("rows of cells")
}

/// The HTTP status the page's own `fetch` (with the session's cookie) gets for `method` (`GET` or `POST`) on
/// `path`; a POST sends a urlencoded form with the session's CSRF token taken from the page, as its forms do,
/// and fields enough for any staff or admin form.
pub async fn fetch_status(b: &Browser, method: &str, path: &str) -> u16 {
    let script = "const [method, path, done] = arguments;\
        const csrf = document.querySelector('input[name=csrf]');\
        const init = { method, credentials: 'same-origin', redirect: 'manual' };\
        if (method === 'POST') {\
          init.body = new URLSearchParams({ csrf: csrf ? csrf.value : '', email: 'x@example.org', reason: 'r',\
            role: 'admin', active: '1', name: 'n', password: 'correct horse battery', theme: 'telework',\
            channel: 'newsletter', kind: 'cron', cron: '0 9 * * MON' });\
        }\
        fetch(path, init).then(r => done(r.status)).catch(e => done(String(e)));";
    let answer = b
        .client()
        .execute_async(script, vec![method.into(), path.into()])
        .await
        .unwrap_or_else(|e| panic!("fetch {method} {path}: {e}"));
    answer
        .as_u64()
        .unwrap_or_else(|| panic!("fetch {method} {path}: {answer}")) as u16
}

pub const PASSWORD: &str = "correct horse battery";

/// An app on the real clock with one account per role (`staff@`, `auditor@`, `admin@example.org`, all with
/// `PASSWORD`), served on a free port whose URL is `web.base_url`; the app and that URL.
pub async fn staff_site(env: &mut TestEnv) -> (Arc<Application>, String) {
    site_with(env, &[]).await
}

/// `staff_site` sending its mail over SMTP to `smtp`: the links in the mails are on the site's URL, so a
/// member's browser follows them to this very site.
pub async fn mail_site(env: &mut TestEnv, smtp: &TestSmtp) -> (Arc<Application>, String) {
    let port = smtp.port().to_string();
    site_with(
        env,
        &[
            ("OUTREACH_DELIVERY__TRANSPORT", "smtp"),
            ("OUTREACH_SMTP__HOST", "127.0.0.1"),
            ("OUTREACH_SMTP__PORT", port.as_str()),
            ("OUTREACH_SMTP__TIMEOUT_SECS", "5"),
            ("OUTREACH_DELIVERY__FAILURE_MIN_SAMPLE", "1000"),
        ],
    )
    .await
}

async fn site_with(env: &mut TestEnv, extra: &[(&str, &str)]) -> (Arc<Application>, String) {
    let (listener, base) = listener().await;
    env.set("OUTREACH_WEB__BASE_URL", base.as_str())
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123");
    for (k, v) in extra {
        env.set(k, *v);
    }
    let app = Arc::new(env.app(Arc::new(outreach::clock::SystemClock)).await);
    for (email, role) in [
        ("staff@example.org", Role::Staff),
        ("auditor@example.org", Role::Auditor),
        ("admin@example.org", Role::Admin),
    ] {
        app.add_user(&tester(), email, role, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("add {email}: {e}"));
    }
    serve_on(app.clone(), listener);
    (app, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_sign_in_through_the_form_and_sign_out() {
    let Some(b) = Browser::start().await else { return };
    let mut env = TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let (_app, base) = staff_site(&mut env).await;

    // A wrong password: the form again, with the message, the address kept.
    b.goto(&format!("{base}/sign-in")).await;
    b.wait_text("h1", "ログイン", WAIT).await;
    b.axe().await;
    b.screenshot("staff-sign-in").await;
    b.fill("メールアドレス", "staff@example.org").await;
    b.fill("パスワード", "not the password").await;
    b.click("ログイン").await;
    b.wait_text(
        "[role=alert]",
        "メールアドレスまたはパスワードが正しくありません。",
        WAIT,
    )
    .await;
    let kept = b.find("input[name=email]").await.prop("value").await.ok().flatten();
    assert_eq!(kept.as_deref(), Some("staff@example.org"));
    b.axe().await;

    // The right one: whatever page staff land on, signed in as them.
    b.sign_in(&base, "staff@example.org", PASSWORD).await;
    b.wait_text("body", "staff@example.org", WAIT).await;
    b.axe().await;

    // Sign-out ends the session: the staff page asks for the sign-in again.
    b.click("ログアウト").await;
    assert!(b.wait_until(|url| url.ends_with("/sign-in")).await, "{}", b.url().await);
    b.axe().await;
    b.goto("/staff").await;
    assert!(
        b.wait_until(|url| url.contains("/sign-in")).await,
        "signed out, the staff page sends to the sign-in page: {}",
        b.url().await
    );
}
