//! Stored webhooks, the same on every backend: one row each, the
//! configuration as sealed JSON (see [`crate::sealing`]), with the few fields
//! SQL changes on its own (status, the circuit breaker's reason and time,
//! the version every change bumps) in plain columns beside it.

use chrono::{DateTime, Utc};
use herald_core::webhook::{Webhook, WebhookStatus};

use crate::sealing::Sealer;
use crate::{Result, StoreError};

/// The columns a backend reads into a [`StoredRow`], in order.
pub(crate) const COLUMNS: &str = "id, spec, status, disabled_reason, disabled_at, version";

/// A webhook row as read, before it is opened.
pub(crate) struct StoredRow {
    pub(crate) id: String,
    pub(crate) spec: String,
    pub(crate) status: String,
    pub(crate) disabled_reason: Option<String>,
    pub(crate) disabled_at: Option<String>,
    pub(crate) version: i64,
}

impl StoredRow {
    /// Opens the sealed JSON and lays the plain columns over it: they are
    /// the truth for what the circuit breaker changes.
    pub(crate) fn open(self, sealer: &Sealer) -> Result<Webhook> {
        let corrupt =
            |e: serde_json::Error| StoreError::Corrupt(format!("webhook {}: {e}", self.id));
        let mut webhook: Webhook = if Sealer::is_sealed(&self.spec) {
            serde_json::from_slice(&sealer.open(&self.id, &self.spec)?).map_err(corrupt)?
        } else {
            serde_json::from_str(&self.spec).map_err(corrupt)?
        };
        webhook.spec.status = match self.status.as_str() {
            "paused" => WebhookStatus::Paused,
            "disabled" => WebhookStatus::Disabled,
            _ => WebhookStatus::Active,
        };
        webhook.disabled_reason = self.disabled_reason;
        webhook.disabled_at = self
            .disabled_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        webhook.version = self.version;
        Ok(webhook)
    }
}

/// A webhook sealed for storage, with its plain columns.
pub(crate) struct SealedWebhook {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) status: &'static str,
    pub(crate) spec: String,
    pub(crate) disabled_reason: Option<String>,
    pub(crate) disabled_at: Option<String>,
    pub(crate) created_at_ms: i64,
    pub(crate) updated_at_ms: i64,
    /// The version the copy was read at: a write replaces only that one.
    pub(crate) version: i64,
    /// What decides which events the webhook receives
    /// ([`herald_core::webhook::WebhookSpec::routing`]): the registry
    /// version moves on only when this changes.
    pub(crate) routing: String,
}

impl SealedWebhook {
    pub(crate) fn new(sealer: &Sealer, webhook: &Webhook) -> Result<SealedWebhook> {
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(webhook).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        Ok(SealedWebhook {
            id: webhook.id.clone(),
            tenant_id: webhook.tenant_id.clone(),
            status: webhook.spec.status.as_str(),
            spec: sealer.seal(&webhook.id, &json),
            disabled_reason: webhook.disabled_reason.clone(),
            disabled_at: webhook.disabled_at.map(format_time),
            created_at_ms: webhook.created_at.timestamp_millis(),
            updated_at_ms: webhook.updated_at.timestamp_millis(),
            version: webhook.version,
            routing: webhook.spec.routing(),
        })
    }
}

/// A write found the row at another version than the one it was read at.
pub(crate) fn conflict(id: &str, read: i64) -> StoreError {
    StoreError::Conflict(format!(
        "webhook {id} changed since it was read (at version {read}); read it again and redo \
         the change"
    ))
}

pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
