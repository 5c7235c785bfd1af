//! The delivery worker.
//!
//! One *lane* per webhook with work: a task that claims that webhook's due
//! deliveries from the store (up to its `max_in_flight`), sends them
//! concurrently, records each attempt and sleeps until the next one falls
//! due or it is woken. Lanes are independent, so a slow or broken
//! destination only ever occupies its own lane. Ingest wakes a lane in
//! memory the moment its deliveries are committed (no polling delay); the
//! store remains the truth, and `start` rebuilds every lane from it.

mod outcome;
mod sender;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_store::{ClaimedDelivery, Store, StoreError, now_ms};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::registry::{Registry, Route};
pub(crate) use outcome::TestReport;
use sender::Sender;

/// Margin added to a webhook's timeout for the lease of a claimed delivery.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// How long a lane waits before trying again after a store error.
const STORE_RETRY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub(crate) struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    registry: Arc<Registry>,
    sender: Sender,
    lanes: Mutex<HashMap<String, Arc<LaneSignal>>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    max_retry_after: Duration,
}

/// How a lane is woken. `woken` is set under the lanes lock, so a lane that
/// decides to exit can tell, under the same lock, whether work arrived.
#[derive(Default)]
struct LaneSignal {
    notify: Notify,
    woken: AtomicBool,
}

impl Dispatcher {
    pub(crate) fn new(
        store: Store,
        registry: Arc<Registry>,
        settings: &Settings,
    ) -> anyhow::Result<Dispatcher> {
        Ok(Dispatcher {
            inner: Arc::new(Inner {
                store,
                registry,
                sender: Sender::new()?,
                lanes: Mutex::new(HashMap::new()),
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                max_retry_after: settings.max_retry_after,
            }),
        })
    }

    /// Puts interrupted deliveries back in the queue and starts a lane for
    /// every webhook with waiting deliveries.
    pub(crate) async fn start(&self) -> Result<(), StoreError> {
        let recovered = self.inner.store.recover_interrupted(now_ms()).await?;
        if recovered > 0 {
            tracing::info!(
                recovered,
                "re-queued deliveries interrupted by the last stop"
            );
        }
        for webhook_id in self.inner.store.webhooks_with_queued_deliveries().await? {
            self.wake(&webhook_id);
        }
        Ok(())
    }

    /// Tells a webhook's lane that it may have work, starting it if needed.
    pub(crate) fn wake(&self, webhook_id: &str) {
        if self.inner.shutdown.is_cancelled() {
            return;
        }
        let mut lanes = self.inner.lanes.lock().expect("lanes lock");
        if let Some(signal) = lanes.get(webhook_id) {
            signal.woken.store(true, Ordering::SeqCst);
            signal.notify.notify_one();
            return;
        }
        let signal = Arc::new(LaneSignal::default());
        lanes.insert(webhook_id.to_string(), signal.clone());
        let inner = self.inner.clone();
        let id = webhook_id.to_string();
        self.inner
            .tasks
            .spawn(async move { run_lane(inner, id, signal).await });
    }

    /// Sends a test delivery now and records it (no retries).
    pub(crate) async fn send_now(
        &self,
        route: Arc<Route>,
        delivery: ClaimedDelivery,
    ) -> Result<TestReport, StoreError> {
        let result = self.inner.sender.send(&route, &delivery).await;
        let (record, report) =
            outcome::judge(&route, &delivery, result, self.inner.max_retry_after);
        self.inner.store.record_attempts(vec![record]).await?;
        Ok(report.expect("test deliveries always produce a report"))
    }

    /// Stops claiming, waits up to `grace` for in-flight attempts to finish
    /// and be recorded. Whatever is still in flight after that stays leased
    /// in the store and is re-queued at the next start.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(grace, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "in-flight deliveries did not finish in time; they will be retried at the next start"
            );
        }
    }
}

