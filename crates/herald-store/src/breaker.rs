//! The circuit breaker's decisions, the same on every backend: when a
//! webhook is disabled, why, and what is written and announced about it.

use crate::{AttemptRecord, AuditEntry, DisabledWebhook};

/// The error text kept on a delivery: category and message.
pub(crate) fn last_error(r: &AttemptRecord) -> Option<String> {
    match (&r.error_category, &r.error_message) {
        (Some(c), Some(m)) => Some(format!("{}: {m}", c.as_str())),
        (Some(c), None) => Some(c.as_str().to_string()),
        (None, m) => m.clone(),
    }
}

/// A webhook the breaker disables after `failures` failed deliveries in a
/// row, the last of them `r`.
pub(crate) struct Disabling {
    pub(crate) at_ms: i64,
    pub(crate) reason: String,
    /// RFC 3339, as the webhook shows it.
    pub(crate) disabled_at: String,
    failures: u32,
}

impl Disabling {
    /// `None` while the count is below the webhook's threshold (or it has
    /// none).
    pub(crate) fn after(
        r: &AttemptRecord,
        failures: u32,
        last_error: Option<&str>,
    ) -> Option<Self> {
        if r.disable_after == 0 || failures < r.disable_after {
            return None;
        }
        let at_ms = r.started_at_ms + r.duration_ms as i64;
        Some(Disabling {
            at_ms,
            reason: format!(
                "{failures} consecutive deliveries failed; the last: {}",
                last_error.unwrap_or("no detail")
            ),
            disabled_at: crate::stored_webhook::format_time(
                chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default(),
            ),
            failures,
        })
    }

    /// The audit entry, written with the change (actor `system`).
    pub(crate) fn audit(&self, r: &AttemptRecord) -> AuditEntry {
        AuditEntry {
            tenant_id: r.tenant_id.clone(),
            actor: "system".to_string(),
            action: "webhook.disabled".to_string(),
            resource_type: "webhook".to_string(),
            resource_id: r.webhook_id.clone(),
            before: Some(serde_json::json!({"status": "active"})),
            after: Some(serde_json::json!({
                "status": "disabled",
                "disabled_reason": self.reason,
                "disabled_at": self.disabled_at,
            })),
            at_ms: self.at_ms,
        }
    }

    /// What the caller announces once the change is stored.
    pub(crate) fn announced(self, r: &AttemptRecord) -> DisabledWebhook {
        DisabledWebhook {
            webhook_id: r.webhook_id.clone(),
            tenant_id: r.tenant_id.clone(),
            consecutive_failures: self.failures,
            reason: self.reason,
        }
    }
}
