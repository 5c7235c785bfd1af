//! One webhook's worker: keeps a small buffer of leased deliveries, sends up
//! to `max_in_flight` of them at a time, and claims more from the store
//! while sending, so the queue never waits on a round trip to the database.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use herald_store::prelude::*;
use herald_store::{Claim, ClaimedDelivery, NextStep, StoreError, now_ms};
use tokio::task::JoinSet;
use tokio::time::Instant;

mod plan;

use super::{Inner, LaneSignal, cluster};
use crate::registry::Route;
use plan::{Batch, Queue};

/// Margin added to a webhook's timeout for the lease of a claimed delivery.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// How long a lane waits before asking the store again after an error.
const STORE_RETRY: Duration = Duration::from_secs(1);

type ClaimFuture = Pin<Box<dyn Future<Output = Result<Claim, StoreError>> + Send>>;

pub(super) fn instant_of(ms: i64) -> Instant {
    Instant::now() + Duration::from_millis((ms - now_ms()).max(0) as u64)
}

pub(super) async fn run(inner: Arc<Inner>, webhook_id: String, signal: Arc<LaneSignal>) {
    let Some(holding) = cluster::take_lane(&inner, &webhook_id, &signal).await else {
        // Another node works this webhook (or Herald is stopping).
        inner.lanes.lock().expect("lanes lock").remove(&webhook_id);
        return;
    };
    let mut buffer: VecDeque<ClaimedDelivery> = VecDeque::new();
    let mut in_flight: JoinSet<Ended> = JoinSet::new();
    let mut claim: Option<ClaimFuture> = None;
    let mut queue = Queue::MaybeDue;
    // When the pacer next allows a send, while sends wait on it.
    let mut paced_until: Option<Instant> = None;
    // Back-pressure: the destination asked (429/503 with a delay) to hear
    // nothing until then.
    let mut held_until: Option<Instant> = holding.quiet_until;
    // Batching: when the group now forming started waiting, and when it
    // must go even if not full.
    let mut batch_since: Option<Instant> = None;
    let mut batch_due: Option<Instant> = None;

    loop {
        // A wake-up that arrived since the last look is work to claim, even
        // if its notification was already used: clearing the flag without
        // acting on it could let the lane exit with a delivery just stored.
        if signal.woken.swap(false, Ordering::SeqCst) {
            queue = Queue::MaybeDue;
        }
        if inner.shutdown.is_cancelled() || signal.lost.load(Ordering::SeqCst) {
            break;
        }
        let route = inner.registry.get(&webhook_id).filter(|r| r.is_active());

        if let Some(route) = &route {
            let max = route.webhook.spec.max_in_flight as usize;
            let was_paced = paced_until.take().is_some();
            if held_until.is_some_and(|at| at <= Instant::now()) {
                held_until = None;
            }
            let batch = route.webhook.spec.batch.as_ref();
            let group_size = route.group_size();
            batch_due = None;
            while held_until.is_none() && in_flight.len() < max && !buffer.is_empty() {
                let mut group = None;
                if let Some(b) = batch {
                    let since = *batch_since.get_or_insert_with(Instant::now);
                    let wait = Duration::from_millis(b.max_wait_ms);
                    match plan::batch(buffer.len(), group_size, since, wait, Instant::now()) {
                        Batch::WaitUntil(deadline) => {
                            batch_due = Some(deadline);
                            break;
                        }
                        Batch::Send(n) => group = Some(n),
                    }
                }
                if let Err(wait) = route.pacer.take() {
                    paced_until = Some(Instant::now() + wait);
                    if !was_paced {
                        // A new wait for the limit, counted once.
                        inner.metrics.rate_limited(route.provider.kind());
                    }
                    break;
                }
                if let Some(n) = group {
                    let group: Vec<_> = buffer.drain(..n).collect();
                    batch_since = None;
                    in_flight.spawn(attempt_batch(inner.clone(), route.clone(), group));
                } else {
                    let delivery = buffer.pop_front().expect("buffer is not empty");
                    in_flight.spawn(attempt(inner.clone(), route.clone(), delivery));
                }
            }
            if buffer.is_empty() {
                batch_since = None;
            }
            queue = queue.at(Instant::now());
            let depth = plan::buffer_depth(max, route.rate_per_second(), group_size);
            let want = plan::claim_size(depth, buffer.len());
            if claim.is_none() && queue == Queue::MaybeDue && want > 0 {
                claim = Some(start_claim(&inner, route, &webhook_id, want));
                // From here `queue` holds only what is learned while the claim
                // runs (a wake-up, a retry scheduled): the claim's snapshot
                // may predate it, so its answer is merged with it, never
                // replaces it.
                queue = Queue::DueAt(None);
            }
        } else if !buffer.is_empty() {
            // Paused or deleted while deliveries waited here: give them back.
            let seqs = buffer.drain(..).map(|d| d.seq).collect();
            if let Err(e) = inner.store.release(seqs).await {
                tracing::error!(error = %e, webhook_id, "cannot release deliveries");
            }
        }

        let wake_at = match (&route, queue) {
            (Some(_), Queue::DueAt(at)) => at,
            _ => None,
        };
        let wake_at = plan::wake_at([wake_at, paced_until, held_until, batch_due]);
        if in_flight.is_empty() && claim.is_none() && buffer.is_empty() && wake_at.is_none() {
            // Idle: exit, unless a wake-up raced with this decision.
            let exit = {
                let mut lanes = inner.lanes.lock().expect("lanes lock");
                let exit = !signal.woken.load(Ordering::SeqCst);
                if exit {
                    lanes.remove(&webhook_id);
                }
                exit
            };
            if exit {
                let quiet = quiet_until_ms(&inner, &webhook_id, held_until);
                cluster::release_lane(&inner, &webhook_id, holding.token, quiet).await;
                return;
            }
            queue = Queue::MaybeDue;
            continue;
        }

        tokio::select! {
            _ = signal.notify.notified() => queue = Queue::MaybeDue,
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                if route.as_ref().is_some_and(|r| r.webhook.spec.is_ordered()) {
                    // Its outcome is recorded: the next in line may be due.
                    queue = Queue::MaybeDue;
                }
                // Attempts judge their own panics (see `attempt`); a task
                // lost here can only be one cancelled at shutdown, whose
                // lease the next start recovers.
                if let Err(e) = &done {
                    tracing::error!(error = %e, webhook_id, "an attempt task ended without a judgement");
                }
                if let Ok(ended) = done {
                    if let Some(retry_at) = ended.retry_at {
                        queue = queue.merge(Queue::DueAt(Some(instant_of(retry_at))));
                    }
                    if let Some(hold) = ended.hold_until {
                        // Kept in the store too, so a node taking the lane
                        // over after a crash keeps the pause.
                        let store = inner.store.clone();
                        let id = webhook_id.clone();
                        tokio::spawn(async move {
                            let _ = store.hold_lane(&id, holding.token, hold).await;
                        });
                        inner
                            .throttled
                            .lock()
                            .expect("throttled lock")
                            .insert(webhook_id.clone(), hold);
                        let hold = instant_of(hold);
                        if held_until.is_none()
                            && let Some(route) = &route
                        {
                            inner.metrics.rate_limited(route.provider.kind());
                        }
                        held_until = Some(held_until.map_or(hold, |h| h.max(hold)));
                    }
                }
            }
            result = poll_claim(&mut claim), if claim.is_some() => {
                claim = None;
                match result {
                    Ok(c) => {
                        buffer.extend(c.deliveries);
                        let found = match c.next_due_ms {
                            Some(ms) if ms <= now_ms() => Queue::MaybeDue,
                            Some(ms) => Queue::DueAt(Some(instant_of(ms))),
                            None => Queue::DueAt(None),
                        };
                        queue = queue.merge(found);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, webhook_id, "cannot claim deliveries");
                        queue = queue.merge(Queue::DueAt(Some(Instant::now() + STORE_RETRY)));
                    }
                }
            }
            _ = sleep_until(wake_at) => queue = Queue::MaybeDue,
            _ = inner.shutdown.cancelled() => {}
        }
    }
    if signal.lost.load(Ordering::SeqCst) {
        // The node that took the lane over re-queued what was leased here;
        // what is in flight finishes and is recorded.
        while in_flight.join_next().await.is_some() {}
        inner.lanes.lock().expect("lanes lock").remove(&webhook_id);
        return;
    }
    // Shutting down: what waited here goes back to the queue for the next
    // start or another node; what was sent finishes and is recorded.
    if !buffer.is_empty() {
        let seqs = buffer.drain(..).map(|d| d.seq).collect();
        if let Err(e) = inner.store.release(seqs).await {
            tracing::warn!(error = %e, webhook_id, "cannot release deliveries; they are recovered later");
        }
    }
    while in_flight.join_next().await.is_some() {}
    inner.lanes.lock().expect("lanes lock").remove(&webhook_id);
    let quiet = quiet_until_ms(&inner, &webhook_id, held_until);
    cluster::release_lane(&inner, &webhook_id, holding.token, quiet).await;
}

