//! Herald's durable store.
//!
//! The database is the truth: events, deliveries (the queue) and attempts
//! (the log) live here, and every acknowledgement waits for a commit. Two
//! engines stand behind one API that speaks only Herald's types:
//!
//! - SQLite ([`sqlite`]), embedded, for one node: a group-committing writer
//!   thread and a pool of readers.
//! - PostgreSQL ([`postgres`]), shared by several nodes: claims with
//!   `FOR UPDATE SKIP LOCKED`, lane leases so each webhook is worked by one
//!   node at a time, and LISTEN/NOTIFY so a node hears of work another
//!   node stored ([`cluster`]).

mod audit;
mod breaker;
mod cluster;
mod postgres;
mod sealing;
mod sqlite;
mod stored_webhook;
mod tenants;
mod types;

use std::sync::Arc;

use herald_core::delivery::DeliveryStatus;
use herald_core::webhook::Webhook;

pub use audit::{AuditEntry, AuditFilter, AuditRow};
pub use cluster::{Change, LaneClaim};
pub use postgres::PostgresOptions;
pub use sealing::MasterKey;
pub use sqlite::{SqliteOptions, Synchronous};
pub use tenants::{ApiKeyRow, TenantRow};
pub use types::*;

use sealing::Sealer;

/// A failure of the store itself (never a client mistake).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Which database to open.
#[derive(Debug, Clone)]
pub enum Engine {
    Sqlite(SqliteOptions),
    Postgres(PostgresOptions),
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub engine: Engine,
    /// Seals the secrets stored in webhook rows.
    pub master_key: MasterKey,
}

impl StoreOptions {
    /// The embedded SQLite database at `path`, with default settings.
    pub fn new(path: impl Into<std::path::PathBuf>, master_key: MasterKey) -> Self {
        Self {
            engine: Engine::Sqlite(SqliteOptions::new(path)),
            master_key,
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Runs the same call on whichever engine is open.
macro_rules! on_backend {
    ($self:ident, $s:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($s) => $call,
            Backend::Postgres($s) => $call,
        }
    };
}

/// The operations both engines implement, forwarded as they are.
macro_rules! delegate {
    ($(
        $(#[$meta:meta])*
        pub async fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;
    )*) => {
        impl Store {
            $(
                $(#[$meta])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    on_backend!(self, s => s.$name($($arg),*).await)
                }
            )*
        }
    };
}

impl Store {
    /// Opens (creating if needed) the database and brings it to the current
    /// schema.
    pub async fn open(options: StoreOptions) -> Result<Store> {
        let sealer = Arc::new(Sealer::new(&options.master_key));
        let backend = match &options.engine {
            Engine::Sqlite(sqlite) => {
                let sqlite = sqlite.clone();
                let store =
                    tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&sqlite, sealer))
                        .await
                        .map_err(|e| {
                            StoreError::Database(format!("cannot open the database: {e}"))
                        })??;
                Backend::Sqlite(store)
            }
            Engine::Postgres(pg) => Backend::Postgres(postgres::PgStore::open(pg, sealer).await?),
        };
        Ok(Store { backend })
    }

    /// True when several nodes may share this database, so the work of
    /// each webhook must be leased (see [`Store::acquire_lane`]).
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Notifications of work and webhook changes stored by any node, for a
    /// shared database; `None` for the embedded one, where this process
    /// stores everything itself.
    pub fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<Change>> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(s) => Some(s.changes()),
        }
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<u32> {
        on_backend!(self, s => s.schema_version().await)
    }

    /// True when the database answers a query.
    pub async fn ping(&self) -> Result<()> {
        on_backend!(self, s => s.ping().await)
    }

