//! The Japanese fiscal year: April 1 to March 31, in the configured zone (Tokyo). Reports count by its
//! months, so their boundaries are computed here once, as instants, and the store counts between them.

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// A fiscal year, named by the calendar year it starts in (2020 runs from 2020-04-01 to 2021-03-31).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The fiscal year the instant `ms` falls in, in `tz`.
    pub fn of(ms: i64, tz: Tz) -> FiscalYear {
        let local = tz
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| t.date_naive())
            .unwrap_or_default();
        FiscalYear(if local.month() >= 4 {
            local.year()
        } else {
            local.year() - 1
        })
    }

    /// The index (0 = April … 11 = March) of the month `ms` falls in, if it falls in this year.
    pub fn month_index(self, ms: i64, tz: Tz) -> Option<usize> {
        let starts = self.month_starts(tz);
        (starts[0] <= ms && ms < starts[12]).then(|| starts.iter().rposition(|s| *s <= ms).unwrap_or(0))
    }

    /// The first instant of each of its twelve months and of the next year, as epoch milliseconds: month `i`
    /// is `[starts[i], starts[i + 1])`.
    pub fn month_starts(self, tz: Tz) -> [i64; 13] {
        std::array::from_fn(|i| {
            let (year, month) = self.calendar_month(i);
            midnight(tz, year, month)
        })
    }

    /// The calendar (year, month) of month `i` (0 = April; 12 = the next April).
    pub fn calendar_month(self, i: usize) -> (i32, u32) {
        // i < 13, so the casts cannot truncate.
        let m = 3 + i as u32;
        (self.0 + (m / 12) as i32, m % 12 + 1)
    }
}

/// Midnight at the start of the 1st of `month` in `tz`, as epoch milliseconds. A zone that skips midnight
/// that day (none that Japan uses) takes the earliest instant of the day.
fn midnight(tz: Tz, year: i32, month: u32) -> i64 {
    let day = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    (0..24)
        .filter_map(|h| day.and_hms_opt(h, 0, 0))
        .find_map(|t| tz.from_local_datetime(&t).earliest())
        .map_or(0, |t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Tokyo;

    fn tokyo(y: i32, m: u32, d: u32, h: u32) -> i64 {
        Tokyo.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp_millis()
    }

    #[test]
    fn april_first_in_tokyo_starts_the_year() {
        assert_eq!(FiscalYear::of(tokyo(2021, 3, 31, 23), Tokyo), FiscalYear(2020));
        assert_eq!(FiscalYear::of(tokyo(2021, 4, 1, 0), Tokyo), FiscalYear(2021));
        // 2021-03-31 16:00 UTC is already April 1 in Tokyo.
        let utc = chrono::Utc
            .with_ymd_and_hms(2021, 3, 31, 16, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(FiscalYear::of(utc, Tokyo), FiscalYear(2021));
        assert_eq!(FiscalYear::of(utc, chrono_tz::UTC), FiscalYear(2020));
    }

    #[test]
    fn months_run_april_to_march() {
        let fy = FiscalYear(2020);
        let starts = fy.month_starts(Tokyo);
        assert_eq!(starts[0], tokyo(2020, 4, 1, 0));
        assert_eq!(starts[9], tokyo(2021, 1, 1, 0));
        assert_eq!(starts[12], tokyo(2021, 4, 1, 0));
        assert_eq!(fy.calendar_month(8), (2020, 12));
        assert_eq!(fy.calendar_month(11), (2021, 3));
        assert_eq!(fy.month_index(tokyo(2020, 12, 31, 23), Tokyo), Some(8));
        assert_eq!(fy.month_index(tokyo(2021, 3, 31, 23), Tokyo), Some(11));
        assert_eq!(fy.month_index(tokyo(2021, 4, 1, 0), Tokyo), None);
        assert_eq!(fy.month_index(tokyo(2020, 3, 31, 23), Tokyo), None);
    }
}
