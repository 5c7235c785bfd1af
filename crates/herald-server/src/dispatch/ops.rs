//! Herald's own events: `herald.webhook.disabled`, `herald.webhook.enabled`
//! and `herald.delivery.failed` go through the same pipeline as any event,
//! so a Slack or email webhook subscribed to `herald.*` tells the team.
//!
//! Two rules keep this from feeding on itself: a webhook never receives
//! events about itself, and a failed delivery of a `herald.*` event emits
//! nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Utc;
use herald_core::event::{is_operational, webhook_body};
use herald_core::filter::LazyEvent;
use herald_core::ids;
use herald_store::prelude::*;
use herald_store::{DeadLetter, DisabledWebhook, Ingest, NewEvent, RecordOutcome};
use serde_json::{Value, json};

use super::Inner;

pub(crate) const WEBHOOK_DISABLED: &str = "herald.webhook.disabled";
pub(crate) const WEBHOOK_ENABLED: &str = "herald.webhook.enabled";
pub(crate) const DELIVERY_FAILED: &str = "herald.delivery.failed";

/// Acts on what recording attempts changed: routes the disabled webhooks
/// as disabled and announces them and the dead letters.
pub(super) async fn after_recording(inner: &Arc<Inner>, outcome: RecordOutcome) {
    let mut events = Vec::new();
    for disabled in outcome.disabled {
        events.push(on_disabled(inner, disabled).await);
    }
    for dead in outcome.dead_letters {
        if !is_operational(&dead.event_type) {
            events.push(OpEvent {
                tenant_id: dead.tenant_id.clone(),
                event_type: DELIVERY_FAILED,
                subject: dead.webhook_id.clone(),
                data: dead_letter_data(&dead),
            });
        }
    }
    emit(inner, events).await;
}

/// One operational event about `subject` (a webhook).
pub(super) struct OpEvent {
    pub(super) tenant_id: String,
    pub(super) event_type: &'static str,
    pub(super) subject: String,
    pub(super) data: Value,
}

async fn on_disabled(inner: &Arc<Inner>, disabled: DisabledWebhook) -> OpEvent {
    tracing::warn!(
        webhook_id = %disabled.webhook_id,
        failures = disabled.consecutive_failures,
        "webhook disabled by the circuit breaker"
    );
    inner.metrics.breaker("disabled");
    super::webhooks::breaker_disabled(inner, &disabled).await;
    OpEvent {
        data: json!({
            "webhook_id": disabled.webhook_id,
            "reason": disabled.reason,
            "consecutive_failures": disabled.consecutive_failures,
        }),
        tenant_id: disabled.tenant_id,
        event_type: WEBHOOK_DISABLED,
        subject: disabled.webhook_id,
    }
}

fn dead_letter_data(dead: &DeadLetter) -> Value {
    json!({
        "webhook_id": dead.webhook_id,
        "delivery_id": dead.delivery_id,
        "event_id": dead.event_id,
        "event_type": dead.event_type,
        "attempts": dead.attempts,
        "last_error": dead.last_error,
    })
}

/// Stores operational events (one commit per tenant) and wakes their
/// subscribers; the webhook an event is about never receives it.
pub(super) async fn emit(inner: &Arc<Inner>, events: Vec<OpEvent>) {
    // Read before matching: see `Registry::version`.
    let version = inner.registry.version();
    let mut by_tenant: BTreeMap<String, Vec<(NewEvent, String)>> = BTreeMap::new();
    let mut woken = BTreeSet::new();
    for op in events {
        if !inner.registry.has_subscribers(&op.tenant_id, op.event_type) {
            continue;
        }
        let Ok(data) = serde_json::value::to_raw_value(&op.data) else {
            continue;
        };
        let id = ids::new_id(ids::EVENT);
        let now = Utc::now();
        let body = webhook_body(&id, op.event_type, now, &data);
        let source = "herald";
        let webhook_ids: Vec<String> = inner
            .registry
            .subscribers(
                &op.tenant_id,
                op.event_type,
                &LazyEvent::new(&body, Some(source)),
            )
            .into_iter()
            .filter(|id| *id != op.subject)
            .collect();
        if webhook_ids.is_empty() {
            continue;
        }
        woken.extend(webhook_ids.iter().cloned());
        let event = NewEvent {
            ordering_keys: inner.registry.ordering_keys(&webhook_ids, &body),
            digest_at_ms: inner
                .registry
                .digest_ticks(&webhook_ids, now.timestamp_millis()),
            traceparent: None,
            deliver_at_ms: None,
            schema_errors: None,
            body,
            webhook_ids,
            id,
            event_type: op.event_type.to_string(),
            source: Some(source.to_string()),
            idempotency_key: None,
            created_at_ms: now.timestamp_millis(),
        };
        by_tenant
            .entry(op.tenant_id)
            .or_default()
            .push((event, op.subject));
    }
    for (tenant_id, events) in by_tenant {
        let (events, subjects): (Vec<_>, Vec<_>) = events.into_iter().unzip();
        store(inner, &tenant_id, version, events, &subjects, &mut woken).await;
    }
    for webhook_id in woken {
        super::wake(inner, &webhook_id);
    }
}

/// Stores one tenant's operational events, matched at `version`; when
/// webhooks changed since, loads them again and matches once more (an event
/// still never goes to its own `subjects` entry).
async fn store(
    inner: &Arc<Inner>,
    tenant_id: &str,
    version: i64,
    events: Vec<NewEvent>,
    subjects: &[String],
    woken: &mut BTreeSet<String>,
) {
    let mut answer = inner.store.ingest(tenant_id, version, events).await;
    if let Ok(Ingest::Stale { mut events, .. }) = answer {
        answer = match super::webhooks::reload_all(inner).await {
            Ok(version) => {
                for (event, subject) in events.iter_mut().zip(subjects) {
                    inner.registry.rematch(tenant_id, event, |id| id != subject);
                    woken.extend(event.webhook_ids.iter().cloned());
                }
                inner.store.ingest(tenant_id, version, events).await
            }
            Err(e) => Err(e),
        };
    }
    match answer {
        Ok(Ingest::Stored(_)) => {}
        Ok(Ingest::Stale { .. }) => {
            tracing::error!("cannot store operational events: the webhooks keep changing");
        }
        Err(e) => tracing::error!(error = %e, "cannot store operational events"),
    }
}
