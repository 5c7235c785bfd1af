//! The retry policy: which outcomes are retried, and when.
//!
//! Pure functions of the policy, the retry number and the outcome, so the
//! schedule is tested here without a clock.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::delivery::ErrorCategory;
use crate::validation::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RetryStrategy {
    #[default]
    Exponential,
    Linear,
    Fixed,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    pub strategy: RetryStrategy,
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub initial_delay_ms: u64,
    pub multiplier: f64,
    pub max_delay_ms: u64,
    pub jitter: bool,
    /// Statuses retried on top of 408, 429 and 5xx.
    pub retry_on_status: Vec<u16>,
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
            ErrorCategory::Request | ErrorCategory::Render | ErrorCategory::ProviderDisabled => {
                Verdict::Permanent
            }
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

/// Parses a `Retry-After` header: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
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
}
