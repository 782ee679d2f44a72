//! Staff in the browser: the sign-in form, the page it lands on, sign-out. The staff pages' flows go here, one
//! test each, on `staff_site` (an app on the real clock serving on a free port, with its own http base URL so
//! the session cookie and the same-origin check work as in production behind https).

use std::sync::Arc;

use outreach::Application;
use outreach::domain::account::Role;

use crate::common::{self, TestEnv, tester};
use crate::harness::{Browser, WAIT, listener, serve_on};

pub const PASSWORD: &str = "correct horse battery";

/// An app on the real clock with one account per role (`staff@`, `auditor@`, `admin@example.org`, all with
/// `PASSWORD`), served on a free port whose URL is `web.base_url`; the app and that URL.
pub async fn staff_site(env: &mut TestEnv) -> (Arc<Application>, String) {
    let (listener, base) = listener().await;
    env.set("OUTREACH_WEB__BASE_URL", base.as_str())
        .set("OUTREACH_WEB__SIGNING_KEY", "test-signing-key-0123456789abcdef0123");
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
