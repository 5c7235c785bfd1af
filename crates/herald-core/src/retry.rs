//! The retry policy: which outcomes are retried, and when.
//!
//! Pure functions of the policy, the retry number and the outcome, so the
//! schedule is tested here without a clock.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::delivery::ErrorCategory;
use crate::validation::ValidationError;

pub mod schedule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryStrategy {
    #[default]
    Exponential,
    Linear,
    Fixed,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    pub strategy: RetryStrategy,
    /// Retries after the first attempt.
    #[schema(maximum = 20)]
    pub max_retries: u32,
    #[schema(maximum = 86400000)]
    pub initial_delay_ms: u64,
    #[schema(minimum = 1.0, maximum = 10.0)]
    pub multiplier: f64,
    #[schema(maximum = 604800000)]
    pub max_delay_ms: u64,
    pub jitter: bool,
    /// Statuses retried on top of 408, 429 and 5xx.
    #[schema(schema_with = retry_statuses)]
    pub retry_on_status: Vec<u16>,
}

/// `retry_on_status` in the API spec: up to 100 statuses from 400 to 599.
fn retry_statuses() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let status = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(400))
        .maximum(Some(599));
    ArrayBuilder::new()
        .items(status)
        .max_items(Some(100))
        .build()
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            strategy: RetryStrategy::Exponential,
            max_retries: 5,
            initial_delay_ms: 1_000,
            multiplier: 2.0,
            max_delay_ms: 3_600_000,
            jitter: true,
            retry_on_status: Vec::new(),
        }
    }
}

/// What an attempt's result means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// Worth trying again (if the policy has retries left).
    Retryable,
    /// Trying again cannot help: fail the delivery now.
    Permanent,
}

impl RetryPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.max_retries > 20 {
            return Err(ValidationError::new(
                "max_retries",
                "must be between 0 and 20",
            ));
        }
        if self.initial_delay_ms > 86_400_000 {
            return Err(ValidationError::new(
                "initial_delay_ms",
                "must be between 0 and 86400000 (one day)",
            ));
        }
        if !(1.0..=10.0).contains(&self.multiplier) {
            return Err(ValidationError::new(
                "multiplier",
                "must be between 1.0 and 10.0",
            ));
        }
        if self.max_delay_ms < self.initial_delay_ms || self.max_delay_ms > 604_800_000 {
            return Err(ValidationError::new(
                "max_delay_ms",
                "must be at least initial_delay_ms and at most 604800000 (seven days)",
            ));
        }
        if self.retry_on_status.len() > 100 {
            return Err(ValidationError::new(
                "retry_on_status",
                "may list at most 100 statuses",
            ));
        }
        for (i, s) in self.retry_on_status.iter().enumerate() {
            if !(400..=599).contains(s) {
                return Err(ValidationError::new(
                    format!("retry_on_status[{i}]"),
                    "must be an HTTP status between 400 and 599",
                ));
            }
        }
        Ok(())
    }

    /// How an HTTP status is judged: 2xx succeeds; 408, 429, 5xx and
    /// `retry_on_status` are retried; anything else (3xx included, since
    /// redirects are never followed) fails at once.
    pub fn judge_status(&self, status: u16) -> Verdict {
        match status {
            200..=299 => Verdict::Success,
            408 | 429 | 500..=599 => Verdict::Retryable,
            s if self.retry_on_status.contains(&s) => Verdict::Retryable,
            _ => Verdict::Permanent,
        }
    }

    /// How a failure without a usable response is judged. A blocked
    /// destination is retried like a DNS failure, since a name can resolve
    /// to a public address later (the sender fails a literal address at
    /// once: it cannot change).
    pub fn judge_error(&self, category: ErrorCategory) -> Verdict {
        match category {
            ErrorCategory::Request
            | ErrorCategory::Render
            | ErrorCategory::Transform
            | ErrorCategory::ProviderDisabled => Verdict::Permanent,
            _ => Verdict::Retryable,
        }
    }

    /// The wait before retry number `retry` (1 = the first retry), or `None`
    /// when the policy has no retries left. `unit_random` is a number in
    /// [0, 1) used for jitter, passed in so the schedule stays deterministic
    /// under test.
    pub fn delay_before_retry(&self, retry: u32, unit_random: f64) -> Option<Duration> {
        if retry == 0 || retry > self.max_retries || self.strategy == RetryStrategy::None {
            return None;
        }
        let initial = self.initial_delay_ms as f64;
        let base = match self.strategy {
            RetryStrategy::Exponential => initial * self.multiplier.powi(retry as i32 - 1),
            RetryStrategy::Linear => initial * retry as f64,
            RetryStrategy::Fixed | RetryStrategy::None => initial,
        };
        let jittered = if self.jitter {
            base * (0.8 + 0.4 * unit_random.clamp(0.0, 1.0))
        } else {
            base
        };
        let ms = jittered.min(self.max_delay_ms as f64).max(0.0);
        Some(Duration::from_millis(ms as u64))
    }
}

