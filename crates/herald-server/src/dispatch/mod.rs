//! The delivery worker.
//!
//! One *lane* per webhook with work: a task that claims that webhook's due
//! deliveries from the store (up to its `max_in_flight`), sends them
//! concurrently, records each attempt and sleeps until the next one falls
//! due or it is woken. Lanes are independent, so a slow or broken
//! destination only ever occupies its own lane. Ingest wakes a lane in
//! memory the moment its deliveries are committed (no polling delay); the
//! store remains the truth, and `start` rebuilds every lane from it. On a
//! shared database each lane runs on the one node holding its lease (see
//! [`cluster`]).

mod alerting;
mod attempt;
mod cluster;
mod destination;
mod lane;
mod mailer;
mod ops;
mod outcome;
mod recorder;
mod recovery;
mod sender;
mod sweep;
mod webhooks;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_store::prelude::*;
use herald_store::{AuditEntry, ClaimedDelivery, Store, StoreError, now_ms};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use herald_core::webhook::{Webhook, WebhookStatus};

use crate::config::{Settings, SmtpServer};
use crate::metrics::Metrics;
use crate::registry::{Registry, Route};
pub(crate) use outcome::TestReport;
use recorder::Recorder;
use sender::Sender;
pub(crate) use webhooks::{ChangeError, Changed, Edit, enabled};

#[derive(Clone)]
pub(crate) struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    registry: Arc<Registry>,
    sender: Sender,
    lanes: Mutex<HashMap<String, Arc<LaneSignal>>>,
    recorder: Recorder,
    /// The recorder's task, awaited at shutdown so every record is written.
    recorder_task: Mutex<Option<JoinHandle<()>>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    max_retry_after: Duration,
    /// Disabled webhooks being probed by `recovery`.
    probing: Mutex<std::collections::HashSet<String>>,
    /// What the engine counts (attempts, finished deliveries, waits).
    metrics: Metrics,
    /// Changes to one webhook on this node take turns (see [`webhooks`]).
    webhook_turns: webhooks::Turns,
    /// False on an API-only node: it stores deliveries and never sends.
    delivers: bool,
    /// Webhooks whose lane another node holds, until when (as last seen).
    taken: Mutex<HashMap<String, tokio::time::Instant>>,
    /// When each webhook was last looked at for degradation.
    alert_looks: alerting::Looks,
    /// When a webhook counts as degraded, unless it says otherwise.
    alert_defaults: herald_core::webhook::alerts::AlertThresholds,
    /// When the queue counts as backed up.
    backlog_limits: crate::config::BacklogLimits,
    /// Webhooks whose sends wait for a rate limit or a `Retry-After` on
    /// this node, until when (ms).
    throttled: Mutex<HashMap<String, i64>>,
}

/// Tells a webhook's lane that it may have work, starting it if needed.
fn wake(inner: &Arc<Inner>, webhook_id: &str) {
    if inner.shutdown.is_cancelled() || !inner.delivers {
        return;
    }
    let mut lanes = inner.lanes.lock().expect("lanes lock");
    if let Some(signal) = lanes.get(webhook_id) {
        signal.woken.store(true, Ordering::SeqCst);
        signal.notify.notify_one();
        return;
    }
    if cluster::held_elsewhere(inner, webhook_id) {
        return;
    }
    let signal = Arc::new(LaneSignal::default());
    lanes.insert(webhook_id.to_string(), signal.clone());
    let task_inner = inner.clone();
    let id = webhook_id.to_string();
    inner
        .tasks
        .spawn(async move { lane::run(task_inner, id, signal).await });
}

/// How a lane is woken. `woken` is set under the lanes lock, so a lane that
/// decides to exit can tell, under the same lock, whether work arrived.
#[derive(Default)]
struct LaneSignal {
    notify: Notify,
    woken: AtomicBool,
    /// The lane lease once taken: its token and when it was taken.
    lease: Mutex<Option<(i64, tokio::time::Instant)>>,
    /// Another node took the lease over: stop at once.
    lost: AtomicBool,
}

impl Dispatcher {
    pub(crate) fn new(
        store: Store,
        registry: Arc<Registry>,
        metrics: Metrics,
        settings: &Settings,
    ) -> anyhow::Result<Dispatcher> {
        let destinations = Arc::new(destination::Destinations::new(
            settings.address_policy(),
            settings.dns_overrides.clone(),
        ));
        let sender = Sender::new(
            mailer::Mailer::new(
                settings
                    .smtp_url
                    .as_ref()
                    .map(SmtpServer::from_url)
                    .transpose()?,
                settings.smtp_from.clone(),
                destinations.clone(),
            ),
            destinations,
            settings.disabled_providers.iter().copied().collect(),
        )?;
        Ok(Dispatcher {
            inner: Arc::new_cyclic(|weak| {
                let (recorder, recorder_task) = Recorder::start(store.clone(), weak.clone());
                Inner {
                    recorder,
                    recorder_task: Mutex::new(Some(recorder_task)),
                    store,
                    registry,
                    sender,
                    lanes: Mutex::new(HashMap::new()),
                    shutdown: CancellationToken::new(),
                    tasks: TaskTracker::new(),
                    max_retry_after: settings.max_retry_after,
                    probing: Mutex::new(Default::default()),
                    webhook_turns: webhooks::Turns::default(),
                    metrics,
                    delivers: settings.role.delivers(),
                    taken: Mutex::new(HashMap::new()),
                    alert_looks: alerting::Looks::default(),
                    alert_defaults: settings.alerts,
                    backlog_limits: settings.backlog_alert,
                    throttled: Mutex::new(HashMap::new()),
                }
            }),
        })
    }

