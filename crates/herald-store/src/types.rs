//! Rows and requests the store takes and returns.

use std::sync::Arc;

use herald_core::delivery::{AttemptOutcome, DeliveryStatus, ErrorCategory};

/// An event to store, already validated and matched to its webhooks.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub event_type: String,
    pub source: Option<String>,
    pub idempotency_key: Option<String>,
    /// The exact JSON body plain webhooks receive.
    pub body: String,
    pub created_at_ms: i64,
    /// The webhooks that get a delivery (active and paused ones alike).
    pub webhook_ids: Vec<String>,
    /// For ordered webhooks, the key each delivery is ordered by, aligned
    /// with `webhook_ids` (empty when no subscriber is ordered).
    pub ordering_keys: Vec<Option<String>>,
    /// The W3C `traceparent` the event was posted with, already checked:
    /// its deliveries continue that trace.
    pub traceparent: Option<String>,
    /// When the deliveries fall due, if later than `created_at_ms`: they
    /// wait as `scheduled` until then and can be cancelled.
    pub deliver_at_ms: Option<i64>,
    /// For webhooks that send scheduled digests, the tick each delivery
    /// waits for, aligned with `webhook_ids` (empty when no subscriber has
    /// one).
    pub digest_at_ms: Vec<Option<i64>>,
    /// How its `data` failed its type's schema, as a JSON array, when it
    /// was accepted anyway (the tenant's validation mode is `warn`).
    pub schema_errors: Option<String>,
}

impl NewEvent {
    /// The state the delivery to `webhook_ids[i]` starts in and when it
    /// falls due: the event's `deliver_at`, or its webhook's next digest
    /// tick, whichever is later.
    pub(crate) fn first_due(&self, i: usize) -> (&'static str, i64) {
        let digest = self.digest_at_ms.get(i).copied().flatten();
        match self.deliver_at_ms.max(digest) {
            Some(at) if at > self.created_at_ms => ("scheduled", at),
            _ => ("pending", self.created_at_ms),
        }
    }
}

/// The answer to one ingested event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub id: String,
    pub deliveries: u32,
    /// True when the event already existed (same id or idempotency key):
    /// nothing new was stored and this is the original answer.
    pub replayed: bool,
}

/// A delivery taken from the queue, with everything needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub seq: i64,
    pub id: String,
    pub tenant_id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub body: Arc<str>,
    /// Attempts made before this one.
    pub attempt_count: u32,
    /// `attempt_count` when the delivery was last (re)queued; retries are
    /// counted from here, so a manual retry gets a fresh schedule.
    pub schedule_base: u32,
    pub test: bool,
    /// When the delivery was queued (its event accepted, or a replay):
    /// where delivery latency is measured from.
    pub queued_at_ms: i64,
    /// The `traceparent` its event was posted with.
    pub traceparent: Option<String>,
}

impl ClaimedDelivery {
    /// The number of the attempt about to be made (1-based).
    pub fn attempt_number(&self) -> u32 {
        self.attempt_count + 1
    }
}

/// The queue across every tenant, as the metrics show it: deliveries
/// waiting or under way, and how long the oldest has waited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Held until their event's `deliver_at`, of any webhook: not a
    /// backlog, so not in the oldest pending age either.
    pub scheduled: u64,
    /// Waiting for a first attempt, of active webhooks.
    pub pending: u64,
    /// Leased by a worker: an attempt under way.
    pub delivering: u64,
    /// Waiting for a retry, of active webhooks.
    pub retrying: u64,
    /// Waiting, of paused or disabled webhooks.
    pub held: u64,
    /// When the oldest waiting delivery of an active webhook was queued.
    pub oldest_pending_at_ms: Option<i64>,
}

/// The result of a claim.
#[derive(Debug, Clone)]
pub struct Claim {
    pub deliveries: Vec<ClaimedDelivery>,
    /// When the webhook's next waiting delivery falls due (`None`: nothing
    /// waits). Equal to the claim time when more were due than claimed.
    pub next_due_ms: Option<i64>,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(i64),
    Failed,
    /// Deliberately not sent (final, like `Failed`, but not an error of the
    /// destination).
    Skipped,
}

/// One finished attempt and its consequence for the delivery.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: String,
    pub delivery_seq: i64,
    pub tenant_id: String,
    pub webhook_id: String,
    /// The webhook's provider (`slack`, `webhook`, …), for the rollups.
    pub provider: String,
    /// The event's type, for the rollups.
    pub event_type: String,
    /// Test sends count toward nothing.
    pub test: bool,
    /// The webhook's circuit-breaker threshold (0: never disable).
    pub disable_after: u32,
    pub number: u32,
    pub started_at_ms: i64,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub outcome: AttemptOutcome,
    pub error_category: Option<ErrorCategory>,
    pub error_message: Option<String>,
    /// JSON object of the request headers, secrets already masked.
    pub request_headers: String,
    /// JSON object of the response headers.
    pub response_headers: Option<String>,
    /// The response body exactly as received (truncated), whatever bytes.
    pub response_body: Option<Vec<u8>>,
    pub next: NextStep,
}