    /// Leases the work of one webhook to this node for `ttl_ms`. Only the
    /// holder claims and sends the webhook's deliveries, so its rate limit,
    /// `max_in_flight`, order, back-pressure and batching hold cluster-wide.
    /// A lease whose holder stopped renewing it is taken over, and the
    /// deliveries that holder had leased go back to the queue. On the
    /// embedded database this process is the only node: always granted.
    pub async fn acquire_lane(
        &self,
        webhook_id: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<LaneClaim> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(LaneClaim::Granted {
                token: 0,
                quiet_until_ms: None,
                recovered: 0,
            }),
            Backend::Postgres(s) => s.acquire_lane(webhook_id, now_ms, ttl_ms).await,
        }
    }

    /// Extends every lane lease this node holds; returns the
    /// `(webhook_id, token)` of those it still holds (a lane missing from
    /// the answer was taken over and must stop).
    pub async fn renew_lanes(&self, now_ms: i64, ttl_ms: i64) -> Result<Vec<(String, i64)>> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Vec::new()),
            Backend::Postgres(s) => s.renew_lanes(now_ms, ttl_ms).await,
        }
    }

    /// Gives a lane up, leaving the time before which its next holder must
    /// not send (the rate budget and any back-pressure pause).
    pub async fn release_lane(
        &self,
        webhook_id: &str,
        token: i64,
        quiet_until_ms: Option<i64>,
    ) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(s) => s.release_lane(webhook_id, token, quiet_until_ms).await,
        }
    }

    /// Records a back-pressure pause of a held lane at once, so a node that
    /// takes the lane over after a crash keeps to it.
    pub async fn hold_lane(&self, webhook_id: &str, token: i64, until_ms: i64) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(s) => s.hold_lane(webhook_id, token, until_ms).await,
        }
    }

    /// Webhooks whose lane lease expired without being released (their
    /// node died): work some node must take over.
    pub async fn orphaned_lanes(&self, now_ms: i64) -> Result<Vec<String>> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Vec::new()),
            Backend::Postgres(s) => s.orphaned_lanes(now_ms).await,
        }
    }

    /// Any webhook by id, whatever its tenant (for nodes that learn of a
    /// change by notification).
    pub async fn find_webhook(&self, id: &str) -> Result<Option<Webhook>> {
        on_backend!(self, s => s.find_webhook(id).await)
    }
}

