//! Campaigns: a theme × channel × template on a one-time or recurring schedule, read in the configured zone.

mod reason;
mod request;
pub mod schedule;

use serde::Serialize;

use crate::domain::Actor;
use crate::domain::plan::Channel;
pub use reason::StateReason;
pub use request::{CampaignEdit, CampaignRequest, Zone, fires, local_day, schedule_of};
pub use schedule::{Schedule, ScheduleError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignState {
    Scheduled,
    Paused,
    Cancelled,
    Finished,
}

impl CampaignState {
    pub const ALL: [CampaignState; 4] = [Self::Scheduled, Self::Paused, Self::Cancelled, Self::Finished];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Scheduled => "scheduled",
            CampaignState::Paused => "paused",
            CampaignState::Cancelled => "cancelled",
            CampaignState::Finished => "finished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The campaign state machine, in one place: the states from which `by` may move a campaign to `self`
    /// (empty: never). Staff pause, resume and cancel; the scheduler finishes a campaign with no firing left;
    /// the mail server's refusals pause it, a finished one too while its last run is still sending.
    pub fn reachable_by(self, by: &Actor) -> &'static [CampaignState] {
        use CampaignState::*;
        match (self, by) {
            (Paused, Actor::Smtp) => &[Scheduled, Finished],
            (Paused, _) => &[Scheduled],
            (Scheduled, _) => &[Paused],
            (Cancelled, Actor::Smtp | Actor::Scheduler) => &[],
            (Cancelled, _) => &[Scheduled, Paused],
            (Finished, Actor::Scheduler) => &[Scheduled],
            (Finished, _) => &[],
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// What staff call it; never shown to members.
    pub name: String,
    /// What members see in the mail's banner and `<title>`; `None`: the theme's title.
    pub title: Option<String>,
    /// The Tosho Shimbun issue a manuscript is meant for (e.g. `6月1日号`); `None`: an upcoming issue.
    pub issue: Option<String>,
    pub fiscal_year: i32,
    pub theme_slug: String,
    pub duty: String,
    pub channel: Channel,
    pub template: String,
    pub schedule: Schedule,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Ticks at or before this instant are never fired (creation time).
    pub settled_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: i64,
    /// What staff call it; never shown to members.
    pub name: String,
    /// What members see in the mail's banner and `<title>`; `None`: the theme's title.
    pub title: Option<String>,
    /// The Tosho Shimbun issue a manuscript is meant for; `None`: an upcoming issue.
    pub issue: Option<String>,
    pub fiscal_year: i32,
    pub theme_slug: String,
    pub duty: String,
    pub channel: Channel,
    pub template: String,
    pub schedule: Schedule,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub state: CampaignState,
    pub state_reason: StateReason,
    pub settled_ms: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl NewCampaign {
    /// Firing times strictly after `after_ms`, inside the bounds, at most `n`.
    pub fn ticks_after(&self, after_ms: i64, n: usize) -> Vec<i64> {
        self.schedule.ticks_within(after_ms, n, self.from_ms, self.until_ms)
    }
}

impl Campaign {
    /// Firing times strictly after `after_ms`, inside the bounds, at most `n`.
    pub fn ticks_after(&self, after_ms: i64, n: usize) -> Vec<i64> {
        self.schedule.ticks_within(after_ms, n, self.from_ms, self.until_ms)
    }

    /// The latest firing time in (`after_ms`, `now_ms`], inside the bounds.
    pub fn latest_tick(&self, after_ms: i64, now_ms: i64) -> Option<i64> {
        let after = after_ms.max(self.from_ms.map_or(i64::MIN, |f| f - 1));
        let upto = self.until_ms.map_or(now_ms, |u| u.min(now_ms));
        self.schedule.latest_tick(after, upto)
    }
}

#[cfg(test)]
mod tests {
    use super::CampaignState::*;
    use crate::domain::Actor;

    #[test]
    fn the_state_machine_by_actor() {
        let staff = Actor::Operator("staff@example.org".into());
        assert_eq!(Paused.reachable_by(&staff), &[Scheduled]);
        assert_eq!(Paused.reachable_by(&Actor::Smtp), &[Scheduled, Finished]);
        assert_eq!(Scheduled.reachable_by(&staff), &[Paused]);
        assert_eq!(Cancelled.reachable_by(&staff), &[Scheduled, Paused]);
        assert!(Cancelled.reachable_by(&Actor::Smtp).is_empty());
        assert!(
            Finished.reachable_by(&staff).is_empty(),
            "only the scheduler finishes a campaign"
        );
        assert_eq!(Finished.reachable_by(&Actor::Scheduler), &[Scheduled]);
        // Nothing leaves cancelled.
        for to in [Scheduled, Paused, Cancelled, Finished] {
            for by in [&staff, &Actor::Smtp, &Actor::Scheduler] {
                assert!(!to.reachable_by(by).contains(&Cancelled), "{to:?} by {by:?}");
            }
        }
    }
}
