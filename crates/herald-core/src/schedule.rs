//! Cron patterns of recurring schedules: 5 fields (minute granularity) or
//! 6 (with seconds first), read in an IANA time zone, through `croner`.
//! A tick is a point in time (milliseconds since the epoch); the pattern
//! says which come after a given one.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::validation::{ValidationError, check_len};

/// The longest pattern accepted.
const MAX_PATTERN_LEN: usize = 128;

/// A parsed pattern in its zone.
#[derive(Debug, Clone)]
pub struct CronPattern {
    cron: Cron,
    zone: Tz,
}

impl CronPattern {
    /// Parses `pattern` (field `cron_field`) in the zone `zone` (field
    /// `zone_field`), and checks that it fires at least once from now.
    pub fn parse(
        cron_field: &str,
        pattern: &str,
        zone_field: &str,
        zone: &str,
    ) -> Result<Self, ValidationError> {
        check_len(cron_field, pattern, 1, MAX_PATTERN_LEN)?;
        let fields = pattern.split_whitespace().count();
        if !pattern.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
            return Err(ValidationError::new(
                cron_field,
                format!(
                    "must have 5 fields (minute hour day month weekday) or 6 (seconds first), \
                     got {fields}"
                ),
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(pattern)
            .map_err(|e| ValidationError::new(cron_field, format!("is not a cron pattern: {e}")))?;
        let zone: Tz = zone.parse().map_err(|_| {
            ValidationError::new(
                zone_field,
                format!("`{zone}` is not an IANA time zone name (e.g. `Europe/Berlin`, `UTC`)"),
            )
        })?;
        let pattern = Self { cron, zone };
        if pattern.next_after(Utc::now().timestamp_millis()).is_none() {
            return Err(ValidationError::new(
                cron_field,
                "never fires: no date matches it",
            ));
        }
        Ok(pattern)
    }

    /// The first tick strictly after `after_ms`, if any.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let after: DateTime<Tz> = self.zone.timestamp_millis_opt(after_ms).single()?;
        self.cron
            .find_next_occurrence(&after, false)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    /// The next `n` ticks after `after_ms`.
    pub fn next_ticks(&self, after_ms: i64, n: usize) -> Vec<i64> {
        let mut ticks = Vec::with_capacity(n);
        let mut at = after_ms;
        while ticks.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    ticks.push(next);
                    at = next;
                }
                None => break,
            }
        }
        ticks
    }

    /// The last tick at or before `at_ms`, if any after `after_ms`: where a
    /// schedule that missed many ticks resumes.
    pub fn last_at_or_before(&self, at_ms: i64, after_ms: i64) -> Option<i64> {
        let at: DateTime<Tz> = self.zone.timestamp_millis_opt(at_ms).single()?;
        self.cron
            .find_previous_occurrence(&at, true)
            .ok()
            .map(|t| t.timestamp_millis())
            .filter(|&t| t > after_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn five_fields_tick_each_minute_and_six_each_second() {
        let minutely = CronPattern::parse("cron", "* * * * *", "timezone", "UTC").unwrap();
        let from = ms("2026-12-01T10:00:30Z");
        assert_eq!(
            minutely.next_ticks(from, 2),
            [ms("2026-12-01T10:01:00Z"), ms("2026-12-01T10:02:00Z")]
        );
        let secondly = CronPattern::parse("cron", "*/2 * * * * *", "timezone", "UTC").unwrap();
        assert_eq!(
            secondly.next_after(ms("2026-12-01T10:00:00Z")),
            Some(ms("2026-12-01T10:00:02Z"))
        );
    }

    #[test]
    fn the_zone_decides_the_hour() {
        let nine = CronPattern::parse("cron", "0 9 * * MON", "timezone", "Europe/Berlin").unwrap();
        // Monday 2026-12-07, 09:00 in Berlin is 08:00 UTC (winter time).
        assert_eq!(
            nine.next_after(ms("2026-12-02T00:00:00Z")),
            Some(ms("2026-12-07T08:00:00Z"))
        );
        // In July Berlin is UTC+2.
        assert_eq!(
            nine.next_after(ms("2026-07-01T00:00:00Z")),
            Some(ms("2026-07-06T07:00:00Z"))
        );
    }

    #[test]
    fn a_missed_run_resumes_at_the_last_tick() {
        let hourly = CronPattern::parse("cron", "0 * * * *", "timezone", "UTC").unwrap();
        assert_eq!(
            hourly.last_at_or_before(ms("2026-12-01T10:30:00Z"), ms("2026-12-01T00:00:00Z")),
            Some(ms("2026-12-01T10:00:00Z"))
        );
        assert_eq!(
            hourly.last_at_or_before(ms("2026-12-01T10:30:00Z"), ms("2026-12-01T10:00:00Z")),
            None
        );
    }

    #[test]
    fn bad_patterns_and_zones_name_their_field() {
        for (pattern, zone, field) in [
            ("* * * *", "UTC", "cron"),
            ("* * * * * * *", "UTC", "cron"),
            ("61 * * * *", "UTC", "cron"),
            ("", "UTC", "cron"),
            ("* * * * *", "Mars/Olympus", "timezone"),
            ("0 0 30 2 *", "UTC", "cron"),
        ] {
            let err = CronPattern::parse("cron", pattern, "timezone", zone).unwrap_err();
            assert_eq!(err.field, field, "{pattern} in {zone}: {err}");
        }
        let long = "* ".repeat(100);
        assert_eq!(
            CronPattern::parse("cron", &long, "timezone", "UTC")
                .unwrap_err()
                .field,
            "cron"
        );
    }
}
