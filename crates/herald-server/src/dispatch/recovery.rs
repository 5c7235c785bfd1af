//! Auto-recovery: while a webhook with `auto_recover` is disabled, a probe
//! (a test delivery, recorded in its log like any test send) goes to the
//! destination with growing gaps; the first success enables the webhook
//! again, which sends what it held.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use herald_core::event::webhook_body;
use herald_core::ids;
use herald_core::webhook::{Webhook, WebhookStatus};
use herald_store::prelude::*;
use herald_store::{AuditEntry, NewEvent};
use serde_json::json;

use super::Inner;
use super::webhooks::{ChangeError, Edit};

/// The longest gap between two probes.
const MAX_GAP: Duration = Duration::from_secs(3600);

/// Starts probing a disabled webhook (once: a second start is a no-op).
pub(super) fn start(inner: &Arc<Inner>, webhook_id: String) {
    {
        let mut probing = inner.probing.lock().expect("probing lock");
        if !probing.insert(webhook_id.clone()) {
            return;
        }
    }
    let task_inner = inner.clone();
    inner.tasks.spawn(async move {
        probe_until_back(&task_inner, &webhook_id).await;
        task_inner
            .probing
            .lock()
            .expect("probing lock")
            .remove(&webhook_id);
    });
}

async fn probe_until_back(inner: &Arc<Inner>, webhook_id: &str) {
    let mut gap = None;
    loop {
        let Some(route) = inner.registry.get(webhook_id) else {
            return;
        };
        let spec = &route.webhook.spec;
        if spec.status != WebhookStatus::Disabled || !spec.auto_recover {
            return;
        }
        // The webhook's own first retry delay, doubling up to an hour.
        let wait = gap.unwrap_or(Duration::from_millis(spec.retry.initial_delay_ms.max(100)));
        gap = Some((wait * 2).min(MAX_GAP));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = inner.shutdown.cancelled() => return,
        }
        let Some(route) = inner.registry.get(webhook_id) else {
            return;
        };
        if route.webhook.spec.status != WebhookStatus::Disabled {
            return;
        }
        let now = Utc::now();
        let event_id = ids::new_id(ids::EVENT);
        let data = json!({
            "webhook_id": webhook_id,
            "message": "Herald is checking whether this endpoint is back.",
        });
        let Ok(data) = serde_json::value::to_raw_value(&data) else {
            return;
        };
        let event = NewEvent {
            body: webhook_body(&event_id, "herald.probe", now, &data),
            id: event_id,
            event_type: "herald.probe".to_string(),
            source: Some("herald".to_string()),
            idempotency_key: None,
            created_at_ms: now.timestamp_millis(),
            ordering_keys: Vec::new(),
            traceparent: None,
            deliver_at_ms: None,
            digest_at_ms: Vec::new(),
            schema_errors: None,
            webhook_ids: vec![webhook_id.to_string()],
        };
        let tenant_id = route.webhook.tenant_id.clone();
        let probe = match inner
            .store
            .insert_test_delivery(&tenant_id, event, webhook_id)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, webhook_id, "cannot store a recovery probe");
                continue;
            }
        };
        let judged = super::attempt::one(inner, &route, &probe).await;
        let success = judged.report.as_ref().is_some_and(|r| r.success);
        if let Err(e) = inner.store.record_attempts(vec![judged.record]).await {
            tracing::error!(error = %e, webhook_id, "cannot record a recovery probe");
        }
        if !success {
            continue;
        }
        // Enable what is stored now, not the copy the probe started from:
        // the webhook may have been changed (a rotated secret) meanwhile,
        // or enabled by hand.
        let enable = |current: Webhook| -> Result<Edit, std::convert::Infallible> {
            if current.spec.status != WebhookStatus::Disabled {
                return Ok(Edit::Keep);
            }
            let mut spec = current.spec.clone();
            spec.status = WebhookStatus::Active;
            let webhook = super::enabled(current, spec);
            let audit = AuditEntry {
                tenant_id: webhook.tenant_id.clone(),
                actor: "system".to_string(),
                action: "webhook.enabled".to_string(),
                resource_type: "webhook".to_string(),
                resource_id: webhook.id.clone(),
                before: Some(serde_json::json!({"status": "disabled"})),
                after: Some(
                    serde_json::json!({"status": "active", "reason": "a recovery probe succeeded"}),
                ),
                at_ms: herald_store::now_ms(),
            };
            Ok(Edit::Enable {
                webhook,
                discard_held: false,
                audit,
            })
        };
        match super::webhooks::change(inner, &tenant_id, webhook_id, enable).await {
            Ok(_) => tracing::info!(webhook_id, "webhook recovered: a probe succeeded"),
            Err(ChangeError::Store(e)) => {
                tracing::error!(error = %e, webhook_id, "cannot enable a recovered webhook");
                continue;
            }
            Err(ChangeError::Refused(never)) => match never {},
        }
        return;
    }
}
