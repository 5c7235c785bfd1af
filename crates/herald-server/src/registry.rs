//! The routing table: every webhook in memory, so ingest matches an event to
//! its subscribers and the worker reads a webhook's settings without a query.
//! The database stays the truth; this is rebuilt from it at start and
//! updated by every API write. It remembers the store's registry version it
//! was loaded at: ingest names it, and when webhooks changed since (on
//! another node, say) the table is loaded again and the events matched once
//! more.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use herald_core::event::EventTypePattern;
use herald_core::filter::{Filter, LazyEvent};
use herald_core::schedule::CronPattern;
use herald_core::webhook::{UrlPolicy, Webhook, WebhookStatus};
use herald_providers::{Provider, ProviderKind, Transform};
use herald_store::prelude::*;
use herald_store::{NewEvent, RegistrySnapshot, Store, StoreError};

use crate::pacer::Pacer;

/// The most deliveries one scheduled digest message stands for (the lane
/// holds them in memory); more due at one tick go out as further digests
/// right after.
pub(crate) const MAX_DIGEST: usize = 1_000;

/// A webhook with what is derived from it once, not per event.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) webhook: Webhook,
    pub(crate) patterns: Vec<EventTypePattern>,
    /// The webhook's filter, compiled once here; `None` costs routing
    /// nothing.
    pub(crate) filter: Option<Filter>,
    /// The destination of a plain webhook (integrations build their own).
    pub(crate) url: Option<reqwest::Url>,
    /// How events are rendered and answers judged.
    pub(crate) provider: Provider,
    /// The webhook's transform, compiled once here.
    pub(crate) transform: Option<Transform>,
    /// The schedule of the webhook's digest (`batch.schedule`), compiled
    /// once here.
    pub(crate) digest: Option<CronPattern>,
    /// Paces sends to the most the destination accepts (the webhook's
    /// `rate_limit`, else the provider's documented limit).
    pub(crate) pacer: Arc<Pacer>,
}

impl Route {
    pub(crate) fn new(webhook: Webhook) -> Option<Route> {
        let patterns = webhook
            .spec
            .event_types
            .iter()
            .map(|t| EventTypePattern::parse("event_types", t))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        let filter = match &webhook.spec.filter {
            Some(spec) => Some(spec.compile().ok()?),
            None => None,
        };
        let url = match &webhook.spec.url {
            Some(u) => Some(reqwest::Url::parse(u).ok()?),
            None => None,
        };
        let kind = ProviderKind::parse(&webhook.spec.provider)?;
        // Stored webhooks passed validation when they were written; reading
        // them back must not depend on the URL policy of this start.
        // The sender checks destination addresses at every attempt.
        let provider = Provider::parse(
            kind,
            webhook.spec.url.as_deref(),
            &webhook.spec.settings,
            &UrlPolicy::dev(),
        )
        .ok()?;
        let transform = match &webhook.spec.transform {
            Some(spec) => Some(Transform::compile(spec).ok()?),
            None => None,
        };
        let digest = match &webhook.spec.batch {
            Some(batch) => batch.digest_schedule().ok()?,
            None => None,
        };
        let rate_per_second = match &webhook.spec.rate_limit {
            Some(limit) => Some(limit.per_second()),
            None => kind.default_rate_limit().map(|r| r.per_second),
        };
        Some(Route {
            webhook,
            patterns,
            filter,
            url,
            provider,
            transform,
            digest,
            pacer: Arc::new(Pacer::new(rate_per_second)),
        })
    }

    /// Herald's own `herald.*` events go only to webhooks that ask for them
    /// by name or prefix, never through a catch-all `*`.
    pub(crate) fn subscribes_to(&self, event_type: &str) -> bool {
        let operational = herald_core::event::is_operational(event_type);
        self.patterns
            .iter()
            .filter(|p| !(operational && matches!(p, EventTypePattern::All)))
            .any(|p| p.matches(event_type))
    }

    /// Whether the webhook receives this event: subscribed to its type and
    /// passed by its filter, if it has one.
    pub(crate) fn receives(&self, event_type: &str, event: &LazyEvent<'_>) -> bool {
        self.subscribes_to(event_type) && self.filter.as_ref().is_none_or(|f| event.passes(f))
    }

    /// How many deliveries go out as one request: 1 without a batch,
    /// `max_events`, or for a scheduled digest message everything due at
    /// its tick up to [`MAX_DIGEST`] (the message lists `max_events` of
    /// them and counts the rest).
    pub(crate) fn group_size(&self) -> usize {
        match &self.webhook.spec.batch {
            None => 1,
            Some(_) if self.digest.is_some() && self.provider.kind().sends_digests() => MAX_DIGEST,
            Some(b) => b.max_events as usize,
        }
    }

    pub(crate) fn rate_per_second(&self) -> Option<f64> {
        self.pacer.per_second()
    }

    pub(crate) fn is_active(&self) -> bool {
        self.webhook.spec.status == WebhookStatus::Active
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    routes: RwLock<HashMap<String, Arc<Route>>>,
    /// The store's registry version of the last full load. Changes applied
    /// one by one since (API writes, other nodes' notifications) leave it
    /// behind, which only costs a reload at the next ingest.
    version: AtomicI64,
    /// One full load at a time, so the last to finish is the newest.
    reloading: tokio::sync::Mutex<()>,
}

impl Registry {
    pub(crate) fn load(snapshot: RegistrySnapshot) -> Registry {
        let registry = Registry::default();
        registry.replace(snapshot);
        registry
    }

