//! The lane's decisions, as pure functions of what it knows and the time
//! (always passed in): what it knows about the queue, how much to keep
//! buffered and to claim, whether a batch may go, when to wake. The loop
//! in the parent module only acts on them, so each rule is tested here
//! without a store, a destination or a clock.

use std::time::Duration;

use tokio::time::Instant;

/// Seconds of sends a rate-limited lane keeps buffered.
const PACED_BUFFER_SECS: f64 = 5.0;
/// Most deliveries one claim takes.
pub(super) const MAX_CLAIM: usize = 1000;

/// What the lane knows about the webhook's waiting deliveries in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Queue {
    /// Some may be due now: claim.
    MaybeDue,
    /// Nothing is due before this instant (`None`: nothing waits at all).
    DueAt(Option<Instant>),
}

impl Queue {
    /// What two pieces of knowledge about the queue say together: the
    /// sooner.
    pub(super) fn merge(self, other: Queue) -> Queue {
        match (self, other) {
            (Queue::MaybeDue, _) | (_, Queue::MaybeDue) => Queue::MaybeDue,
            (Queue::DueAt(Some(x)), Queue::DueAt(Some(y))) => Queue::DueAt(Some(x.min(y))),
            (Queue::DueAt(x), Queue::DueAt(y)) => Queue::DueAt(x.or(y)),
        }
    }

    /// A known due time that has come is work to claim.
    pub(super) fn at(self, now: Instant) -> Queue {
        match self {
            Queue::DueAt(Some(at)) if at <= now => Queue::MaybeDue,
            other => other,
        }
    }
}

/// How many leased deliveries the lane keeps in memory: about one round of
/// sends beyond what is in flight; a paced lane only a few seconds of
/// sends, so leased deliveries do not wait in memory for long; never less
/// than one batch.
pub(super) fn buffer_depth(
    max_in_flight: usize,
    rate_per_second: Option<f64>,
    group_size: usize,
) -> usize {
    rate_per_second
        .map_or(max_in_flight, |r| {
            ((r * PACED_BUFFER_SECS).ceil() as usize).clamp(1, max_in_flight.max(1))
        })
        .max(group_size)
}

/// How many deliveries to claim with `buffered` in memory (0: none yet):
/// once below `depth`, enough for two rounds, at most [`MAX_CLAIM`].
pub(super) fn claim_size(depth: usize, buffered: usize) -> usize {
    if buffered >= depth {
        return 0;
    }
    (2 * depth - buffered).min(MAX_CLAIM)
}

/// Whether a batching lane sends now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Batch {
    /// Send a group of this many.
    Send(usize),
    /// Wait for more until then, when the group goes even if not full.
    WaitUntil(Instant),
}

/// A group goes when it is full or when its oldest member (waiting since
/// `since`) has waited `max_wait`.
pub(super) fn batch(
    buffered: usize,
    group_size: usize,
    since: Instant,
    max_wait: Duration,
    now: Instant,
) -> Batch {
    let deadline = since + max_wait;
    if buffered < group_size && now < deadline {
        Batch::WaitUntil(deadline)
    } else {
        Batch::Send(buffered.min(group_size))
    }
}

/// When the lane must look again by itself: the soonest of what it waits
/// for (`None`: only a wake-up or a finished send).
pub(super) fn wake_at(waits: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    waits.into_iter().flatten().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn knowledge_of_the_queue_merges_to_the_sooner() {
        let t = Instant::now();
        let due = |ms| Queue::DueAt(Some(at(t, ms)));
        assert_eq!(due(50).merge(due(20)), due(20));
        assert_eq!(due(50).merge(Queue::DueAt(None)), due(50));
        assert_eq!(
            Queue::DueAt(None).merge(Queue::DueAt(None)),
            Queue::DueAt(None)
        );
        assert_eq!(due(50).merge(Queue::MaybeDue), Queue::MaybeDue);
        assert_eq!(due(50).at(at(t, 49)), due(50));
        assert_eq!(due(50).at(at(t, 50)), Queue::MaybeDue);
        assert_eq!(Queue::DueAt(None).at(at(t, 1_000)), Queue::DueAt(None));
    }

    #[test]
    fn the_buffer_holds_a_round_or_a_few_seconds_of_paced_sends_and_a_batch() {
        assert_eq!(buffer_depth(10, None, 1), 10);
        // 1 per second for 5 seconds, within max_in_flight.
        assert_eq!(buffer_depth(10, Some(1.0), 1), 5);
        assert_eq!(buffer_depth(10, Some(0.01), 1), 1);
        assert_eq!(buffer_depth(10, Some(500.0), 1), 10);
        // Never less than one batch.
        assert_eq!(buffer_depth(10, Some(1.0), 50), 50);
        assert_eq!(buffer_depth(0, None, 1), 1);
    }

    #[test]
    fn claims_refill_two_rounds_once_below_the_depth() {
        assert_eq!(claim_size(10, 0), 20);
        assert_eq!(claim_size(10, 9), 11);
        assert_eq!(claim_size(10, 10), 0);
        assert_eq!(claim_size(10, 15), 0);
        assert_eq!(claim_size(5_000, 0), MAX_CLAIM);
    }

    #[test]
    fn a_batch_goes_when_full_or_when_its_oldest_has_waited_enough() {
        let t = Instant::now();
        let wait = Duration::from_millis(200);
        assert_eq!(batch(3, 3, t, wait, t), Batch::Send(3));
        assert_eq!(batch(7, 3, t, wait, t), Batch::Send(3));
        assert_eq!(
            batch(2, 3, t, wait, at(t, 10)),
            Batch::WaitUntil(at(t, 200))
        );
        assert_eq!(batch(2, 3, t, wait, at(t, 200)), Batch::Send(2));
    }

    #[test]
    fn the_lane_wakes_for_the_soonest_wait() {
        let t = Instant::now();
        assert_eq!(
            wake_at([None, Some(at(t, 30)), Some(at(t, 10))]),
            Some(at(t, 10))
        );
        assert_eq!(wake_at([None, None]), None);
    }
}
