//! What the staff dashboard shows, read for it in a few grouped queries: the runs worth watching (sending, or
//! finished lately) and the figures of the fiscal year (members per theme, mails per theme and month).

use crate::Application;
use crate::domain::Outcome;
use crate::domain::fiscal::FiscalYear;
use crate::error::AppError;
use crate::services::RunReport;

/// One theme's figures for the fiscal year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeFigures {
    pub slug: String,
    /// The plan's names (the configured ones for a theme the latest plan lacks).
    pub title_ja: String,
    pub title_en: String,
    /// Active members subscribed to it now.
    pub members: i64,
    /// Mails sent, per month of the fiscal year (0 = April).
    pub sent: [i64; 12],
    /// Attempts that failed for good, per month.
    pub failed: [i64; 12],
}

impl ThemeFigures {
    pub fn sent_in_year(&self) -> i64 {
        self.sent.iter().sum()
    }
}

/// The dashboard's figures: every theme (the plan's order, then any other the log names) for one fiscal year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearFigures {
    pub fiscal_year: FiscalYear,
    /// The month of the year that holds "now" (0 = April).
    pub this_month: usize,
    pub themes: Vec<ThemeFigures>,
}

impl YearFigures {
    pub fn sent_in_month(&self, month: usize) -> i64 {
        self.themes.iter().map(|t| t.sent[month]).sum()
    }

    pub fn sent_in_year(&self) -> i64 {
        self.themes.iter().map(ThemeFigures::sent_in_year).sum()
    }

    pub fn failed_in_year(&self) -> i64 {
        self.themes.iter().map(|t| t.failed.iter().sum::<i64>()).sum()
    }
}

impl Application {
    /// Runs still sending and runs finished at or after `since`, oldest first, with their counts. What waits is
    /// not read (the dashboard does not show it; a run's page does).
    pub async fn runs_to_watch(&self, since: i64) -> Result<Vec<RunReport>, AppError> {
        Ok(self
            .store
            .runs_to_watch(since)
            .await?
            .into_iter()
            .map(|(run, counts)| RunReport {
                run,
                counts,
                waiting: Vec::new(),
            })
            .collect())
    }

    /// Members per theme and mails per theme and month of the fiscal year that holds `now` (Tokyo time, or
    /// `schedule.time_zone`), counted from the send log's rows.
    pub async fn year_figures(&self, now: i64) -> Result<YearFigures, AppError> {
        let tz = self.settings.schedule.tz();
        let year = FiscalYear::of(now, tz);
        let counts = self.store.mails_by_month(&year.month_starts(tz)).await?;
        let members = self.store.members_per_theme().await?;
        let mut themes: Vec<ThemeFigures> = Vec::new();
        let plan = self.store.plan(None).await?;
        let named = plan
            .iter()
            .flat_map(|p| p.themes.iter().map(|t| (&t.slug, &t.title_ja, &t.title_en)))
            .chain(self.settings.themes.iter().map(|t| (&t.slug, &t.title_ja, &t.title_en)));
        for (slug, ja, en) in named {
            if !themes.iter().any(|t| &t.slug == slug) {
                themes.push(ThemeFigures::named(slug, ja, en));
            }
        }
        // A theme only the log or the members name (a plan since replaced) still counts, under its slug.
        for slug in counts
            .iter()
            .map(|c| &c.theme_slug)
            .chain(members.iter().map(|(s, _)| s))
        {
            if !themes.iter().any(|t| &t.slug == slug) {
                themes.push(ThemeFigures::named(slug, slug, slug));
            }
        }
        for c in &counts {
            let Some(t) = themes.iter_mut().find(|t| t.slug == c.theme_slug) else {
                continue;
            };
            match (c.outcome, c.month) {
                (Outcome::Sent, m) if m < 12 => t.sent[m] += c.attempts,
                (Outcome::Failed, m) if m < 12 => t.failed[m] += c.attempts,
                _ => {}
            }
        }
        for (slug, n) in members {
            if let Some(t) = themes.iter_mut().find(|t| t.slug == slug) {
                t.members = n;
            }
        }
        Ok(YearFigures {
            fiscal_year: year,
            this_month: year.month_index(now, tz).unwrap_or(0),
            themes,
        })
    }
}

impl ThemeFigures {
    fn named(slug: &str, ja: &str, en: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            title_ja: ja.to_owned(),
            title_en: en.to_owned(),
            members: 0,
            sent: [0; 12],
            failed: [0; 12],
        }
    }
}