/// What recording a batch of attempts changed beyond the deliveries.
#[derive(Debug, Clone, Default)]
pub struct RecordOutcome {
    /// Webhooks the circuit breaker just disabled.
    pub disabled: Vec<DisabledWebhook>,
    /// Deliveries that just failed for good (not test sends).
    pub dead_letters: Vec<DeadLetter>,
    /// Records that could not be written, while the rest of their batch
    /// was. Their deliveries stay leased until the lease runs out.
    pub failed: Vec<FailedRecord>,
}

/// A record that could not be written, and why.
#[derive(Debug, Clone)]
pub struct FailedRecord {
    pub delivery_seq: i64,
    pub webhook_id: String,
    pub error: crate::StoreError,
}

#[derive(Debug, Clone)]
pub struct DisabledWebhook {
    pub webhook_id: String,
    pub tenant_id: String,
    pub consecutive_failures: u32,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub tenant_id: String,
    pub webhook_id: String,
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The columns of a [`DeliveryRow`], in the order both backends read them
/// (plain SQL, the same on either engine).
pub(crate) const DELIVERY_SELECT: &str = "
    SELECT d.seq, d.id, e.id, e.type, d.webhook_id, d.status, d.test, d.attempt_count,
           d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at,
           d.delivered_at
    FROM deliveries d JOIN events e ON e.seq = d.event_seq";

/// A delivery as the API shows it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub seq: i64,
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub webhook_id: String,
    pub status: DeliveryStatus,
    pub test: bool,
    pub attempt_count: u32,
    pub next_attempt_at_ms: Option<i64>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: String,
    pub number: u32,
    pub started_at_ms: i64,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub outcome: AttemptOutcome,
    pub error_category: Option<ErrorCategory>,
    pub error_message: Option<String>,
    pub request_headers: String,
    pub response_headers: Option<String>,
    /// The response body as received: bytes, not necessarily text.
    pub response_body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub event_type: String,
    pub source: Option<String>,
    pub body: String,
    pub created_at_ms: i64,
    /// The time it was posted for, when its deliveries were held until then.
    pub deliver_at_ms: Option<i64>,
    /// How its `data` failed its type's schema, as a JSON array; `None`
    /// when it passed, was not checked, or its type has no schema.
    pub schema_errors: Option<String>,
}

/// Which deliveries a list shows.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub tenant_id: String,
    pub webhook_id: Option<String>,
    pub event_id: Option<String>,
    pub status: Option<DeliveryStatus>,
    /// Only deliveries of events of exactly this type.
    pub event_type: Option<String>,
    /// Only deliveries created at or after this time (inclusive).
    pub created_from_ms: Option<i64>,
    /// Only deliveries created before this time (exclusive).
    pub created_before_ms: Option<i64>,
    /// Only deliveries older than this sequence number (the cursor).
    pub before_seq: Option<i64>,
    pub limit: usize,
}

/// The result of asking to re-queue a delivery by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requeue {
    Requeued { webhook_id: String },
    NotFound,
    NotFailed(DeliveryStatus),
}

/// A signed-in console session. The cookie holds a random token; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSessionRow {
    pub token_hash: Vec<u8>,
    pub tenant_id: String,
    /// "admin", or the id of the tenant API key that signed in.
    pub actor: String,
    pub read_only: bool,
    /// The console features this session may use; None means all.
    pub features: Option<Vec<String>>,
    /// The session's CSRF token, compared with every state-changing form.
    pub csrf_token: String,
    /// Opened through a portal link rather than a sign-in.
    pub portal: bool,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// A one-time link that opens a console session scoped to one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLinkRow {
    pub token_hash: Vec<u8>,
    pub tenant_id: String,
    pub read_only: bool,
    pub features: Option<Vec<String>>,
    /// How long the session the link opens lasts.
    pub session_ttl_ms: i64,
    pub created_at_ms: i64,
    /// The link itself must be used before this.
    pub expires_at_ms: i64,
}

/// The columns of a [`ConsoleSessionRow`], in its order (both engines).
pub(crate) const CONSOLE_SESSION_COLUMNS: &str =
    "token_hash, tenant_id, actor, read_only, features, csrf_token, portal, created_at, expires_at";

/// The columns of a [`PortalLinkRow`], in its order (both engines).
pub(crate) const PORTAL_LINK_COLUMNS: &str =
    "token_hash, tenant_id, read_only, features, session_ttl_ms, created_at, expires_at";

/// A feature list as stored: JSON text, NULL for "all".
pub(crate) fn features_to_json(features: &Option<Vec<String>>) -> Option<String> {
    features
        .as_ref()
        .map(|f| serde_json::Value::from(f.as_slice()).to_string())
}

/// A stored feature list read back.
pub(crate) fn features_from_json(text: Option<String>) -> crate::Result<Option<Vec<String>>> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| crate::StoreError::Corrupt(format!("console features: {e}")))
    })
    .transpose()
}