/// The time before which the lane's next holder must not send: the rate
/// budget and any back-pressure pause.
fn quiet_until_ms(inner: &Inner, webhook_id: &str, held_until: Option<Instant>) -> Option<i64> {
    let paced = inner
        .registry
        .get(webhook_id)
        .and_then(|route| route.pacer.next_free_ms());
    let held = held_until
        .and_then(|at| at.checked_duration_since(Instant::now()))
        .map(|wait| now_ms() + wait.as_millis() as i64);
    paced.max(held)
}

fn start_claim(inner: &Arc<Inner>, route: &Route, webhook_id: &str, want: usize) -> ClaimFuture {
    let store = inner.store.clone();
    let webhook_id = webhook_id.to_string();
    let lease = Duration::from_millis(route.webhook.spec.timeout_ms) + LEASE_MARGIN;
    let ordered = route.webhook.spec.is_ordered();
    Box::pin(async move {
        let now = now_ms();
        store
            .claim(
                &webhook_id,
                now,
                want,
                now + lease.as_millis() as i64,
                ordered,
            )
            .await
    })
}

async fn poll_claim(claim: &mut Option<ClaimFuture>) -> Result<Claim, StoreError> {
    match claim {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What a finished attempt tells its lane.
struct Ended {
    /// When the delivery's retry falls due, if one was scheduled.
    retry_at: Option<i64>,
    /// The destination asked for quiet until then.
    hold_until: Option<i64>,
}

/// Sends a group of deliveries as one request; every delivery of the
/// group gets the attempt's outcome.
async fn attempt_batch(inner: Arc<Inner>, route: Arc<Route>, group: Vec<ClaimedDelivery>) -> Ended {
    let mut ended = Ended {
        retry_at: None,
        hold_until: None,
    };
    for judged in super::attempt::group(&inner, &route, &group).await {
        if let NextStep::RetryAt(at) = judged.record.next {
            ended.retry_at = Some(ended.retry_at.map_or(at, |r| r.min(at)));
        }
        ended.hold_until = ended.hold_until.or(judged.hold_until_ms);
        inner.recorder.record(judged.record).await;
    }
    ended
}

/// Sends one delivery and queues its record.
async fn attempt(inner: Arc<Inner>, route: Arc<Route>, delivery: ClaimedDelivery) -> Ended {
    let judged = super::attempt::one(&inner, &route, &delivery).await;
    let retry_at = match judged.record.next {
        NextStep::RetryAt(at) => Some(at),
        _ => None,
    };
    if route.webhook.spec.is_ordered() {
        // The next in line may be claimed only once this outcome is in the
        // store, so an ordered webhook records each attempt before going on.
        let attempted = super::recorder::webhooks_attempted(std::slice::from_ref(&judged.record));
        match inner.store.record_attempts(vec![judged.record]).await {
            Ok(recorded) => {
                super::ops::after_recording(&inner, recorded).await;
                super::alerting::attempted(&inner, attempted);
            }
            Err(e) => tracing::error!(error = %e, "cannot record an attempt"),
        }
    } else {
        inner.recorder.record(judged.record).await;
    }
    Ended {
        retry_at,
        hold_until: judged.hold_until_ms,
    }
}