    /// The registry version the routes reflect at least. Read it before
    /// matching events, never after: the routes are replaced before it.
    pub(crate) fn version(&self) -> i64 {
        self.version.load(Ordering::SeqCst)
    }

    /// Moves the version on after this node's own change to one webhook,
    /// already applied to the routes: only when the store is exactly one
    /// change past `before` (the version read before writing), so a change
    /// of another node in between is never marked as seen.
    pub(crate) fn advance(&self, before: i64, now: i64) {
        if now == before + 1 {
            let _ = self
                .version
                .compare_exchange(before, now, Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    /// Loads every webhook again; returns the version they are at.
    pub(crate) async fn reload(&self, store: &Store) -> Result<i64, StoreError> {
        let _one = self.reloading.lock().await;
        let snapshot = store.load_registry().await?;
        let version = snapshot.version;
        self.replace(snapshot);
        Ok(version)
    }

    fn replace(&self, snapshot: RegistrySnapshot) {
        let known: HashSet<&str> = snapshot.webhooks.iter().map(|w| w.id.as_str()).collect();
        self.routes
            .write()
            .expect("registry lock")
            .retain(|id, _| known.contains(id.as_str()));
        for webhook in snapshot.webhooks {
            self.upsert(webhook);
        }
        self.version.store(snapshot.version, Ordering::SeqCst);
    }

    /// Matches an event again (after a reload): its subscribers of those
    /// `keep` accepts, and their ordering keys.
    pub(crate) fn rematch(
        &self,
        tenant_id: &str,
        event: &mut NewEvent,
        keep: impl Fn(&str) -> bool,
    ) {
        let lazy = LazyEvent::new(&event.body, event.source.as_deref());
        event.webhook_ids = self
            .subscribers(tenant_id, &event.event_type, &lazy)
            .into_iter()
            .filter(|id| keep(id))
            .collect();
        event.ordering_keys = self.ordering_keys(&event.webhook_ids, &event.body);
        event.digest_at_ms = self.digest_ticks(
            &event.webhook_ids,
            event.deliver_at_ms.unwrap_or(event.created_at_ms),
        );
    }

    pub(crate) fn upsert(&self, webhook: Webhook) {
        let id = webhook.id.clone();
        match Route::new(webhook) {
            Some(mut route) => {
                let mut routes = self.routes.write().expect("registry lock");
                // Another change to the webhook keeps the budget already
                // spent, or an update could let a burst through.
                if let Some(old) = routes.get(&id)
                    && old.rate_per_second() == route.rate_per_second()
                {
                    route.pacer = old.pacer.clone();
                }
                routes.insert(id, Arc::new(route));
            }
            None => tracing::error!(webhook_id = %id, "stored webhook is invalid; not routed"),
        }
    }

    /// Every routed webhook.
    pub(crate) fn all(&self) -> Vec<Arc<Route>> {
        self.routes
            .read()
            .expect("registry lock")
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn remove(&self, id: &str) {
        self.routes.write().expect("registry lock").remove(id);
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Route>> {
        self.routes.read().expect("registry lock").get(id).cloned()
    }

    /// The tick each webhook's digest sends an event due at `due_ms` with
    /// (the first after it), aligned with `webhook_ids`; empty when none
    /// sends digests, so the common case allocates nothing.
    pub(crate) fn digest_ticks(&self, webhook_ids: &[String], due_ms: i64) -> Vec<Option<i64>> {
        let routes = self.routes.read().expect("registry lock");
        let digest = |id: &String| routes.get(id).and_then(|r| r.digest.as_ref());
        if !webhook_ids.iter().any(|id| digest(id).is_some()) {
            return Vec::new();
        }
        webhook_ids
            .iter()
            .map(|id| digest(id).and_then(|d| d.next_after(due_ms)))
            .collect()
    }

    /// The ordering key of each webhook for an event (`body` is the stored
    /// envelope), aligned with `webhook_ids`; empty when none is ordered,
    /// so unordered traffic never parses the body.
    pub(crate) fn ordering_keys(&self, webhook_ids: &[String], body: &str) -> Vec<Option<String>> {
        let routes = self.routes.read().expect("registry lock");
        let ordered = |id: &String| routes.get(id).filter(|r| r.webhook.spec.is_ordered());
        // The common case (no ordered subscriber) allocates nothing.
        if !webhook_ids.iter().any(|id| ordered(id).is_some()) {
            return Vec::new();
        }
        let event: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        webhook_ids
            .iter()
            .map(|id| ordered(id).and_then(|r| r.webhook.spec.ordering_key_of(&event)))
            .collect()
    }

    /// Whether any webhook of a tenant subscribes to an event type (filters
    /// aside): spares building an event no webhook can take.
    pub(crate) fn has_subscribers(&self, tenant_id: &str, event_type: &str) -> bool {
        let routes = self.routes.read().expect("registry lock");
        routes
            .values()
            .any(|r| r.webhook.tenant_id == tenant_id && r.subscribes_to(event_type))
    }

    /// The webhooks of a tenant that receive an event: subscribed to its
    /// type and passed by their filters, paused ones included (they hold
    /// their deliveries). `event` is parsed only if a filter looks at it.
    pub(crate) fn subscribers(
        &self,
        tenant_id: &str,
        event_type: &str,
        event: &LazyEvent<'_>,
    ) -> Vec<String> {
        let routes = self.routes.read().expect("registry lock");
        let mut ids: Vec<String> = routes
            .values()
            .filter(|r| r.webhook.tenant_id == tenant_id && r.receives(event_type, event))
            .map(|r| r.webhook.id.clone())
            .collect();
        ids.sort();
        ids
    }
}