    /// Puts interrupted deliveries back in the queue, starts a lane for
    /// every webhook with waiting deliveries and the sweep for leases that
    /// run out; on a shared database, also starts following other nodes. An
    /// API-only node only follows.
    pub(crate) async fn start(&self) -> Result<(), StoreError> {
        cluster::start(&self.inner);
        if !self.inner.delivers {
            return Ok(());
        }
        let recovered = self.inner.store.recover_at_start(now_ms()).await?;
        if recovered > 0 {
            tracing::info!(
                recovered,
                "re-queued deliveries interrupted by the last stop"
            );
        }
        for webhook_id in self.inner.store.webhooks_with_queued_deliveries().await? {
            self.wake(&webhook_id);
        }
        sweep::start(&self.inner);
        self.inner
            .tasks
            .spawn(alerting::watch_backlog(self.inner.clone()));
        for route in self.inner.registry.all() {
            if route.webhook.spec.status == WebhookStatus::Disabled
                && route.webhook.spec.auto_recover
            {
                recovery::start(&self.inner, route.webhook.id.clone());
            }
        }
        Ok(())
    }

    /// Until when this node's sends to a webhook wait for its rate limit or
    /// a destination's `Retry-After`, if they do.
    pub(crate) fn throttled_until(&self, webhook_id: &str) -> Option<i64> {
        let throttled = self.inner.throttled.lock().expect("throttled lock");
        throttled.get(webhook_id).copied().filter(|&t| t > now_ms())
    }

    /// When webhooks count as degraded unless they say otherwise.
    pub(crate) fn alert_defaults(&self) -> herald_core::webhook::alerts::AlertThresholds {
        self.inner.alert_defaults
    }

    /// Tells a webhook's lane that it may have work, starting it if needed.
    pub(crate) fn wake(&self, webhook_id: &str) {
        wake(&self.inner, webhook_id);
    }

    /// Stores a new webhook and routes it (see [`webhooks`]).
    pub(crate) async fn create_webhook(
        &self,
        webhook: Webhook,
        audit: AuditEntry,
    ) -> Result<Webhook, StoreError> {
        webhooks::create(&self.inner, webhook, audit).await
    }

    /// Changes a webhook by `edit`, applied again to what is stored now
    /// whenever another writer got there first (see [`webhooks::change`]).
    pub(crate) async fn change_webhook<E>(
        &self,
        tenant_id: &str,
        id: &str,
        edit: impl FnMut(Webhook) -> Result<Edit, E>,
    ) -> Result<Option<Changed>, ChangeError<E>> {
        webhooks::change(&self.inner, tenant_id, id, edit).await
    }

    /// Deletes webhooks (one audit entry each) and unroutes them.
    pub(crate) async fn delete_webhooks(
        &self,
        tenant_id: &str,
        audits: Vec<AuditEntry>,
    ) -> Result<Vec<String>, StoreError> {
        webhooks::delete(&self.inner, tenant_id, audits).await
    }

    /// Unroutes webhooks the store deleted with their tenant.
    pub(crate) fn unroute_webhooks(&self, ids: &[String]) {
        webhooks::unrouted(&self.inner, ids);
    }

    /// Loads every webhook again; returns the registry version they are at.
    pub(crate) async fn reload_webhooks(&self) -> Result<i64, StoreError> {
        webhooks::reload_all(&self.inner).await
    }

    /// Whether deliveries of this provider are skipped on this server.
    pub(crate) fn provider_disabled(&self, kind: herald_providers::ProviderKind) -> bool {
        self.inner.sender.is_disabled(kind)
    }

    /// The setting an email webhook needs that this server has no default
    /// for: its field and why.
    pub(crate) fn missing_mail_setting(
        &self,
        has_host: bool,
        has_from: bool,
    ) -> Option<(&'static str, &'static str)> {
        self.inner
            .sender
            .mailer()
            .missing_setting(has_host, has_from)
    }

    /// Sends a test delivery now and records it (no retries).
    pub(crate) async fn send_now(
        &self,
        route: Arc<Route>,
        delivery: ClaimedDelivery,
    ) -> Result<TestReport, StoreError> {
        let judged = attempt::one(&self.inner, &route, &delivery).await;
        let report = judged.report;
        self.inner
            .store
            .record_attempts(vec![judged.record])
            .await?;
        Ok(report.expect("test deliveries always produce a report"))
    }

    /// Stops claiming, waits up to `grace` for in-flight attempts to finish,
    /// then writes every queued attempt record. Whatever is still in flight
    /// after the grace period stays leased in the store and is re-queued at
    /// the next start.
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
        // Lanes are done: wait for the records they queued to be written.
        let task = self
            .inner
            .recorder_task
            .lock()
            .expect("recorder lock")
            .take();
        if let Some(task) = task {
            self.inner.recorder.close();
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}
