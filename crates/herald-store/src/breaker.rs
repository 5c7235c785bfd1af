//! The circuit breaker's decisions, the same on every backend: when a
//! webhook is disabled, why, and what is written and announced about it.

use crate::{AttemptRecord, AuditEntry, DisabledWebhook, NextStep};

/// What an attempt does to its webhook's count of failed deliveries in a
/// row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    /// A delivery went through: the count starts over.
    Reset,
    /// A delivery failed for good: one more (and a dead letter).
    Failure,
    /// Retries and skips change nothing; test sends count toward nothing.
    Unchanged,
}

impl Count {
    pub(crate) fn of(r: &AttemptRecord) -> Count {
        match r.next {
            _ if r.test => Count::Unchanged,
            NextStep::Delivered => Count::Reset,
            NextStep::Failed => Count::Failure,
            NextStep::RetryAt(_) | NextStep::Skipped => Count::Unchanged,
        }
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
