//! A campaign as staff ask for it — by the command line, the staff form or the API — and its rules, checked
//! here once: every field's text, the issue only for the Tosho Shimbun, a duty of the plan for the channel, one
//! schedule that parses and fires. Every problem found is returned at once, each naming its field.

use chrono_tz::Tz;

use super::schedule::{ScheduleError, format_local, parse_local_date, parse_local_datetime};
use super::{Campaign, NewCampaign, Schedule};
use crate::domain::field::Field;
use crate::domain::plan::{Channel, Plan};
use crate::domain::problem::{FieldError, Invalid, Problem};

/// A campaign to create.
#[derive(Debug, Clone)]
pub struct CampaignRequest {
    /// What staff call it; never shown to members.
    pub name: String,
    /// What members see in the mail's banner and `<title>` (default: the theme's title).
    pub title: Option<String>,
    /// The Tosho Shimbun issue a manuscript is meant for, e.g. `6月1日号` (default: an upcoming issue).
    pub issue: Option<String>,
    pub theme_slug: String,
    pub channel: Channel,
    /// Once, at this local date and time; give this or `cron`.
    pub at: Option<String>,
    pub cron: Option<String>,
    /// The first and last local day it may fire.
    pub from: Option<String>,
    pub until: Option<String>,
    pub fiscal_year: Option<i32>,
}

/// What staff change in a campaign that has not ended; `None` in title or issue means the default.
#[derive(Debug, Clone)]
pub struct CampaignEdit {
    pub name: String,
    pub title: Option<String>,
    pub issue: Option<String>,
    pub at: Option<String>,
    pub cron: Option<String>,
}

/// The time zone schedules are read in: its name (stored with a cron schedule) and the zone.
#[derive(Debug, Clone, Copy)]
pub struct Zone<'a> {
    pub name: &'a str,
    pub tz: Tz,
}

/// The problems of one request, gathered field by field.
#[derive(Default)]
struct Found(Vec<FieldError>);

impl Found {
    /// The value, or `None` with its problem noted.
    fn take<T>(&mut self, checked: Result<T, FieldError>) -> Option<T> {
        checked.map_err(|e| self.0.push(e)).ok()
    }
}

impl CampaignRequest {
    /// The campaign to store, checked against `plan` (the request's fiscal year's) and the clock.
    pub fn check(&self, plan: &Plan, zone: Zone<'_>, now: i64) -> Result<NewCampaign, Invalid> {
        let mut found = Found::default();
        let name = found.take(Field::Name.required(&self.name));
        let title = found.take(Field::Title.optional(self.title.as_deref()));
        let issue = found.take(issue_for(self.channel, self.issue.as_deref()));
        let theme = found.take(plan.theme(&self.theme_slug).ok_or_else(|| {
            let known = plan.themes.iter().map(|t| t.slug.clone()).collect();
            FieldError::new(
                Field::Theme,
                Problem::UnknownTheme {
                    slug: self.theme_slug.clone(),
                    known,
                },
            )
        }));
        let duty = theme.and_then(|theme| {
            found.take(theme.duty_for(self.channel).ok_or_else(|| {
                FieldError::new(
                    Field::Channel,
                    Problem::NoDuty {
                        theme: theme.slug.clone(),
                        channel: self.channel.to_string(),
                    },
                )
            }))
        });
        let schedule = found.take(schedule_of(self.at.as_deref(), self.cron.as_deref(), zone));
        let day = |field: Field, value: &Option<String>, end: bool| {
            value.as_deref().map(|d| local_day(field, d, zone.tz, end)).transpose()
        };
        let from_ms = found.take(day(Field::From, &self.from, false));
        let until_ms = found.take(day(Field::Until, &self.until, true));
        if let (Some(schedule), Some(from_ms), Some(until_ms)) = (&schedule, from_ms, until_ms) {
            found.take(fires(schedule, zone.tz, now, 1, (from_ms, until_ms)));
        }
        Invalid::check(found.0)?;
        match (name, title, issue, theme, duty, schedule, from_ms, until_ms) {
            (
                Some(name),
                Some(title),
                Some(issue),
                Some(theme),
                Some(duty),
                Some(schedule),
                Some(from_ms),
                Some(until_ms),
            ) => Ok(NewCampaign {
                name: name.to_owned(),
                title: title.map(str::to_owned),
                issue: issue.map(str::to_owned),
                fiscal_year: plan.fiscal_year,
                theme_slug: theme.slug.clone(),
                duty: duty.text.clone(),
                channel: self.channel,
                template: format!("{}/{}", self.channel.slug(), theme.slug),
                schedule,
                from_ms,
                until_ms,
                settled_ms: now,
            }),
            // Unreachable: a part missing was noted as a problem above.
            _ => Err(FieldError::new(Field::Name, Problem::Empty).into()),
        }
    }
}

