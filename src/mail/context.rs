//! What a template sees. The shape is the contract with the files under templates/email/.

use chrono::{Datelike, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Value, json};

use super::token::{MemberToken, Purpose};
use crate::config::Organization;
use crate::domain::member::Locale;
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

    /// The sample member of an English newsletter.
    pub fn sample_en() -> Self {
        Recipient {
            kind: "member".into(),
            email: "jane.smith@example.com".into(),
            name: "Jane Smith".into(),
            company: "Sample Trading Co., Ltd.".into(),
            branch: String::new(),
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
        Self::signed(base_url, key, member_id, theme_slug, expires_day, false)
    }

    /// The links of a preview or a test mail: they look like the member's, and do nothing.
    pub fn for_preview(base_url: &str, key: &[u8], member_id: i64, theme_slug: &str, expires_day: i64) -> Self {
        Self::signed(base_url, key, member_id, theme_slug, expires_day, true)
    }

    fn signed(base_url: &str, key: &[u8], member_id: i64, theme_slug: &str, expires_day: i64, inert: bool) -> Self {
        let unsubscribe = MemberToken {
            member_id,
            purpose: Purpose::Unsubscribe {
                theme_slug: theme_slug.into(),
            },
            expires_day,
            inert,
        };
        let preferences = MemberToken {
            member_id,
            purpose: Purpose::Preferences,
            expires_day,
            inert,
        };
        Links {
            unsubscribe: format!("{base_url}/u/{}", unsubscribe.sign(key)),
            preferences: format!("{base_url}/p/{}", preferences.sign(key)),
        }
    }
}

/// What every mail of a campaign shares (organisation, plan, theme, what staff gave its readers): built once,
/// then cloned per recipient. Kept to what templates use: handlebars copies the context at every partial, so its
/// size is paid per mail. The campaign's staff name is not in it: no template can show it to a reader.
#[derive(Debug, Clone)]
pub struct CampaignContext {
    shared: Value,
    /// `campaign.title` of Japanese mails: the title staff gave, else the theme's.
    title_ja: String,
    /// `campaign.title` of English mails: the theme's English title (a title staff gave is Japanese text).
    title_en: String,
}

impl CampaignContext {
    /// `title` is what staff gave members to read (default: the theme's title); `issue` the Tosho Shimbun
    /// issue a manuscript is meant for (default: an upcoming one, no date).
    pub fn new(
        organization: &Organization,
        plan: &Plan,
        theme: &Theme,
        channel: Channel,
        title: Option<&str>,
        issue: Option<&str>,
    ) -> Self {
        let duty = theme.duty_for(channel).map_or("", |d| d.text.as_str());
        let title_ja = title.unwrap_or(&theme.title_ja).to_owned();
        let title_en = if theme.title_en.is_empty() {
            title_ja.clone()
        } else {
            theme.title_en.clone()
        };
        let shared = json!({
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
            "campaign": { "issue": issue.unwrap_or_default() },
        });
        Self {
            shared,
            title_ja,
            title_en,
        }
    }

    /// The whole context of one mail, in `locale` (see [`reading_locale`]). `links` only for newsletters:
    /// other channels must not use them, and strict mode holds them to it.
    pub fn for_recipient(
        &self,
        recipient: &Recipient,
        scheduled_for_ms: i64,
        tz: Tz,
        links: Option<&Links>,
        locale: Locale,
    ) -> Value {
        let mut value = self.shared.clone();
        if let Some(map) = value.as_object_mut() {
            map.insert("recipient".into(), json!(recipient));
            map.insert("locale".into(), json!(locale.as_str()));
            if let Some(links) = links {
                map.insert("links".into(), json!(links));
            }
            if let Some(campaign) = map.get_mut("campaign").and_then(Value::as_object_mut) {
                campaign.insert("scheduled_for".into(), json!(date_ja(scheduled_for_ms, tz)));
                let title = match locale {
                    Locale::Ja => &self.title_ja,
                    Locale::En => &self.title_en,
                };
                campaign.insert("title".into(), json!(title));
            }
        }
        value
    }
}

