//! What a retry policy means in time: every attempt's wait and when it
//! comes after the first try, so a user can read a policy before an outage
//! reads it to them (`GET /api/v1/webhooks/{id}/retry-schedule`).
//!
//! Computed from [`RetryPolicy::delay_before_retry`] itself, the function
//! the dispatcher uses, so the schedule cannot drift from what happens.

use serde::Serialize;

use super::RetryPolicy;

/// One attempt of a delivery: the first try, or a retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScheduledAttempt {
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: u32,
    /// The wait before this attempt, after the previous one ended (0 for
    /// the first try). With jitter, the middle of its range.
    pub delay_ms: u64,
    /// The shortest wait jitter can give (equal to `delay_ms` without it).
    pub delay_min_ms: u64,
    /// The longest wait jitter can give.
    pub delay_max_ms: u64,
    /// When it starts after the first try, counting waits only.
    pub since_first_ms: u64,
    pub since_first_min_ms: u64,
    pub since_first_max_ms: u64,
}

/// Every attempt a delivery can get under a policy, when each one comes,
/// and the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetrySchedule {
    /// The first try and each retry, in order.
    pub attempts: Vec<ScheduledAttempt>,
    /// From the first try to the last retry, counting waits only.
    pub total_ms: u64,
    pub total_min_ms: u64,
    pub total_max_ms: u64,
    /// Each attempt may also last up to the webhook's timeout: the longest
    /// a delivery can take before it fails for good is `total_max_ms` plus
    /// one timeout per attempt, `worst_case_ms`.
    pub attempt_timeout_ms: u64,
    pub worst_case_ms: u64,
}

impl RetryPolicy {
    /// The schedule of a delivery under this policy, whose attempts each
    /// time out after `attempt_timeout_ms`. A destination's `Retry-After`
    /// can still lengthen a wait (up to the server's cap); that is the
    /// destination's word, not the policy's, and is not in here.
    pub fn schedule(&self, attempt_timeout_ms: u64) -> RetrySchedule {
        let first = ScheduledAttempt {
            attempt: 1,
            delay_ms: 0,
            delay_min_ms: 0,
            delay_max_ms: 0,
            since_first_ms: 0,
            since_first_min_ms: 0,
            since_first_max_ms: 0,
        };
        let mut attempts = vec![first];
        let wait = |retry: u32, unit_random: f64| {
            self.delay_before_retry(retry, unit_random)
                .map(|d| d.as_millis() as u64)
        };
        let mut retry = 1;
        while let (Some(mid), Some(min), Some(max)) =
            (wait(retry, 0.5), wait(retry, 0.0), wait(retry, 1.0))
        {
            let previous = attempts.last().expect("the first try is always there");
            let next = ScheduledAttempt {
                attempt: retry + 1,
                delay_ms: mid,
                delay_min_ms: min,
                delay_max_ms: max,
                since_first_ms: previous.since_first_ms + mid,
                since_first_min_ms: previous.since_first_min_ms + min,
                since_first_max_ms: previous.since_first_max_ms + max,
            };
            attempts.push(next);
            retry += 1;
        }
        let last = attempts.last().expect("the first try is always there");
        RetrySchedule {
            total_ms: last.since_first_ms,
            total_min_ms: last.since_first_min_ms,
            total_max_ms: last.since_first_max_ms,
            attempt_timeout_ms,
            worst_case_ms: last.since_first_max_ms + attempt_timeout_ms * attempts.len() as u64,
            attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::RetryStrategy;
    use super::*;

    fn since_first(s: &RetrySchedule) -> Vec<u64> {
        s.attempts.iter().map(|a| a.since_first_ms).collect()
    }

    #[test]
    fn the_default_policy_doubles_from_one_second() {
        let s = RetryPolicy::default().schedule(30_000);
        assert_eq!(since_first(&s), [0, 1_000, 3_000, 7_000, 15_000, 31_000]);
        assert_eq!(s.total_ms, 31_000);
        // Jitter is ±20%.
        assert_eq!(s.attempts[1].delay_min_ms, 800);
        assert_eq!(s.attempts[1].delay_max_ms, 1_200);
        assert_eq!(s.total_min_ms, 24_800);
        assert_eq!(s.total_max_ms, 37_200);
        assert_eq!(s.worst_case_ms, 37_200 + 6 * 30_000);
    }

    #[test]
    fn waits_stop_growing_at_the_cap() {
        let policy = RetryPolicy {
            strategy: RetryStrategy::Exponential,
            max_retries: 10,
            initial_delay_ms: 30_000,
            multiplier: 1.5,
            max_delay_ms: 100_000,
            jitter: false,
            retry_on_status: vec![],
        };
        let s = policy.schedule(10_000);
        assert_eq!(s.attempts.len(), 11);
        assert!(s.attempts.iter().all(|a| a.delay_ms <= 100_000));
        assert!(
            s.attempts
                .iter()
                .all(|a| a.delay_min_ms == a.delay_ms && a.delay_max_ms == a.delay_ms)
        );
        let delays: Vec<u64> = s.attempts.iter().map(|a| a.delay_ms).collect();
        assert_eq!(delays[..6], [0, 30_000, 45_000, 67_500, 100_000, 100_000]);
    }

    #[test]
    fn no_retries_is_the_first_try_alone() {
        for policy in [
            RetryPolicy {
                strategy: RetryStrategy::None,
                ..RetryPolicy::default()
            },
            RetryPolicy {
                max_retries: 0,
                ..RetryPolicy::default()
            },
        ] {
            let s = policy.schedule(5_000);
            assert_eq!(since_first(&s), [0]);
            assert_eq!((s.total_ms, s.worst_case_ms), (0, 5_000));
        }
    }

    #[test]
    fn linear_and_fixed_waits() {
        let linear = RetryPolicy {
            strategy: RetryStrategy::Linear,
            max_retries: 3,
            jitter: false,
            ..RetryPolicy::default()
        };
        assert_eq!(
            since_first(&linear.schedule(1_000)),
            [0, 1_000, 3_000, 6_000]
        );
        let fixed = RetryPolicy {
            strategy: RetryStrategy::Fixed,
            ..linear
        };
        assert_eq!(
            since_first(&fixed.schedule(1_000)),
            [0, 1_000, 2_000, 3_000]
        );
    }
}