/// The longest wait any destination's word (`Retry-After`, a provider's
/// own `retry_after`) can ask for. Parsing caps at this before converting,
/// so no value, however absurd, can overflow a `Duration`; the server then
/// applies its own, smaller cap (`HERALD_MAX_RETRY_AFTER_SECS`).
pub const RETRY_AFTER_CEILING: Duration = Duration::from_secs(30 * 86_400);

/// Parses a `Retry-After` header: delay seconds (any number of digits, as
/// HTTP allows; a fraction or exponent is tolerated) or an HTTP date, never
/// negative and at most [`RETRY_AFTER_CEILING`]. `None` for anything else.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still a number of seconds: the most.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs.min(RETRY_AFTER_CEILING.as_secs())));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return wait_of_seconds(secs);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = (at.with_timezone(&chrono::Utc) - now)
        .to_std()
        .unwrap_or(Duration::ZERO);
    Some(wait.min(RETRY_AFTER_CEILING))
}

/// A wait given as seconds (JSON bodies such as Discord's `retry_after`):
/// finite and not negative, capped at [`RETRY_AFTER_CEILING`] before the
/// conversion.
pub fn wait_of_seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::from_secs_f64(secs.min(RETRY_AFTER_CEILING.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(strategy: RetryStrategy) -> RetryPolicy {
        RetryPolicy {
            strategy,
            jitter: false,
            ..RetryPolicy::default()
        }
    }

    fn ms(p: &RetryPolicy, n: u32) -> Option<u128> {
        p.delay_before_retry(n, 0.5).map(|d| d.as_millis())
    }

    #[test]
    fn exponential_doubles_from_one_second_and_stops_after_max_retries() {
        let p = policy(RetryStrategy::Exponential);
        assert_eq!(ms(&p, 1), Some(1000));
        assert_eq!(ms(&p, 2), Some(2000));
        assert_eq!(ms(&p, 3), Some(4000));
        assert_eq!(ms(&p, 5), Some(16000));
        assert_eq!(ms(&p, 6), None);
    }

    #[test]
    fn delays_are_capped() {
        let p = RetryPolicy {
            max_retries: 20,
            max_delay_ms: 5000,
            ..policy(RetryStrategy::Exponential)
        };
        assert_eq!(ms(&p, 20), Some(5000));
    }

    #[test]
    fn linear_fixed_and_none() {
        assert_eq!(ms(&policy(RetryStrategy::Linear), 3), Some(3000));
        assert_eq!(ms(&policy(RetryStrategy::Fixed), 4), Some(1000));
        assert_eq!(ms(&policy(RetryStrategy::None), 1), None);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = RetryPolicy::default();
        let lo = p.delay_before_retry(2, 0.0).unwrap().as_millis();
        let hi = p.delay_before_retry(2, 0.999).unwrap().as_millis();
        assert_eq!(lo, 1600);
        assert!((2390..=2400).contains(&hi), "{hi}");
    }

    #[test]
    fn statuses_are_judged() {
        let p = RetryPolicy {
            retry_on_status: vec![409],
            ..RetryPolicy::default()
        };
        assert_eq!(p.judge_status(204), Verdict::Success);
        assert_eq!(p.judge_status(301), Verdict::Permanent);
        assert_eq!(p.judge_status(400), Verdict::Permanent);
        assert_eq!(p.judge_status(408), Verdict::Retryable);
        assert_eq!(p.judge_status(409), Verdict::Retryable);
        assert_eq!(p.judge_status(429), Verdict::Retryable);
        assert_eq!(p.judge_status(503), Verdict::Retryable);
    }

    #[test]
    fn validation_names_the_field() {
        let p = RetryPolicy {
            retry_on_status: vec![500, 200],
            ..RetryPolicy::default()
        };
        assert_eq!(p.validate().unwrap_err().field, "retry_on_status[1]");
        let p = RetryPolicy {
            max_retries: 21,
            ..RetryPolicy::default()
        };
        assert_eq!(p.validate().unwrap_err().field, "max_retries");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn absurd_retry_after_values_are_capped_or_refused_never_a_panic() {
        let now = chrono::Utc::now();
        let ceiling = Some(RETRY_AFTER_CEILING);
        for huge in [
            "99999999999999999999",
            "1e20",
            "1e308",
            "18446744073709551616",
        ] {
            assert_eq!(parse_retry_after(huge, now), ceiling, "{huge}");
        }
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            ceiling
        );
        for refused in ["-5", "inf", "-inf", "NaN", "", "1e", "0x10"] {
            assert_eq!(parse_retry_after(refused, now), None, "{refused}");
        }
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(wait_of_seconds(f64::MAX), ceiling);
        assert_eq!(wait_of_seconds(-0.5), None);
    }
}
