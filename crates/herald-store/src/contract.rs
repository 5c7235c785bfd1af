//! The storage contract: what every engine does, written once. Each trait
//! covers one resource; [`Storage`] names them all. Both engines implement
//! every trait, and [`crate::Store`] implements them by forwarding to the
//! engine it opened; the contract test suite (`tests/contract`) runs each
//! promise made here against both.
//!
//! Methods return `impl Future + Send`, so a caller may spawn them.

use std::future::Future;

use herald_core::delivery::DeliveryStatus;
use herald_core::webhook::Webhook;

use crate::rollups::{AnalyticsQuery, AnalyticsRow, WebhookStats};
use crate::schedules::{ScheduleAdvance, ScheduleRow};
use crate::{
    ApiKeyRow, AttemptRecord, AttemptRow, AuditEntry, AuditFilter, AuditRow, Claim,
    ClaimedDelivery, ConsoleSessionRow, DeliveryFilter, DeliveryRow, EventRow, EventTypeFilter,
    EventTypeRow, Ingest, LaneClaim, NewEvent, PortalLinkRow, QueueStats, RecordOutcome,
    RegistrySnapshot, Requeue, Result, TenantRow,
};

/// Events: what applications posted, stored with their deliveries.
pub trait EventStore: Send + Sync {
    /// Stores events and one pending delivery per matched webhook, in one
    /// transaction: either the whole batch is durable when this returns `Ok`,
    /// or none of it is. An event whose id or idempotency key already exists
    /// (in the store, or earlier in the same batch) stores nothing and
    /// answers as it did the first time; the idempotency key wins over the
    /// id, since it is what the client retried with.
    ///
    /// `registry_version` is the version of the webhooks the events were
    /// matched against ([`WebhookStore::load_registry`]). When the stored
    /// one differs (a webhook changed since, on any node), nothing is
    /// stored and the events come back as [`Ingest::Stale`], to be matched
    /// again. The comparison is part of the transaction's own work, not a
    /// query per event.
    fn ingest(
        &self,
        tenant_id: &str,
        registry_version: i64,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<Ingest>> + Send;

    /// Stores a test event and its one delivery, already claimed (leased for
    /// ten minutes, the longest a test send may take): the caller sends it
    /// at once.
    fn insert_test_delivery(
        &self,
        tenant_id: &str,
        event: NewEvent,
        webhook_id: &str,
    ) -> impl Future<Output = Result<ClaimedDelivery>> + Send;

    fn get_event(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<EventRow>>> + Send;

    /// A tenant's events (test sends left out), newest first, with
    /// sequence numbers below `before_seq`.
    fn list_events(
        &self,
        tenant_id: &str,
        event_type: Option<String>,
        before_seq: Option<i64>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<EventRow>>> + Send;

    /// The deliveries of one event (its per-webhook summary), oldest first.
    fn event_deliveries(
        &self,
        event_seq: i64,
    ) -> impl Future<Output = Result<Vec<DeliveryRow>>> + Send;

    /// Cancels the deliveries of an event that are still `scheduled` (not
    /// yet taken by a lane): they become `cancelled`. Answers how many,
    /// `None` when the event does not exist.
    fn cancel_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<u64>>> + Send;

    /// Sends a stored event again: one new pending delivery to each of
    /// `webhook_ids` (with its ordering key, for ordered webhooks). `None`
    /// when the event does not exist.
    fn replay_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        webhook_ids: Vec<(String, Option<String>)>,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<u32>>> + Send;

    /// Deletes up to `limit` events created before `before_ms` whose
    /// deliveries are all finished, with those deliveries and their
    /// attempts; returns how many events went. Events with a delivery still
    /// waiting (held by a paused or disabled webhook, say) are kept.
    fn prune(&self, before_ms: i64, limit: usize) -> impl Future<Output = Result<usize>> + Send;
}

/// The delivery queue: what is due, who is sending it, what happens next.
pub trait DeliveryQueue: Send + Sync {
    /// Takes up to `limit` due deliveries of one webhook, oldest first, and
    /// leases them until `leased_until_ms`. The lease is committed before
    /// this returns, so a crash during the send leaves a record to recover.
    /// When fewer than `limit` were due, also says when the next waiting
    /// one falls due, so the caller knows how long it may sleep. For an
    /// `ordered` webhook only the oldest unfinished delivery of each
    /// ordering key is eligible, so a failing head holds back the rest of
    /// its key. On a shared database, rows another node is claiming are
    /// skipped, not waited for.
    fn claim(
        &self,
        webhook_id: &str,
        now_ms: i64,
        limit: usize,
        leased_until_ms: i64,
        ordered: bool,
    ) -> impl Future<Output = Result<Claim>> + Send;

    /// Returns leased deliveries that were never sent to the queue, keeping
    /// their place (e.g. when their webhook is paused while they wait).
    fn release(&self, seqs: Vec<i64>) -> impl Future<Output = Result<()>> + Send;

    /// Records finished attempts and their consequences: the deliveries' new
    /// state, the circuit breaker's count (a delivered delivery starts it
    /// over, one failed for good adds one, test sends count toward nothing),
    /// the webhooks it disables (with an audit entry by `system`) and the
    /// dead letters. An attempt whose delivery was deleted meanwhile is
    /// dropped.
    fn record_attempts(
        &self,
        records: Vec<AttemptRecord>,
    ) -> impl Future<Output = Result<RecordOutcome>> + Send;

    /// When the next waiting delivery of a webhook falls due, if any.
    fn next_due(&self, webhook_id: &str) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// Webhooks with deliveries waiting (due or not).
    fn webhooks_with_queued_deliveries(&self) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// The whole queue, every tenant: how many deliveries wait (of active
    /// webhooks, and held by paused or disabled ones), how many are under
    /// way, and when the oldest waiting one was queued. One aggregate over
    /// the queue's indexes, for the metrics.
    fn queue_stats(&self) -> impl Future<Output = Result<QueueStats>> + Send;

    /// When one tenant's oldest waiting delivery was queued, as
    /// [`DeliveryQueue::queue_stats`] counts waiting for the whole queue:
    /// pending or retrying, of an active webhook (scheduled ones and those
    /// held by a paused or disabled webhook do not wait to be sent).
    /// `None` when nothing waits. Reads only the queue's index.
    fn oldest_waiting_at(
        &self,
        tenant_id: &str,
    ) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// Takes back leases that ran out (`leased_until < now_ms`): their
    /// attempt was interrupted (its sender stalled or died, or its record
    /// was lost), and the delivery goes back to the queue, due now, its
    /// attempt count unchanged. A lane that is held (see [`Lanes`]) may keep
    /// leased deliveries waiting past their lease (a batch filling, a
    /// back-pressure pause), so only leases of webhooks whose lane nobody
    /// holds are taken back. An interrupted test send is failed instead,
    /// since nobody awaits it any more. Safe at any time, on every node:
    /// returns how many deliveries it changed.
    fn recover_interrupted(&self, now_ms: i64) -> impl Future<Output = Result<usize>> + Send;

    /// [`DeliveryQueue::recover_interrupted`] for a node that has just
    /// started, before it claims anything. On the embedded database this
    /// process is the only one: every lease is from its previous run and is
    /// taken back, however long it had left. On a shared database the other
    /// nodes' leases are theirs, and only those that ran out are.
    fn recover_at_start(&self, now_ms: i64) -> impl Future<Output = Result<usize>> + Send;

    /// Re-queues a failed delivery with a fresh retry schedule.
    fn requeue_failed(
        &self,
        tenant_id: &str,
        id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Requeue>> + Send;

    /// Re-queues a webhook's failed deliveries that failed within
    /// `[since_ms, until_ms]`, each with a fresh retry schedule; returns how
    /// many.
    fn requeue_failed_between(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        since_ms: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
}

/// The delivery log: deliveries and their attempts as the API shows them.
pub trait DeliveryLog: Send + Sync {
    /// Deliveries matching a filter, newest first.
    fn list_deliveries(
        &self,
        filter: DeliveryFilter,
    ) -> impl Future<Output = Result<Vec<DeliveryRow>>> + Send;

    /// One delivery and its attempts, oldest first.
    fn get_delivery(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<(DeliveryRow, Vec<AttemptRow>)>>> + Send;

    /// How many of a tenant's deliveries are in each state.
    fn delivery_counts(
        &self,
        tenant_id: &str,
    ) -> impl Future<Output = Result<Vec<(DeliveryStatus, u64)>>> + Send;

    /// The rollups' answer to an analytics query (see [`crate::rollups`]):
    /// one row per bucket and group, ordered by bucket then dimensions.
    fn analytics(
        &self,
        query: AnalyticsQuery,
    ) -> impl Future<Output = Result<Vec<AnalyticsRow>>> + Send;

    /// The stats of those of a tenant's webhooks that have made attempts.
    fn webhook_stats(
        &self,
        tenant_id: &str,
        webhook_ids: Vec<String>,
    ) -> impl Future<Output = Result<Vec<WebhookStats>>> + Send;

    /// Deletes rollups past their granularity's keeping time (see
    /// [`crate::rollups::Granularity::kept_for_ms`]); they outlive the raw
    /// rows, which [`EventStore::prune`] deletes. Returns how many.
    fn prune_rollups(&self, now_ms: i64) -> impl Future<Output = Result<usize>> + Send;

    /// Raises (`true`) or clears a webhook's degradation alert if it is not
    /// so already; answers whether this call changed it. Several nodes may
    /// ask at once: exactly one sees `true`, so each transition is
    /// announced once.
    fn set_degraded_alert(
        &self,
        webhook_id: &str,
        raised: bool,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// Webhooks, sealed at rest (see [`crate::MasterKey`]). Every change is
/// written with its audit entry in one transaction and, on a shared
/// database, announced to every node ([`crate::Change::Webhook`]).
///
/// Every change bumps the stored webhook's `version` (a new webhook is at
/// 1): an update, an enable, a rotation, and the circuit breaker's disable.
/// A write replaces the webhook only if it is still at the version of the
/// copy it is given (the one the caller read), and becomes that version
/// plus one; otherwise it changes nothing and fails with
/// [`crate::StoreError::Conflict`]: another writer got there first, so
/// read the webhook again and redo the change.
pub trait WebhookStore: Send + Sync {
    fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Replaces a webhook (at the version it was read at, see above);
    /// false when it no longer exists.
    fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Replaces a webhook being enabled again (at the version it was read
    /// at, see above): its failure count starts over and, with
    /// `discard_held`, the deliveries it held are closed as `skipped`.
    /// Returns how many were discarded, or `None` when the webhook no
    /// longer exists.
    fn enable_webhook(
        &self,
        webhook: &Webhook,
        discard_held: bool,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<Option<u64>>> + Send;

    /// Deletes webhooks with their deliveries and attempts; returns the ids
    /// that existed. `audits` holds one entry per id asked for; only those
    /// of webhooks that existed are recorded.
    fn delete_webhooks(
        &self,
        tenant_id: &str,
        audits: Vec<AuditEntry>,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;

    fn get_webhook(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Webhook>>> + Send;

    /// Any webhook by id, whatever its tenant (for nodes that learn of a
    /// change by notification).
    fn find_webhook(&self, id: &str) -> impl Future<Output = Result<Option<Webhook>>> + Send;

    /// A tenant's webhooks with ids after `after_id`, oldest first.
    fn list_webhooks(
        &self,
        tenant_id: &str,
        after_id: Option<String>,
    ) -> impl Future<Output = Result<Vec<Webhook>>> + Send;

    /// Every webhook of every tenant, for the in-memory routing table, with
    /// the registry version they are at, read in one snapshot.
    fn load_registry(&self) -> impl Future<Output = Result<RegistrySnapshot>> + Send;

    /// The registry version now: moved on in the same transaction as every
    /// change to the set of webhooks (an insert, update, enable or delete,
    /// the breaker's disable, a tenant deleted with its webhooks).
    fn registry_version(&self) -> impl Future<Output = Result<i64>> + Send;
}

/// Tenants and their API keys. A key is kept only as a SHA-256 of its text:
/// the database never holds anything that authenticates.
pub trait TenantStore: Send + Sync {
    /// Creates a tenant with its first key.
    fn create_tenant(
        &self,
        tenant: TenantRow,
        key: ApiKeyRow,
        audits: Vec<AuditEntry>,
    ) -> impl Future<Output = Result<()>> + Send;

    fn list_tenants(&self) -> impl Future<Output = Result<Vec<TenantRow>>> + Send;

    fn get_tenant(&self, id: &str) -> impl Future<Output = Result<Option<TenantRow>>> + Send;

    /// Deletes a tenant with its keys, webhooks, events, deliveries,
    /// attempts, console sessions and portal links (its audit entries
    /// stay). Returns the deleted webhooks' ids, or `None` when the tenant
    /// did not exist.
    fn delete_tenant(
        &self,
        id: &str,
        audits: Vec<AuditEntry>,
    ) -> impl Future<Output = Result<Option<Vec<String>>>> + Send;

    /// Adds a key to a tenant; false when the tenant does not exist.
    fn add_api_key(
        &self,
        key: ApiKeyRow,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Revokes a tenant's key and ends the console sessions it signed in
    /// (those whose actor is the key's id); false when there is no such
    /// key.
    fn revoke_api_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// A tenant's keys, by id (the hashes are of no use to a reader but
    /// come along).
    fn api_keys(&self, tenant_id: &str) -> impl Future<Output = Result<Vec<ApiKeyRow>>> + Send;

    /// The live key with this id, if any.
    fn find_api_key(&self, key_id: &str) -> impl Future<Output = Result<Option<ApiKeyRow>>> + Send;
}

/// The audit log: who changed which webhook, tenant or key, and how. Each
/// entry is written in the same transaction as the change it describes, so
/// the log never claims a change that was rolled back nor misses one that
/// was kept.
pub trait AuditLog: Send + Sync {
    /// A tenant's entries, newest first.
    fn list_audit(&self, filter: AuditFilter)
    -> impl Future<Output = Result<Vec<AuditRow>>> + Send;
}

/// Lane leases: which node works each webhook's deliveries. One holder at a
/// time is what makes a webhook's rate limit, `max_in_flight`, order,
/// back-pressure and batching hold across nodes without a database round
/// trip per send. On the embedded database this process is the only node:
/// every lane is granted at once and nothing is kept.
pub trait Lanes: Send + Sync {
    /// Leases the work of one webhook to this node for `ttl_ms`. Only the
    /// holder claims and sends the webhook's deliveries. A lease whose
    /// holder stopped renewing it is taken over, and the deliveries that
    /// holder had leased go back to the queue (its test sends fail).
    fn acquire_lane(
        &self,
        webhook_id: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> impl Future<Output = Result<LaneClaim>> + Send;

    /// Extends every lane lease this node holds; returns the
    /// `(webhook_id, token)` of those it still holds (a lane missing from
    /// the answer was taken over and must stop).
    fn renew_lanes(
        &self,
        now_ms: i64,
        ttl_ms: i64,
    ) -> impl Future<Output = Result<Vec<(String, i64)>>> + Send;

    /// Gives a lane up, leaving the time before which its next holder must
    /// not send (the rate budget and any back-pressure pause). A release
    /// with a token that no longer holds the lane does nothing.
    fn release_lane(
        &self,
        webhook_id: &str,
        token: i64,
        quiet_until_ms: Option<i64>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Records a back-pressure pause of a held lane at once, so a node that
    /// takes the lane over after a crash keeps to it.
    fn hold_lane(
        &self,
        webhook_id: &str,
        token: i64,
        until_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Webhooks whose lane lease expired without being released (their
    /// node died): work some node must take over.
    fn orphaned_lanes(&self, now_ms: i64) -> impl Future<Output = Result<Vec<String>>> + Send;
}

/// The whole contract, and what is asked of the database itself.
/// Recurring schedules: what they emit and which tick is next.
pub trait ScheduleStore: Send + Sync {
    /// Stores a new schedule; a name already used by the tenant is
    /// [`crate::StoreError::UniqueViolation`].
    fn insert_schedule(&self, row: ScheduleRow) -> impl Future<Output = Result<()>> + Send;

    /// Replaces what an edit may change (name, pattern, zone, event,
    /// paused, next tick); false when there is no such schedule.
    fn update_schedule(&self, row: ScheduleRow) -> impl Future<Output = Result<bool>> + Send;

    fn delete_schedule(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    fn get_schedule(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<ScheduleRow>>> + Send;

    /// A tenant's schedules by name.
    fn list_schedules(
        &self,
        tenant_id: &str,
    ) -> impl Future<Output = Result<Vec<ScheduleRow>>> + Send;

    /// Unpaused schedules of every tenant whose next tick is at or before
    /// `now_ms`, the most overdue first.
    fn due_schedules(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ScheduleRow>>> + Send;

    /// The earliest next tick of any unpaused schedule.
    fn next_schedule_due(&self) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// Moves a schedule from one tick to the next, only if its next tick is
    /// still `step.from_ms`: true for the one caller (of any node) that
    /// moved it. A schedule paused meanwhile is moved too (its tick was
    /// emitted, and counts); a resume starts it afresh anyway.
    fn advance_schedule(&self, step: ScheduleAdvance) -> impl Future<Output = Result<bool>> + Send;
}

/// The event type registry: each tenant's event types and how strictly
/// its ingest holds events to their schemas. Every change is written with
/// its audit entry in one transaction and, on a shared database, announced
/// to every node ([`crate::Change::EventTypes`]) so their compiled schemas
/// are read again.
pub trait EventTypeStore: Send + Sync {
    /// Stores a new event type (at version 1); a name the tenant already
    /// uses is [`crate::StoreError::UniqueViolation`].
    fn insert_event_type(
        &self,
        row: EventTypeRow,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Replaces an event type's description, schema, examples and flags,
    /// only if it is still at `row.version - 1` (the version the caller
    /// read); false when it is not (changed meanwhile, or deleted).
    fn update_event_type(
        &self,
        row: EventTypeRow,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Deletes an event type; false when there was none.
    fn delete_event_type(
        &self,
        tenant_id: &str,
        name: &str,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<bool>> + Send;

    fn get_event_type(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<EventTypeRow>>> + Send;

    /// A tenant's event types by name.
    fn list_event_types(
        &self,
        filter: EventTypeFilter,
    ) -> impl Future<Output = Result<Vec<EventTypeRow>>> + Send;

    /// The tenant's schema validation mode as stored (`off`, `warn` or
    /// `reject`); `None` when there is no such tenant.
    fn schema_validation(
        &self,
        tenant_id: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;

    /// Sets the tenant's schema validation mode; false when there is no
    /// such tenant.
    fn set_schema_validation(
        &self,
        tenant_id: &str,
        mode: &str,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// The web console's sign-in sessions and one-time tenant portal links,
/// shared by every node. Tokens are kept only as a SHA-256 of their text,
/// as API keys are. Expired rows are never answered, and
/// [`ConsoleStore::prune_console`] deletes them (call it now and then).
pub trait ConsoleStore: Send + Sync {
    /// Stores a new session; a token hash already stored is
    /// [`crate::StoreError::UniqueViolation`].
    fn insert_console_session(
        &self,
        row: ConsoleSessionRow,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The session with this token hash, if it exists and has not expired
    /// (`expires_at_ms > now_ms`).
    fn find_console_session(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<ConsoleSessionRow>>> + Send;

    /// Ends a session (sign-out), on every node at once; false when there
    /// was none.
    fn delete_console_session(
        &self,
        token_hash: Vec<u8>,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Stores a new portal link with its audit entry, in one transaction.
    fn insert_portal_link(
        &self,
        row: PortalLinkRow,
        audit: AuditEntry,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Uses a portal link up: marks it used and returns it, only if it
    /// exists, was never used and has not expired (`expires_at_ms >
    /// now_ms`); otherwise `None`. One statement, so of several callers
    /// (of any node) redeeming the same link at once exactly one gets it.
    fn redeem_portal_link(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<PortalLinkRow>>> + Send;

    /// Deletes the sessions and portal links (used or not) that expired
    /// at or before `now_ms`; returns how many rows went.
    fn prune_console(&self, now_ms: i64) -> impl Future<Output = Result<usize>> + Send;
}

pub trait Storage:
    EventStore
    + EventTypeStore
    + ConsoleStore
    + DeliveryQueue
    + DeliveryLog
    + WebhookStore
    + TenantStore
    + AuditLog
    + Lanes
    + ScheduleStore
{
    /// The schema version the database is at: the same number means the
    /// same schema on either engine.
    fn schema_version(&self) -> impl Future<Output = Result<u32>> + Send;

    /// Answers when the database answers a query.
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;

    /// Answers when the database takes a write now: one small row,
    /// committed. A database that answers reads but cannot store (its disk
    /// full, say) fails this; a readiness check asks it.
    fn check_writes(&self) -> impl Future<Output = Result<()>> + Send;

    /// Raises (`true`) or clears a server-wide flag (a flag never set is
    /// clear) if it is not so already; answers whether this call changed
    /// it, so of several nodes asking at once exactly one sees `true`.
    fn set_flag(&self, name: &str, raised: bool) -> impl Future<Output = Result<bool>> + Send;
}

/// [`Storage::set_flag`]'s statements, the same on both engines: change
/// the flag if it differs, else create it raised.
pub(crate) const FLAG_CHANGE: &str =
    "UPDATE herald_meta SET value = $2 WHERE name = $1 AND value != $2";
pub(crate) const FLAG_RAISE: &str =
    "INSERT INTO herald_meta (name, value) VALUES ($1, 'true') ON CONFLICT (name) DO NOTHING";

/// A flag's stored value.
pub(crate) fn flag_value(raised: bool) -> &'static str {
    if raised { "true" } else { "false" }
}

/// The row [`Storage::check_writes`] writes: the same SQL on both engines.
pub(crate) const WRITE_CHECK: &str =
    "INSERT INTO herald_meta (name, value) VALUES ('write_check', $1)
     ON CONFLICT (name) DO UPDATE SET value = excluded.value";
