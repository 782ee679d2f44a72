//! What a template sees. The shape is the contract with the files under templates/email/.

use chrono::{Datelike, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Value, json};

use super::token::{MemberToken, Purpose};
use crate::config::Organization;
use crate::domain::plan::{Channel, Plan, Theme, fiscal_year_ja};

#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    /// member, advisor or editorial.
    pub kind: String,
    pub email: String,
    pub name: String,
    pub company: String,
    pub branch: String,
}

impl Recipient {
    /// Who a preview or `template check` renders for when no real recipient is named.
    pub fn sample(channel: Channel) -> Self {
        match channel {
            Channel::Newsletter => Recipient {
                kind: "member".into(),
                email: "yamada@example.co.jp".into(),
                name: "山田 太郎".into(),
                company: "株式会社サンプル商事".into(),
                branch: String::new(),
            },
            Channel::AdvisorHandout => Recipient {
                kind: "advisor".into(),
                email: "advisor@example.org".into(),
                name: "佐藤 花子".into(),
                company: String::new(),
                branch: "中央支部".into(),
            },
            Channel::ToshoShimbun => Recipient::editorial("editor@example.org"),
        }
    }

    pub fn editorial(email: &str) -> Self {
        Recipient {
            kind: "editorial".into(),
            email: email.into(),
            name: "編集部".into(),
            company: String::new(),
            branch: String::new(),
        }
    }
}

/// Newsletter links: one-click unsubscribe from the theme, and the preferences page.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Links {
    pub unsubscribe: String,
    pub preferences: String,
}

impl Links {
    /// The member's links, working until `expires_day` (see [`super::token::expiry_day`]).
    pub fn for_member(base_url: &str, key: &[u8], member_id: i64, theme_slug: &str, expires_day: i64) -> Self {
        let unsubscribe = MemberToken {
            member_id,
            purpose: Purpose::Unsubscribe {
                theme_slug: theme_slug.into(),
            },
            expires_day,
        };
        let preferences = MemberToken {
            member_id,
            purpose: Purpose::Preferences,
            expires_day,
        };
        Links {
            unsubscribe: format!("{base_url}/u/{}", unsubscribe.sign(key)),
            preferences: format!("{base_url}/p/{}", preferences.sign(key)),
        }
    }
}

/// What every mail of a campaign shares (organisation, plan, theme): built once, then cloned per recipient.
/// Kept to what templates use: handlebars copies the context at every partial, so its size is paid per mail.
#[derive(Debug, Clone)]
pub struct CampaignContext(Value);

impl CampaignContext {
    pub fn new(organization: &Organization, plan: &Plan, theme: &Theme, channel: Channel, campaign_name: &str) -> Self {
        let duty = theme.duty_for(channel).map_or("", |d| d.text.as_str());
        Self(json!({
            "org": organization,
            "theme": {
                "slug": theme.slug,
                "title_ja": theme.title_ja,
                "title_en": theme.title_en,
                "programmes": theme.programmes,
                "awareness_duty": duty,
            },
            "plan": {
                "fiscal_year": plan.fiscal_year,
                "fiscal_year_ja": fiscal_year_ja(plan.fiscal_year),
                "title": plan.title,
            },
            "campaign": { "name": campaign_name },
        }))
    }

    /// The whole context of one mail. `links` only for newsletters: other channels must not use them, and
    /// strict mode holds them to it.
    pub fn for_recipient(&self, recipient: &Recipient, scheduled_for_ms: i64, tz: Tz, links: Option<&Links>) -> Value {
        let mut value = self.0.clone();
        if let Some(map) = value.as_object_mut() {
            map.insert("recipient".into(), json!(recipient));
            if let Some(links) = links {
                map.insert("links".into(), json!(links));
            }
            if let Some(campaign) = map.get_mut("campaign").and_then(Value::as_object_mut) {
                campaign.insert("scheduled_for".into(), json!(date_ja(scheduled_for_ms, tz)));
            }
        }
        value
    }
}

/// `2020年6月1日(月)` in the given zone.
pub fn date_ja(ms: i64, tz: Tz) -> String {
    const DAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
    match tz.timestamp_millis_opt(ms).single() {
        Some(t) => format!(
            "{}年{}月{}日({})",
            t.year(),
            t.month(),
            t.day(),
            DAYS[t.weekday().num_days_from_monday() as usize % 7]
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_date() {
        // 2020-06-01 00:00 UTC is 09:00 on Monday 1 June in Tokyo.
        assert_eq!(date_ja(1_590_969_600_000, chrono_tz::Asia::Tokyo), "2020年6月1日(月)");
    }
}
