//! A webhook's send rate: at most so many requests per second to one
//! destination (its `rate_limit`, or a provider's documented limit such as
//! Slack's one message per second), so Herald waits instead of being
//! answered 429. The budget belongs to the webhook, not to its worker, so it
//! holds across the worker going idle and starting again, and it can be
//! handed to another node with the webhook's lane (see [`Pacer::next_free_ms`]).
//!
//! Written by hand rather than with a rate-limiting crate because the state
//! must leave the process: a lane lease carries "not before this time" to
//! the next node, which the crates keep private. With one request at a time
//! and even spacing, that state is a single instant.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Requests are spaced this much wider than the limit, so that network
/// jitter never makes the destination count one request too many in a
/// window.
const SPACING_MARGIN: f64 = 1.02;

/// Paces one webhook's sends, evenly spaced (which keeps a per-minute or
/// per-hour limit in every window too); `None` is unlimited.
#[derive(Debug)]
pub(crate) struct Pacer {
    per_second: Option<f64>,
    /// Time between two sends (`None`: unlimited).
    interval: Option<Duration>,
    /// The earliest instant the next send may go.
    next_free: Mutex<Option<Instant>>,
}

impl Pacer {
    pub(crate) fn new(per_second: Option<f64>) -> Pacer {
        let interval = per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(SPACING_MARGIN / r));
        Pacer {
            per_second,
            interval,
            next_free: Mutex::new(None),
        }
    }

    pub(crate) fn per_second(&self) -> Option<f64> {
        self.per_second
    }

    /// Takes one send from the budget, or says how long until one is free.
    pub(crate) fn take(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut next_free = self.next_free.lock().expect("pacer lock");
        if let Some(at) = *next_free
            && at > now
        {
            return Err(at - now);
        }
        if let Some(interval) = self.interval {
            *next_free = Some(now + interval);
        }
        Ok(())
    }

    /// When the next send may go, in Unix milliseconds, if that is later
    /// than now.
    pub(crate) fn next_free_ms(&self) -> Option<i64> {
        let at = (*self.next_free.lock().expect("pacer lock"))?;
        let wait = at.checked_duration_since(Instant::now())?;
        Some(herald_store::now_ms() + wait.as_millis() as i64 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paces_to_the_rate() {
        let unlimited = Pacer::new(None);
        assert!(unlimited.take().is_ok() && unlimited.take().is_ok());
        assert_eq!(unlimited.next_free_ms(), None);
        let paced = Pacer::new(Some(2.0));
        assert!(paced.take().is_ok());
        let wait = paced
            .take()
            .expect_err("the second send within 500 ms waits");
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(510));
        let handed_over = paced.next_free_ms().expect("a send is owed");
        let from_now = handed_over - herald_store::now_ms();
        assert!((400..=520).contains(&from_now), "{from_now}");
    }
}
