//! The collaboration plan: themes, what Tokyo does, the Chamber's duties and the channels each duty names.

use serde::{Deserialize, Serialize};

pub use crate::domain::Channel;

/// One `○` item of a cell with its `・` sub-items (all normalised text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    pub text: String,
    pub sub_items: Vec<String>,
}

/// One `○` item of the Chamber's (乙) cell, with the mail channels it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDuty {
    /// The duty as the plan writes it, parentheses included.
    pub text: String,
    pub sub_items: Vec<String>,
    /// Channels named in the duty text; see `import::plan::duty_channels` for the rule.
    pub channels: Vec<Channel>,
}

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
