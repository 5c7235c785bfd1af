//! A webhook's send rate: at most so many requests per second to one
//! destination (its `rate_limit`, or a provider's documented limit such as
//! Slack's one message per second), so Herald waits instead of being
//! answered 429. The budget belongs to the webhook, not to its worker, so it
//! holds across the worker going idle and starting again.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Requests are spaced this much wider than the limit, so that network
/// jitter never makes the destination count one request too many in a
/// window.
const SPACING_MARGIN: f64 = 1.02;

/// Paces one webhook's sends, evenly spaced (which keeps a per-minute or
/// per-hour limit in every window too); `None` is unlimited.
pub(crate) struct Pacer {
    per_second: Option<f64>,
    limiter: Option<DefaultDirectRateLimiter>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("per_second", &self.per_second)
            .finish()
    }
}

impl Pacer {
    pub(crate) fn new(per_second: Option<f64>) -> Pacer {
        let limiter = per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .and_then(|r| Quota::with_period(Duration::from_secs_f64(SPACING_MARGIN / r)))
            // One at a time: a burst is exactly what the services reject.
            .map(|q| RateLimiter::direct(q.allow_burst(NonZeroU32::MIN)));
        Pacer {
            per_second,
            limiter,
        }
    }

    pub(crate) fn per_second(&self) -> Option<f64> {
        self.per_second
    }

    /// Takes one send from the budget, or says how long until one is free.
    pub(crate) fn take(&self) -> Result<(), Duration> {
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
    fn paces_to_the_rate() {
        let unlimited = Pacer::new(None);
        assert!(unlimited.take().is_ok() && unlimited.take().is_ok());
        let paced = Pacer::new(Some(2.0));
        assert!(paced.take().is_ok());
        let wait = paced
            .take()
            .expect_err("the second send within 500 ms waits");
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(510));
    }
}
