//! What a template sees. The shape is the contract with the files under templates/email/.

use chrono::{Datelike, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Organization;
use crate::plan::{Channel, Plan, Theme, fiscal_year_ja};
use crate::web::token::{MemberToken, Purpose};

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
    pub fn for_member(base_url: &str, key: &[u8], member_id: i64, theme_slug: &str) -> Self {
        let unsubscribe = MemberToken {
            member_id,
            purpose: Purpose::Unsubscribe {
                theme_slug: theme_slug.into(),
            },
        };
        let preferences = MemberToken {
            member_id,
            purpose: Purpose::Preferences,
        };
        Links {
            unsubscribe: format!("{base_url}/u/{}", unsubscribe.sign(key)),
            preferences: format!("{base_url}/p/{}", preferences.sign(key)),
        }
    }
}

/// Everything a mail of `theme` on `channel` may use.
pub struct MailContext<'a> {
    pub organization: &'a Organization,
    pub plan: &'a Plan,
    pub theme: &'a Theme,
    pub channel: Channel,
    pub campaign_name: &'a str,
    pub scheduled_for_ms: i64,
    pub time_zone: Tz,
    pub recipient: &'a Recipient,
    /// Newsletters only; other channels must not use links, and strict mode holds them to it.
    pub links: Option<Links>,
}

impl MailContext<'_> {
    pub fn to_json(&self) -> Value {
        let duty = self.theme.duty_for(self.channel).map_or("", |d| d.text.as_str());
        let mut value = json!({
            "org": self.organization,
            "recipient": self.recipient,
            "theme": {
                "slug": self.theme.slug,
                "title_ja": self.theme.title_ja,
                "title_en": self.theme.title_en,
                "programmes": self.theme.programmes,
                "awareness_duty": duty,
                "duties": self.theme.duties,
            },
            "plan": {
                "fiscal_year": self.plan.fiscal_year,
                "fiscal_year_ja": fiscal_year_ja(self.plan.fiscal_year),
                "title": self.plan.title,
            },
            "campaign": {
                "name": self.campaign_name,
                "scheduled_for": date_ja(self.scheduled_for_ms, self.time_zone),
            },
        });
        if let (Some(links), Some(map)) = (&self.links, value.as_object_mut()) {
            map.insert("links".into(), json!(links));
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