/// One webhook's worker loop.
async fn run_lane(inner: Arc<Inner>, webhook_id: String, signal: Arc<LaneSignal>) {
    let mut in_flight: JoinSet<Option<i64>> = JoinSet::new();
    // When the queue was last seen empty of due work: until woken or this
    // time passes, finishing attempts need not trigger another claim.
    let mut idle_until: Option<Instant> = None;
    loop {
        signal.woken.store(false, Ordering::SeqCst);
        if inner.shutdown.is_cancelled() {
            break;
        }
        let route = inner.registry.get(&webhook_id);
        let active = route.as_ref().is_some_and(|r| r.is_active());
        let mut wake_at: Option<Instant> = None;

        if let (true, Some(route)) = (active, &route) {
            let max = route.webhook.spec.max_in_flight as usize;
            let free = max.saturating_sub(in_flight.len());
            let idle = idle_until.is_some_and(|t| t > Instant::now());
            if free > 0 && !idle {
                let now = now_ms();
                let lease = Duration::from_millis(route.webhook.spec.timeout_ms) + LEASE_MARGIN;
                match inner
                    .store
                    .claim(&webhook_id, now, free, now + lease.as_millis() as i64)
                    .await
                {
                    Ok(batch) => {
                        let drained = batch.len() < free;
                        for delivery in batch {
                            in_flight.spawn(attempt(inner.clone(), route.clone(), delivery));
                        }
                        if drained {
                            match inner.store.next_due(&webhook_id).await {
                                Ok(Some(due)) => {
                                    let wait =
                                        Duration::from_millis((due - now_ms()).max(0) as u64);
                                    let at = Instant::now() + wait;
                                    idle_until = Some(at);
                                    wake_at = Some(at);
                                }
                                Ok(None) => {
                                    idle_until = Some(Instant::now() + Duration::from_secs(3600))
                                }
                                Err(e) => {
                                    tracing::error!(error = %e, webhook_id, "cannot read the queue");
                                    wake_at = Some(Instant::now() + STORE_RETRY);
                                }
                            }
                        } else {
                            idle_until = None;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, webhook_id, "cannot claim deliveries");
                        wake_at = Some(Instant::now() + STORE_RETRY);
                    }
                }
            } else if let Some(t) = idle_until {
                wake_at = Some(t);
            }
        }

        // Nothing in flight and nothing scheduled (paused, deleted or
        // drained): exit, unless a wake-up raced with this decision.
        if in_flight.is_empty() && wake_at.is_none() {
            let mut lanes = inner.lanes.lock().expect("lanes lock");
            if !signal.woken.load(Ordering::SeqCst) {
                lanes.remove(&webhook_id);
                return;
            }
            continue;
        }

        tokio::select! {
            _ = signal.notify.notified() => idle_until = None,
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                // A retry scheduled sooner than the queue's known next due
                // time must not wait for it.
                if let Ok(Some(retry_at_ms)) = done {
                    let at = Instant::now() + Duration::from_millis((retry_at_ms - now_ms()).max(0) as u64);
                    idle_until = idle_until.map(|t| t.min(at));
                }
            }
            _ = sleep_until_opt(wake_at) => idle_until = None,
            _ = inner.shutdown.cancelled() => {}
        }
    }
    // Shutting down: let what was sent finish and be recorded.
    while in_flight.join_next().await.is_some() {}
    inner.lanes.lock().expect("lanes lock").remove(&webhook_id);
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sends one delivery and records the attempt; returns when a retry is
/// due, if one was scheduled.
async fn attempt(inner: Arc<Inner>, route: Arc<Route>, delivery: ClaimedDelivery) -> Option<i64> {
    let result = inner.sender.send(&route, &delivery).await;
    let (record, _) = outcome::judge(&route, &delivery, result, inner.max_retry_after);
    let retry_at = match record.next {
        herald_store::NextStep::RetryAt(at) => Some(at),
        _ => None,
    };
    if let Err(e) = inner.store.record_attempts(vec![record]).await {
        // The lease stays in the store; the next start re-queues it.
        tracing::error!(error = %e, delivery_id = %delivery.id, "cannot record an attempt");
        return None;
    }
    retry_at
}