impl CampaignEdit {
    /// The campaign `old` becomes; its new schedule fires only from now on.
    pub fn apply(&self, old: &Campaign, zone: Zone<'_>, now: i64) -> Result<Campaign, Invalid> {
        let mut found = Found::default();
        let name = found.take(Field::Name.required(&self.name));
        let title = found.take(Field::Title.optional(self.title.as_deref()));
        let issue = found.take(issue_for(old.channel, self.issue.as_deref()));
        let schedule = found.take(schedule_of(self.at.as_deref(), self.cron.as_deref(), zone));
        let settled_ms = old.settled_ms.max(now);
        if let Some(schedule) = &schedule {
            found.take(fires(schedule, zone.tz, settled_ms, 1, (old.from_ms, old.until_ms)));
        }
        Invalid::check(found.0)?;
        match (name, title, issue, schedule) {
            (Some(name), Some(title), Some(issue), Some(schedule)) => Ok(Campaign {
                name: name.to_owned(),
                title: title.map(str::to_owned),
                issue: issue.map(str::to_owned),
                schedule,
                settled_ms,
                ..old.clone()
            }),
            // Unreachable: a part missing was noted as a problem above.
            _ => Err(FieldError::new(Field::Name, Problem::Empty).into()),
        }
    }
}

/// An issue is the Tosho Shimbun's: refused on any other channel.
fn issue_for(channel: Channel, issue: Option<&str>) -> Result<Option<&str>, FieldError> {
    let issue = Field::Issue.optional(issue)?;
    if issue.is_some() && channel != Channel::ToshoShimbun {
        return Err(FieldError::new(Field::Issue, Problem::IssueForManuscripts));
    }
    Ok(issue)
}

/// The schedule given as one local date and time or as cron; a blank one is not given.
pub fn schedule_of(at: Option<&str>, cron: Option<&str>, zone: Zone<'_>) -> Result<Schedule, FieldError> {
    let (at, cron) = (given(at), given(cron));
    match (at, cron) {
        (Some(at), None) => {
            let at = Field::At.check(at)?;
            let at_ms = parse_local_datetime(Field::At.option(), at, zone.tz).map_err(|e| time_error(Field::At, e))?;
            Ok(Schedule::Once { at_ms })
        }
        (None, Some(expr)) => {
            let expr = Field::Cron.check(expr)?;
            Schedule::cron(expr, zone.name).map_err(|e| time_error(Field::Cron, e))
        }
        (None, None) => Err(FieldError::new(Field::Schedule, Problem::Empty)),
        (Some(_), Some(_)) => Err(FieldError::new(Field::Schedule, Problem::OneSchedule)),
    }
}

/// The first instant of a local day typed in `field` (`2020-06-01`); with `end_of_day`, its last millisecond.
pub fn local_day(field: Field, value: &str, tz: Tz, end_of_day: bool) -> Result<i64, FieldError> {
    let value = field.check(value)?;
    parse_local_date(field.option(), value, tz, end_of_day).map_err(|e| time_error(field, e))
}

/// The next `n` firing times after `after_ms` inside the `(from, until)` window, or the problem that there are
/// none (named on the field that gave the schedule).
pub fn fires(
    schedule: &Schedule,
    tz: Tz,
    after_ms: i64,
    n: usize,
    (from_ms, until_ms): (Option<i64>, Option<i64>),
) -> Result<Vec<i64>, FieldError> {
    let ticks = schedule.ticks_within(after_ms, n, from_ms, until_ms);
    if !ticks.is_empty() {
        return Ok(ticks);
    }
    let between = (from_ms.is_some() || until_ms.is_some()).then(|| {
        (
            format_local(from_ms.unwrap_or(after_ms).max(after_ms), tz),
            until_ms.map_or_else(|| "the end of time".to_owned(), |u| format_local(u, tz)),
        )
    });
    let once = schedule.is_once();
    Err(FieldError::new(
        if once { Field::At } else { Field::Cron },
        Problem::NeverFires {
            schedule: schedule.describe(tz),
            once,
            between,
        },
    ))
}

/// A schedule's part as given: a blank one is not given.
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