/// The language a recipient reads a campaign's mail in: members choose theirs for newsletters; advisors and the
/// editorial desk read Japanese.
pub fn reading_locale(channel: Channel, chosen: Locale) -> Locale {
    match channel {
        Channel::Newsletter => chosen,
        Channel::AdvisorHandout | Channel::ToshoShimbun => Locale::Ja,
    }
}

/// The mail `template` (`<channel>/<theme>`) in `locale`: an English mail lives in an `en` folder beside the
/// Japanese one (`newsletter/telework/en`).
pub fn template_in(template: &str, locale: Locale) -> String {
    match locale {
        Locale::Ja => template.to_owned(),
        Locale::En => format!("{template}/en"),
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

    fn organization() -> Organization {
        Organization {
            name: "東京商工会議所".into(),
            department: String::new(),
            name_en: "Tokyo Chamber of Commerce and Industry".into(),
            department_en: String::new(),
            email: "outreach@example.org".into(),
            phone: String::new(),
            website: "https://www.tokyo-cci.or.jp/".into(),
        }
    }

    fn telework() -> (Plan, Theme) {
        let theme = Theme {
            slug: "telework".into(),
            title_ja: "テレワークの推進".into(),
            title_en: "Promoting telework".into(),
            programmes: Vec::new(),
            duties: Vec::new(),
        };
        let plan = Plan {
            fiscal_year: 2020,
            title: "計画".into(),
            sha256: String::new(),
            themes: vec![theme.clone()],
        };
        (plan, theme)
    }

    /// What `campaign` holds in a mail of `locale`.
    fn campaign(title: Option<&str>, issue: Option<&str>, locale: Locale) -> Value {
        let (plan, theme) = telework();
        let context = CampaignContext::new(&organization(), &plan, &theme, Channel::Newsletter, title, issue);
        let recipient = Recipient::sample(Channel::Newsletter);
        context.for_recipient(&recipient, 1_590_969_600_000, chrono_tz::Asia::Tokyo, None, locale)["campaign"].clone()
    }

    #[test]
    fn members_see_the_title_never_the_staff_name() {
        // No title given: the theme's, in the reader's language.
        let ja = campaign(None, None, Locale::Ja);
        assert_eq!(ja["title"], "テレワークの推進");
        assert_eq!(campaign(None, None, Locale::En)["title"], "Promoting telework");
        // A title staff gave is Japanese text: Japanese mails show it, English ones keep the English title.
        assert_eq!(
            campaign(Some("テレワーク特集"), None, Locale::Ja)["title"],
            "テレワーク特集"
        );
        assert_eq!(
            campaign(Some("テレワーク特集"), None, Locale::En)["title"],
            "Promoting telework"
        );
        // The context has no name for a template to show.
        assert!(ja.get("name").is_none(), "{ja}");
        assert_eq!(ja["scheduled_for"], "2020年6月1日(月)");
    }

    #[test]
    fn the_issue_is_empty_unless_given() {
        assert_eq!(campaign(None, None, Locale::Ja)["issue"], "");
        assert_eq!(campaign(None, Some("6月1日号"), Locale::Ja)["issue"], "6月1日号");
    }

    #[test]
    fn only_members_read_english_and_it_has_its_own_folder() {
        assert_eq!(reading_locale(Channel::Newsletter, Locale::En), Locale::En);
        assert_eq!(reading_locale(Channel::AdvisorHandout, Locale::En), Locale::Ja);
        assert_eq!(reading_locale(Channel::ToshoShimbun, Locale::En), Locale::Ja);
        assert_eq!(template_in("newsletter/telework", Locale::En), "newsletter/telework/en");
        assert_eq!(template_in("newsletter/telework", Locale::Ja), "newsletter/telework");
    }
}
