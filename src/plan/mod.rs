//! The collaboration plan: themes, what Tokyo does, the Chamber's duties and the channels each duty names.

pub mod parse;

use serde::Serialize;

use crate::config::ThemeName;
pub use parse::{Channel, ParsedPlan, PlanDuty, PlanItem, PlanParseError, generated_slug, parse_plan};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub fiscal_year: i32,
    pub title: String,
    pub sha256: String,
    pub themes: Vec<Theme>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Theme {
    pub slug: String,
    pub title_ja: String,
    pub title_en: String,
    /// What Tokyo does (甲).
    pub programmes: Vec<PlanItem>,
    /// What the Chamber does (乙).
    pub duties: Vec<PlanDuty>,
}

impl Plan {
    /// Names the parsed themes from the configured slugs; an unknown title gets a stable generated slug.
    pub fn from_parsed(parsed: ParsedPlan, fiscal_year: i32, names: &[ThemeName]) -> Self {
        let themes = parsed
            .rows
            .into_iter()
            .map(|row| {
                let known = names.iter().find(|n| n.title_ja == row.title_ja);
                Theme {
                    slug: known.map_or_else(|| generated_slug(&row.title_ja), |n| n.slug.clone()),
                    title_en: known.map_or_else(String::new, |n| n.title_en.clone()),
                    title_ja: row.title_ja,
                    programmes: row.programmes,
                    duties: row.duties,
                }
            })
            .collect();
        Plan {
            fiscal_year,
            title: parsed.title,
            sha256: parsed.sha256,
            themes,
        }
    }

    pub fn theme(&self, slug: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.slug == slug)
    }
}

impl Theme {
    /// The Chamber's duty that names this channel: the one a campaign on the channel carries out.
    pub fn duty_for(&self, channel: Channel) -> Option<&PlanDuty> {
        self.duties.iter().find(|d| d.channels.contains(&channel))
    }
}

/// What saving a plan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanSaved {
    Created,
    Unchanged,
    Replaced,
}

/// Japanese era label of a fiscal year, as members read it (2020 → 令和2年度).
pub fn fiscal_year_ja(year: i32) -> String {
    match year {
        y if y >= 2019 => format!("令和{}年度", y - 2018),
        y if y >= 1989 => format!("平成{}年度", y - 1988),
        y => format!("{y}年度"),
    }
}
