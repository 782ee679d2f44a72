//! When a campaign fires: one instant, or a cron expression read in a time zone.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid cron expression {expr:?}: {reason}")]
    Cron { expr: String, reason: String },
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    #[error("invalid {field} {value:?}: expected {expected}")]
    Time {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Schedule {
    Once {
        at_ms: i64,
    },
    /// Classic five fields, or six with seconds first; day-of-month and day-of-week match as in classic cron (either).
    Cron {
        expr: String,
        time_zone: String,
        /// The expression parsed once, on first use.
        #[serde(skip)]
        compiled: Compiled,
    },
}

/// A cron expression parsed once and shared by the clones of its schedule; ignored by equality.
#[derive(Clone, Default)]
pub struct Compiled(Arc<OnceLock<Result<(Cron, Tz), ScheduleError>>>);

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Compiled"
        } else {
            "NotYetCompiled"
        })
    }
}

impl PartialEq for Compiled {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Compiled {}

impl Schedule {
    pub fn cron(expr: &str, time_zone: &str) -> Result<Self, ScheduleError> {
        let schedule = Schedule::stored_cron(expr.trim().to_owned(), time_zone.to_owned());
        schedule.compiled()?;
        Ok(schedule)
    }

    /// A cron schedule as stored, parsed on first use.
    pub fn stored_cron(expr: String, time_zone: String) -> Self {
        Schedule::Cron {
            expr,
            time_zone,
            compiled: Compiled::default(),
        }
    }

    fn compiled(&self) -> Result<Option<&(Cron, Tz)>, ScheduleError> {
        match self {
            Schedule::Once { .. } => Ok(None),
            Schedule::Cron {
                expr,
                time_zone,
                compiled,
            } => compiled
                .0
                .get_or_init(|| compile(expr, time_zone))
                .as_ref()
                .map(Some)
                .map_err(Clone::clone),
        }
    }

