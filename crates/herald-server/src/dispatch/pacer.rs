//! A lane's send rate: at most so many requests per second to one
//! destination (a provider's documented limit, such as Slack's one message
//! per second), so Herald waits instead of being answered 429.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Requests are spaced this much wider than the limit, so that network
/// jitter never makes the destination count one request too many in a
/// window.
const SPACING_MARGIN: f64 = 1.02;

/// Paces one lane's sends, evenly spaced (which keeps a per-minute or
/// per-hour limit in every window too); unlimited until given a rate.
#[derive(Default)]
pub(super) struct Pacer {
    per_second: Option<f64>,
    limiter: Option<DefaultDirectRateLimiter>,
}

impl Pacer {
    /// Applies the webhook's current rate; a change starts a fresh budget.
    pub(super) fn set_rate(&mut self, per_second: Option<f64>) {
        if self.per_second == per_second {
            return;
        }
        self.per_second = per_second;
        self.limiter = per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .and_then(|r| Quota::with_period(Duration::from_secs_f64(SPACING_MARGIN / r)))
            // One at a time: a burst is exactly what the services reject.
            .map(|q| RateLimiter::direct(q.allow_burst(NonZeroU32::MIN)));
    }

    /// Takes one send from the budget, or says how long until one is free.
    pub(super) fn take(&self) -> Result<(), Duration> {
        match &self.limiter {
            None => Ok(()),
            Some(limiter) => limiter
                .check()
                .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_to_the_rate_and_resets_on_change() {
        let mut pacer = Pacer::default();
        assert!(pacer.take().is_ok() && pacer.take().is_ok(), "unlimited");
        pacer.set_rate(Some(2.0));
        assert!(pacer.take().is_ok());
        let wait = pacer
            .take()
            .expect_err("the second send within 500 ms waits");
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(510));
        pacer.set_rate(Some(1000.0));
        assert!(pacer.take().is_ok(), "a new rate starts a fresh budget");
        pacer.set_rate(None);
        assert!(pacer.take().is_ok() && pacer.take().is_ok());
    }
}