delegate! {
    /// Deletes up to `limit` events created before `before_ms` whose
    /// deliveries are all finished, with those deliveries and their
    /// attempts; returns how many events went. Events with a delivery still
    /// waiting (held by a paused or disabled webhook, say) are kept.
    pub async fn prune(&self, before_ms: i64, limit: usize) -> Result<usize>;
    /// Sends a stored event again: one new pending delivery to each of
    /// `webhook_ids` (with its ordering key, for ordered webhooks). `None`
    /// when the event does not exist.
    pub async fn replay_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        webhook_ids: Vec<(String, Option<String>)>,
        now_ms: i64,
    ) -> Result<Option<u32>>;
    /// Stores events and one pending delivery per matched webhook, in one
    /// transaction: either the whole batch is durable when this returns `Ok`,
    /// or none of it is. An event whose id or idempotency key already exists
    /// stores nothing and answers as it did the first time.
    pub async fn ingest(&self, tenant_id: &str, events: Vec<NewEvent>) -> Result<Vec<Ingested>>;
    /// Stores a test event and its one delivery, already claimed: the caller
    /// sends it at once.
    pub async fn insert_test_delivery(
        &self,
        tenant_id: &str,
        event: NewEvent,
        webhook_id: &str,
    ) -> Result<ClaimedDelivery>;
    pub async fn get_event(&self, tenant_id: &str, id: &str) -> Result<Option<EventRow>>;
    /// A tenant's events, newest first.
    pub async fn list_events(
        &self,
        tenant_id: &str,
        event_type: Option<String>,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<EventRow>>;
    /// The deliveries of one event (its per-webhook summary).
    pub async fn event_deliveries(&self, event_seq: i64) -> Result<Vec<DeliveryRow>>;
    /// Takes up to `limit` due deliveries of one webhook, oldest first, and
    /// leases them until `leased_until_ms`. The lease is committed before
    /// this returns, so a crash during the send leaves a record to recover.
    /// When fewer than `limit` were due, also says when the next waiting
    /// one falls due, so the caller knows how long it may sleep. For an
    /// `ordered` webhook only the oldest unfinished delivery of each
    /// ordering key is eligible, so a failing head holds back the rest of
    /// its key.
    pub async fn claim(
        &self,
        webhook_id: &str,
        now_ms: i64,
        limit: usize,
        leased_until_ms: i64,
        ordered: bool,
    ) -> Result<Claim>;
    /// Returns leased deliveries that were never sent to the queue, keeping
    /// their place (e.g. when their webhook is paused while they wait).
    pub async fn release(&self, seqs: Vec<i64>) -> Result<()>;
    /// Records finished attempts and their consequences: the deliveries' new state,
    /// the circuit breaker's count, and the webhooks it disables. An attempt
    /// whose delivery was deleted meanwhile is dropped.
    pub async fn record_attempts(&self, records: Vec<AttemptRecord>) -> Result<RecordOutcome>;
    /// When the next waiting delivery of a webhook falls due, if any.
    pub async fn next_due(&self, webhook_id: &str) -> Result<Option<i64>>;
    /// Webhooks with deliveries waiting (due or not).
    pub async fn webhooks_with_queued_deliveries(&self) -> Result<Vec<String>>;
    /// Puts deliveries whose attempt was interrupted back in the queue, due
    /// now; an interrupted test send is failed instead, since nobody awaits
    /// it. On SQLite, for a store no other process uses (at start): every
    /// lease is from a previous run. On a shared database, only leases that
    /// ran out while no live node holds their webhook's lane: safe on every
    /// node at any time.
    pub async fn recover_interrupted(&self, now_ms: i64) -> Result<usize>;
    /// Re-queues a failed delivery with a fresh retry schedule.
    pub async fn requeue_failed(&self, tenant_id: &str, id: &str, now_ms: i64) -> Result<Requeue>;
    /// Re-queues a webhook's failed deliveries that failed within
    /// `[since_ms, until_ms]`, each with a fresh retry schedule; returns how
    /// many.
    pub async fn requeue_failed_between(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        since_ms: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<u64>;
    /// Deliveries matching a filter, newest first.
    pub async fn list_deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>>;
    /// One delivery and its attempts, oldest first.
    pub async fn get_delivery(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>>;
    /// How many of a tenant's deliveries are in each state.
    pub async fn delivery_counts(&self, tenant_id: &str) -> Result<Vec<(DeliveryStatus, u64)>>;
    pub async fn insert_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<()>;
    /// Replaces a webhook; false when it no longer exists.
    pub async fn update_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<bool>;
    /// Replaces a webhook being enabled again: its failure count starts over
    /// and, with `discard_held`, the deliveries it held are closed as
    /// `skipped`. Returns how many were discarded, or `None` when the
    /// webhook no longer exists.
    pub async fn enable_webhook(
        &self,
        webhook: &Webhook,
        discard_held: bool,
        audit: AuditEntry,
    ) -> Result<Option<u64>>;
    /// Deletes webhooks with their deliveries and attempts; returns the ids
    /// that existed. `audits` holds one entry per id asked for; only those
    /// of webhooks that existed are recorded.
    pub async fn delete_webhooks(
        &self,
        tenant_id: &str,
        audits: Vec<AuditEntry>,
    ) -> Result<Vec<String>>;
    pub async fn get_webhook(&self, tenant_id: &str, id: &str) -> Result<Option<Webhook>>;
    /// A tenant's webhooks with ids after `after_id`, oldest first.
    pub async fn list_webhooks(
        &self,
        tenant_id: &str,
        after_id: Option<String>,
    ) -> Result<Vec<Webhook>>;
    /// Every webhook of every tenant, for the in-memory routing table.
    pub async fn all_webhooks(&self) -> Result<Vec<Webhook>>;
    /// Creates a tenant with its first key.
    pub async fn create_tenant(
        &self,
        tenant: TenantRow,
        key: ApiKeyRow,
        audits: Vec<AuditEntry>,
    ) -> Result<()>;
    pub async fn list_tenants(&self) -> Result<Vec<TenantRow>>;
    pub async fn get_tenant(&self, id: &str) -> Result<Option<TenantRow>>;
    /// Deletes a tenant with its keys, webhooks, events, deliveries and
    /// attempts (its audit entries stay). Returns the deleted webhooks' ids,
    /// or `None` when the tenant did not exist.
    pub async fn delete_tenant(
        &self,
        id: &str,
        audits: Vec<AuditEntry>,
    ) -> Result<Option<Vec<String>>>;
    /// Adds a key to a tenant; false when the tenant does not exist.
    pub async fn add_api_key(&self, key: ApiKeyRow, audit: AuditEntry) -> Result<bool>;
    /// Revokes a tenant's key; false when there is no such key.
    pub async fn revoke_api_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        audit: AuditEntry,
    ) -> Result<bool>;
    /// A tenant's keys (ids and creation times; the hashes are of no use to
    /// a reader but come along).
    pub async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKeyRow>>;
    /// The live key with this id, if any.
    pub async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRow>>;
    pub async fn list_audit(&self, filter: AuditFilter) -> Result<Vec<AuditRow>>;
}
