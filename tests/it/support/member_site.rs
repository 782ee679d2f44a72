//! The staff pages' test site with a member whose links work and an API token: what the member pages, the
//! staff pages and the API answer about one person (tests/it/web_hardening.rs).
#![allow(dead_code)]

use crate::common::{TestEnv, tester};
use crate::support::staff_site::{self, Site};

/// The site with one account per role, a member with live links and an API token.
pub struct Member {
    pub site: Site,
    pub leave: String,
    pub preferences: String,
    pub token: String,
}

pub async fn with_member(env: &mut TestEnv, extra: &[(&str, &str)]) -> Member {
    let site = staff_site::plain(env, extra).await;
    let csv = "email,company,contact_name,themes,locale\nm@example.co.jp,株式会社保護,担当,telework,ja\n";
    let app = &site.app;
    app.import_members(&tester(), csv.as_bytes(), false, false)
        .await
        .unwrap();
    let member = site.member_id("m@example.co.jp").await;
    let key = app.signing_key().unwrap();
    let expires = app.now() / 86_400_000 + 90;
    let links = outreach::mail::context::Links::for_member("", &key, member, "telework", expires);
    let (_, token) = app
        .create_token(&tester(), "staff@example.org", "test", None)
        .await
        .unwrap();
    Member {
        site,
        leave: links.unsubscribe,
        preferences: links.preferences,
        token,
    }
}