fn time_error(field: Field, e: ScheduleError) -> FieldError {
    let problem = match e {
        ScheduleError::Time { value, expected, .. } if expected.contains('T') => Problem::BadDateTime(value),
        ScheduleError::Time { value, .. } => Problem::BadDate(value),
        ScheduleError::Cron { expr, reason } => Problem::BadCron { expr, reason },
        // The configured zone, checked when the settings load; said plainly should it ever fail here.
        ScheduleError::TimeZone(zone) => Problem::BadCron {
            expr: String::new(),
            reason: format!("unknown time zone {zone:?}"),
        },
    };
    FieldError::new(field, problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::{PlanDuty, Theme};

    fn plan() -> Plan {
        let duty = PlanDuty {
            text: "メールマガジンで周知".into(),
            sub_items: Vec::new(),
            channels: vec![Channel::Newsletter],
        };
        Plan {
            fiscal_year: 2020,
            title: String::new(),
            sha256: String::new(),
            themes: vec![Theme {
                slug: "telework".into(),
                title_ja: "テレワーク".into(),
                title_en: "Telework".into(),
                programmes: Vec::new(),
                duties: vec![duty],
            }],
        }
    }

    fn request() -> CampaignRequest {
        CampaignRequest {
            name: " 月次 ".into(),
            title: None,
            issue: None,
            theme_slug: "telework".into(),
            channel: Channel::Newsletter,
            at: None,
            cron: Some("0 9 1 * *".into()),
            from: None,
            until: None,
            fiscal_year: None,
        }
    }

    const ZONE: Zone<'static> = Zone {
        name: "Asia/Tokyo",
        tz: chrono_tz::Asia::Tokyo,
    };
    /// 2020-05-01 00:00 UTC.
    const NOW: i64 = 1_588_291_200_000;

    fn fields(invalid: Invalid) -> Vec<(Option<Field>, Problem)> {
        invalid
            .problems()
            .iter()
            .map(|p| (p.field, p.problem.clone()))
            .collect()
    }

    #[test]
    fn a_good_request_becomes_a_campaign() {
        let new = request().check(&plan(), ZONE, NOW).unwrap();
        assert_eq!(
            (new.name.as_str(), new.template.as_str()),
            ("月次", "newsletter/telework")
        );
        assert_eq!(new.duty, "メールマガジンで周知");
    }

    #[test]
    fn every_problem_is_found_at_once_each_naming_its_field() {
        let bad = CampaignRequest {
            name: " ".into(),
            issue: Some("6月1日号".into()),
            channel: Channel::AdvisorHandout,
            cron: Some("0 0 31 2 *".into()),
            until: Some("June".into()),
            ..request()
        };
        let found = fields(bad.check(&plan(), ZONE, NOW).unwrap_err());
        assert_eq!(
            found,
            vec![
                (Some(Field::Name), Problem::Empty),
                (Some(Field::Issue), Problem::IssueForManuscripts),
                (
                    Some(Field::Channel),
                    Problem::NoDuty {
                        theme: "telework".into(),
                        channel: "advisor-handout".into()
                    }
                ),
                (Some(Field::Until), Problem::BadDate("June".into())),
            ]
        );
        let never = CampaignRequest {
            cron: Some("0 0 31 2 *".into()),
            ..request()
        };
        let found = fields(never.check(&plan(), ZONE, NOW).unwrap_err());
        assert!(
            matches!(
                &found[..],
                [(Some(Field::Cron), Problem::NeverFires { once: false, .. })]
            ),
            "{found:?}"
        );
        let both = CampaignRequest {
            at: Some("2020-06-01T09:00".into()),
            ..request()
        };
        let found = fields(both.check(&plan(), ZONE, NOW).unwrap_err());
        assert_eq!(found, vec![(Some(Field::Schedule), Problem::OneSchedule)]);
    }

    #[test]
    fn a_schedule_as_typed() {
        assert!(matches!(
            schedule_of(Some(" "), Some("0 9 * * *"), ZONE),
            Ok(Schedule::Cron { .. })
        ));
        assert_eq!(schedule_of(None, Some(""), ZONE).unwrap_err().problem, Problem::Empty);
        let past = schedule_of(Some("2020-04-01T09:00"), None, ZONE).unwrap();
        let e = fires(&past, ZONE.tz, NOW, 5, (None, None)).unwrap_err();
        assert_eq!(e.field, Some(Field::At));
        assert!(matches!(e.problem, Problem::NeverFires { once: true, .. }), "{e:?}");
    }
}
