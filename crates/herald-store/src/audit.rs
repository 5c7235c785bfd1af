//! The audit log's entries: who changed which webhook, tenant or key, and
//! how. Each backend writes an entry in the same transaction as the change
//! it describes, so the log never claims a change that was rolled back nor
//! misses one that was kept.

use serde_json::Value;

/// A change to record. `before`/`after` are the resource as the API shows
/// it, secrets already masked by the caller.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub tenant_id: String,
    /// `admin` or the API key id (`key_…`) that made the change; `system`
    /// for Herald's own changes (the circuit breaker).
    pub actor: String,
    /// `webhook.created`, `tenant.deleted`, `key.revoked`, …
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at_ms: i64,
}

/// A stored entry.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub entry: AuditEntry,
}

/// Which entries to list: a tenant's, newest first, before a cursor.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    pub tenant_id: String,
    pub resource_id: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: usize,
}