    /// Firing times strictly after `after_ms` and at most `until_ms`, at most `n` of them.
    pub fn ticks_after(&self, after_ms: i64, n: usize, until_ms: Option<i64>) -> Vec<i64> {
        let until = until_ms.unwrap_or(i64::MAX);
        match self.compiled() {
            Ok(None) => match self {
                Schedule::Once { at_ms } if *at_ms > after_ms && *at_ms <= until && n > 0 => vec![*at_ms],
                _ => Vec::new(),
            },
            Ok(Some((cron, tz))) => {
                let Some(start) = to_utc(whole_second(after_ms)) else {
                    return Vec::new();
                };
                cron.iter_after(start.with_timezone(tz))
                    .map(|t| whole_second(t.timestamp_millis()))
                    .take_while(|t| *t <= until)
                    .take(n)
                    .collect()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Firing times strictly after `after_ms`, inside [`from_ms`, `until_ms`], at most `n` of them.
    pub fn ticks_within(&self, after_ms: i64, n: usize, from_ms: Option<i64>, until_ms: Option<i64>) -> Vec<i64> {
        self.ticks_after(after_ms.max(from_ms.map_or(i64::MIN, |f| f - 1)), n, until_ms)
    }

    /// The latest firing time in (`after_ms`, `upto_ms`].
    pub fn latest_tick(&self, after_ms: i64, upto_ms: i64) -> Option<i64> {
        let tick = match self.compiled().ok()? {
            None => match self {
                Schedule::Once { at_ms } => *at_ms,
                Schedule::Cron { .. } => return None,
            },
            Some((cron, tz)) => {
                let upto = to_utc(whole_second(upto_ms))?.with_timezone(tz);
                whole_second(cron.find_previous_occurrence(&upto, true).ok()?.timestamp_millis())
            }
        };
        (tick > after_ms && tick <= upto_ms).then_some(tick)
    }

    pub fn is_once(&self) -> bool {
        matches!(self, Schedule::Once { .. })
    }

    pub fn describe(&self, tz: Tz) -> String {
        match self {
            Schedule::Once { at_ms } => format!("once at {}", format_local(*at_ms, tz)),
            Schedule::Cron { expr, time_zone, .. } => format!("cron {expr:?} ({time_zone})"),
        }
    }
}

/// Parses a cron expression read in `time_zone`.
fn compile(expr: &str, time_zone: &str) -> Result<(Cron, Tz), ScheduleError> {
    let tz = Tz::from_str(time_zone).map_err(|_| ScheduleError::TimeZone(time_zone.to_owned()))?;
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) {
        return Err(ScheduleError::Cron {
            expr: expr.to_owned(),
            reason: format!("expected 5 fields (or 6 with seconds first), found {fields}"),
        });
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr)
        .map_err(|e| ScheduleError::Cron {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })?;
    Ok((cron, tz))
}

/// A firing time is the schedule's own instant, in whole seconds: croner carries the sub-second part of the
/// instant it searches from into what it finds, and a tick that moves with the wake-up time is a new run key.
fn whole_second(ms: i64) -> i64 {
    ms - ms.rem_euclid(1000)
}

fn to_utc(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// `2020-06-01T09:00` (or with seconds, or with a space) read in `tz`.
pub fn parse_local_datetime(field: &'static str, value: &str, tz: Tz) -> Result<i64, ScheduleError> {
    let bad = || ScheduleError::Time {
        field,
        value: value.to_owned(),
        expected: "YYYY-MM-DDTHH:MM[:SS]",
    };
    let v = value.trim();
    let naive = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
    .ok_or_else(bad)?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(bad)
}

/// The first instant of a calendar day in `tz`; with `end_of_day`, the last millisecond of it.
pub fn parse_local_date(field: &'static str, value: &str, tz: Tz, end_of_day: bool) -> Result<i64, ScheduleError> {
    let bad = || ScheduleError::Time {
        field,
        value: value.to_owned(),
        expected: "YYYY-MM-DD",
    };
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    let day = if end_of_day {
        date.succ_opt().ok_or_else(bad)?
    } else {
        date
    };
    let start = tz
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).ok_or_else(bad)?)
        .earliest()
        .ok_or_else(bad)?;
    Ok(start.timestamp_millis() - i64::from(end_of_day))
}

/// `2020-06-01 09:00:00 JST`-style local rendering for people.
pub fn format_local(ms: i64, tz: Tz) -> String {
    to_utc(ms).map_or_else(
        || ms.to_string(),
        |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string(),
    )
}

/// ISO 8601 with the zone's offset (`2020-06-01T09:00:00+09:00`), for files and logs read by programs.
pub fn format_iso(ms: i64, tz: Tz) -> String {
    to_utc(ms).map_or_else(
        || ms.to_string(),
        |t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_carry_the_offset() {
        assert_eq!(
            format_iso(at("2020-06-01 09:00"), TOKYO),
            "2020-06-01T09:00:00.000+09:00"
        );
    }

    const TOKYO: Tz = chrono_tz::Asia::Tokyo;

    fn at(s: &str) -> i64 {
        parse_local_datetime("--at", s, TOKYO).unwrap()
    }

    #[test]
    fn five_field_cron_runs_in_tokyo_time() {
        // First Monday of the month at 09:00: day 1-7 AND Monday needs croner's '+' or a '#'; classic cron ORs.
        let s = Schedule::cron("0 9 * * MON#1", "Asia/Tokyo").unwrap();
        let ticks = s.ticks_after(at("2020-04-01T00:00"), 3, None);
        assert_eq!(
            ticks,
            vec![at("2020-04-06T09:00"), at("2020-05-04T09:00"), at("2020-06-01T09:00")]
        );
        // 09:00 in Tokyo is 00:00 UTC.
        assert_eq!(format_local(ticks[0], chrono_tz::UTC), "2020-04-06 00:00:00 UTC");
    }

    #[test]
    fn classic_cron_ors_day_of_month_and_day_of_week() {
        let s = Schedule::cron("0 9 1 * MON", "Asia/Tokyo").unwrap();
        let ticks = s.ticks_after(at("2020-06-01T10:00"), 2, None);
        // 2020-06-08 is a Monday; 2020-07-01 is a Wednesday (day 1).
        assert_eq!(ticks, vec![at("2020-06-08T09:00"), at("2020-06-15T09:00")]);
    }

    #[test]
    fn six_field_cron_has_seconds() {
        let s = Schedule::cron("30 0 9 * * *", "Asia/Tokyo").unwrap();
        assert_eq!(
            s.ticks_after(at("2020-06-01T00:00"), 1, None),
            vec![at("2020-06-01T09:00:30")]
        );
    }

    #[test]
    fn bad_cron_is_refused_with_the_reason() {
        let err = Schedule::cron("0 9 * *", "Asia/Tokyo").unwrap_err();
        assert!(err.to_string().contains("expected 5 fields"), "{err}");
        let err = Schedule::cron("0 25 * * *", "Asia/Tokyo").unwrap_err();
        assert!(matches!(err, ScheduleError::Cron { .. }), "{err}");
        assert!(matches!(
            Schedule::cron("0 9 * * *", "Nowhere/Zone"),
            Err(ScheduleError::TimeZone(_))
        ));
    }

    #[test]
    fn latest_tick_and_bounds() {
        let s = Schedule::cron("0 9 * * *", "Asia/Tokyo").unwrap();
        assert_eq!(
            s.latest_tick(at("2020-06-01T00:00"), at("2020-06-03T08:59")),
            Some(at("2020-06-02T09:00"))
        );
        assert_eq!(s.latest_tick(at("2020-06-02T09:00"), at("2020-06-03T08:59")), None);
        assert_eq!(
            s.ticks_after(at("2020-06-01T00:00"), 10, Some(at("2020-06-02T23:59")))
                .len(),
            2
        );
        let once = Schedule::Once {
            at_ms: at("2020-06-01T09:00"),
        };
        assert_eq!(
            once.latest_tick(0, at("2020-06-01T09:00")),
            Some(at("2020-06-01T09:00"))
        );
        assert_eq!(once.latest_tick(at("2020-06-01T09:00"), at("2020-07-01T09:00")), None);
    }

    #[test]
    fn dates_and_times_parse_in_the_zone() {
        assert_eq!(
            parse_local_date("--from", "2020-04-01", TOKYO, false).unwrap(),
            at("2020-04-01T00:00")
        );
        assert_eq!(
            parse_local_date("--until", "2021-03-31", TOKYO, true).unwrap(),
            at("2021-04-01T00:00") - 1
        );
        let err = parse_local_datetime("--at", "June 1st", TOKYO).unwrap_err();
        assert!(err.to_string().contains("--at"), "{err}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Five-field expressions with lists, ranges, steps and wildcards in every field.
        fn cron_expr() -> impl Strategy<Value = String> {
            let field = |max: u32| {
                prop_oneof![
                    Just("*".to_owned()),
                    (0..max).prop_map(|n| n.to_string()),
                    (1..max.min(30)).prop_map(|s| format!("*/{s}")),
                    (0..max / 2, 1..max / 2).prop_map(|(a, w)| format!("{a}-{}", a + w)),
                    (0..max, 0..max).prop_map(|(a, b)| format!("{a},{b}")),
                ]
            };
            (field(60), field(24), field(28), field(12), field(7)).prop_map(|(mi, h, dom, mon, dow)| {
                // Months and days of the month count from 1.
                let one_based = |f: String| {
                    f.split(',')
                        .map(|p| match p.parse::<u32>() {
                            Ok(n) => (n + 1).to_string(),
                            Err(_) if p.contains('-') && !p.starts_with('*') => p
                                .split('-')
                                .map(|x| x.parse::<u32>().map_or(x.to_owned(), |n| (n + 1).to_string()))
                                .collect::<Vec<_>>()
                                .join("-"),
                            Err(_) => p.to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                };
                format!("{mi} {h} {} {} {dow}", one_based(dom), one_based(mon))
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// A tick is the schedule's own instant: whatever the wake-up time and its sub-second jitter, the
            /// latest tick is a whole second, is one of the schedule's firing times, and is the same for
            /// every wake-up between it and the next firing time.
            #[test]
            fn ticks_do_not_move_with_the_wake_up_time(
                expr in cron_expr(),
                start in 1_577_836_800_000i64..1_893_456_000_000i64,
                jitter in proptest::collection::vec(0i64..1000, 4),
                offsets in proptest::collection::vec(0i64..3_600_000, 4),
            ) {
                let Ok(schedule) = Schedule::cron(&expr, "Asia/Tokyo") else { return Ok(()) };
                let after = start - 400 * 86_400_000;
                for (offset, ms) in offsets.iter().zip(&jitter) {
                    let wake = start + offset + ms;
                    let Some(tick) = schedule.latest_tick(after, wake) else { continue };
                    prop_assert_eq!(tick.rem_euclid(1000), 0, "{} at {}", expr, wake);
                    prop_assert!(tick <= wake);
                    // The next firing time after the tick is beyond the wake-up: nothing newer was due.
                    let next = schedule.ticks_after(tick, 1, None);
                    prop_assert!(next.first().is_none_or(|n| *n > wake), "{} at {}: {:?}", expr, wake, next);
                    // The tick is itself a firing time.
                    prop_assert_eq!(schedule.ticks_after(tick - 1, 1, None).first().copied(), Some(tick));
                    // Another wake-up in the same second, or any later one before the next firing time,
                    // finds the same tick.
                    let second = wake - wake.rem_euclid(1000);
                    for other in [second, second + 999, next.first().map_or(wake, |n| n - 1)] {
                        if other >= tick {
                            prop_assert_eq!(schedule.latest_tick(after, other), Some(tick), "{} at {}", expr, other);
                        }
                    }
                }
            }
        }
    }
}
