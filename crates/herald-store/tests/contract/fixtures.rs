//! What the behaviours store: events, attempt records, webhooks, audit
//! entries, built with the few fields a test cares about.

use herald_core::delivery::{AttemptOutcome, ErrorCategory};
use herald_core::signing::SigningSecret;
use herald_core::webhook::{Webhook, WebhookSpec};
use herald_store::{AttemptRecord, AuditEntry, ClaimedDelivery, NewEvent, NextStep};

/// The tenant every database starts with.
pub(crate) const TENANT: &str = "tnt_default";

pub(crate) fn event(id: &str, webhooks: &[&str], at: i64) -> NewEvent {
    NewEvent {
        id: id.to_string(),
        event_type: "a.b".to_string(),
        source: None,
        idempotency_key: None,
        body: format!(r#"{{"id":"{id}","type":"a.b","timestamp":"t","data":{{}}}}"#),
        created_at_ms: at,
        ordering_keys: Vec::new(),
        traceparent: None,
        deliver_at_ms: None,
        digest_at_ms: Vec::new(),
        schema_errors: None,
        webhook_ids: webhooks.iter().map(|w| w.to_string()).collect(),
    }
}

pub(crate) fn keyed(id: &str, key: &str, webhooks: &[&str], at: i64) -> NewEvent {
    NewEvent {
        idempotency_key: Some(key.to_string()),
        ..event(id, webhooks, at)
    }
}

/// An attempt at `delivery` that started at `at`, took 5 ms, and leads to
/// `next`.
pub(crate) fn attempt(delivery: &ClaimedDelivery, at: i64, next: NextStep) -> AttemptRecord {
    let (outcome, status, category) = match next {
        NextStep::Delivered => (AttemptOutcome::Success, Some(200), None),
        NextStep::RetryAt(_) => (
            AttemptOutcome::Retry,
            Some(503),
            Some(ErrorCategory::Http5xx),
        ),
        NextStep::Failed => (
            AttemptOutcome::Failed,
            Some(500),
            Some(ErrorCategory::Http5xx),
        ),
        NextStep::Skipped => (AttemptOutcome::Skipped, None, None),
    };
    AttemptRecord {
        id: herald_core::ids::new_id(herald_core::ids::ATTEMPT),
        delivery_seq: delivery.seq,
        tenant_id: delivery.tenant_id.clone(),
        webhook_id: delivery.webhook_id.clone(),
        provider: "webhook".to_string(),
        event_type: delivery.event_type.clone(),
        test: delivery.test,
        disable_after: 0,
        number: delivery.attempt_number(),
        started_at_ms: at,
        duration_ms: 5,
        status_code: status,
        outcome,
        error_category: category,
        error_message: category.map(|_| format!("HTTP {}", status.unwrap_or(0))),
        request_headers: r#"{"content-type":"application/json"}"#.to_string(),
        response_headers: Some(r#"{"server":"test"}"#.to_string()),
        response_body: Some("answer".into()),
        next,
    }
}

/// A plain webhook of `tenant` with a fresh secret.
pub(crate) fn webhook(tenant: &str, name: &str) -> Webhook {
    let spec: WebhookSpec = serde_json::from_value(serde_json::json!({
        "name": name,
        "url": format!("https://{name}.example/hook"),
    }))
    .unwrap();
    Webhook::new(
        herald_core::ids::new_id(herald_core::ids::WEBHOOK),
        tenant.to_string(),
        spec,
        SigningSecret::generate(),
        chrono::DateTime::from_timestamp_millis(1_000).unwrap(),
    )
}

pub(crate) fn audit(tenant: &str, action: &str, resource_id: &str, at: i64) -> AuditEntry {
    AuditEntry {
        tenant_id: tenant.to_string(),
        actor: "admin".to_string(),
        action: action.to_string(),
        resource_type: action.split('.').next().unwrap_or("webhook").to_string(),
        resource_id: resource_id.to_string(),
        before: None,
        after: Some(serde_json::json!({"at": at})),
        at_ms: at,
    }
}
