//! The handle callers hold: whichever engine was opened, keeping the
//! contract by forwarding each call to it (static dispatch; the engines'
//! futures are never boxed).

use std::sync::Arc;

use herald_core::delivery::DeliveryStatus;
use herald_core::webhook::Webhook;

use crate::contract::{
    AuditLog, ConsoleStore, DeliveryLog, DeliveryQueue, EventStore, EventTypeStore, Lanes,
    ScheduleStore, Storage, TenantStore, WebhookStore,
};
use crate::rollups::{AnalyticsQuery, AnalyticsRow, WebhookStats};
use crate::sealing::Sealer;
use crate::{
    ApiKeyRow, AttemptRecord, AttemptRow, AuditEntry, AuditFilter, AuditRow, Change, Claim,
    ClaimedDelivery, ConsoleSessionRow, DeliveryFilter, DeliveryRow, EventRow, EventTypeFilter,
    EventTypeRow, Ingest, LaneClaim, MasterKey, NewEvent, PortalLinkRow, PostgresOptions,
    QueueStats, RecordOutcome, RegistrySnapshot, Requeue, Result, ScheduleAdvance, ScheduleRow,
    SqliteOptions, StoreError, TenantRow, postgres, sqlite,
};

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

/// Handle to the database; cheap to clone. Its operations are the
/// contract's traits (`use herald_store::prelude::*`).
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
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
    /// each webhook must be leased (see [`Lanes`]).
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
}

/// Implements a contract trait for [`Store`] by forwarding every method to
/// the open engine (the promises are documented on the trait).
macro_rules! forward {
    ($trait:ident {
        $( fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*
    }) => {
        impl $trait for Store {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &self.backend {
                        Backend::Sqlite(s) => s.$name($($arg),*).await,
                        Backend::Postgres(s) => s.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

forward!(EventStore {
    fn ingest(
        &self,
        tenant_id: &str,
        registry_version: i64,
        events: Vec<NewEvent>,
    ) -> Result<Ingest>;
    fn insert_test_delivery(
        &self,
        tenant_id: &str,
        event: NewEvent,
        webhook_id: &str,
    ) -> Result<ClaimedDelivery>;
    fn get_event(&self, tenant_id: &str, id: &str) -> Result<Option<EventRow>>;
    fn list_events(
        &self,
        tenant_id: &str,
        event_type: Option<String>,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<EventRow>>;
    fn event_deliveries(&self, event_seq: i64) -> Result<Vec<DeliveryRow>>;
    fn cancel_event(&self, tenant_id: &str, event_id: &str, now_ms: i64) -> Result<Option<u64>>;
    fn replay_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        webhook_ids: Vec<(String, Option<String>)>,
        now_ms: i64,
    ) -> Result<Option<u32>>;
    fn prune(&self, before_ms: i64, limit: usize) -> Result<usize>;
});

forward!(EventTypeStore {
    fn insert_event_type(&self, row: EventTypeRow, audit: AuditEntry) -> Result<()>;
    fn update_event_type(&self, row: EventTypeRow, audit: AuditEntry) -> Result<bool>;
    fn delete_event_type(&self, tenant_id: &str, name: &str, audit: AuditEntry) -> Result<bool>;
    fn get_event_type(&self, tenant_id: &str, name: &str) -> Result<Option<EventTypeRow>>;
    fn list_event_types(&self, filter: EventTypeFilter) -> Result<Vec<EventTypeRow>>;
    fn schema_validation(&self, tenant_id: &str) -> Result<Option<String>>;
    fn set_schema_validation(&self, tenant_id: &str, mode: &str, audit: AuditEntry) -> Result<bool>;
});

forward!(ScheduleStore {
    fn insert_schedule(&self, row: ScheduleRow) -> Result<()>;
    fn update_schedule(&self, row: ScheduleRow) -> Result<bool>;
    fn delete_schedule(&self, tenant_id: &str, id: &str) -> Result<bool>;
    fn get_schedule(&self, tenant_id: &str, id: &str) -> Result<Option<ScheduleRow>>;
    fn list_schedules(&self, tenant_id: &str) -> Result<Vec<ScheduleRow>>;
    fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<ScheduleRow>>;
    fn next_schedule_due(&self) -> Result<Option<i64>>;
    fn advance_schedule(&self, step: ScheduleAdvance) -> Result<bool>;
});

forward!(ConsoleStore {
    fn insert_console_session(&self, row: ConsoleSessionRow) -> Result<()>;
    fn find_console_session(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<ConsoleSessionRow>>;
    fn delete_console_session(&self, token_hash: Vec<u8>) -> Result<bool>;
    fn insert_portal_link(&self, row: PortalLinkRow, audit: AuditEntry) -> Result<()>;
    fn redeem_portal_link(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<PortalLinkRow>>;
    fn prune_console(&self, now_ms: i64) -> Result<usize>;
});

forward!(DeliveryQueue {
    fn claim(
        &self,
        webhook_id: &str,
        now_ms: i64,
        limit: usize,
        leased_until_ms: i64,
        ordered: bool,
    ) -> Result<Claim>;
    fn release(&self, seqs: Vec<i64>) -> Result<()>;
    fn record_attempts(&self, records: Vec<AttemptRecord>) -> Result<RecordOutcome>;
    fn next_due(&self, webhook_id: &str) -> Result<Option<i64>>;
    fn webhooks_with_queued_deliveries(&self) -> Result<Vec<String>>;
    fn queue_stats(&self) -> Result<QueueStats>;
    fn oldest_waiting_at(&self, tenant_id: &str) -> Result<Option<i64>>;
    fn recover_interrupted(&self, now_ms: i64) -> Result<usize>;
    fn recover_at_start(&self, now_ms: i64) -> Result<usize>;
    fn requeue_failed(&self, tenant_id: &str, id: &str, now_ms: i64) -> Result<Requeue>;
    fn requeue_failed_between(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        since_ms: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<u64>;
});

forward!(DeliveryLog {
    fn list_deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>>;
    fn get_delivery(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>>;
    fn delivery_counts(&self, tenant_id: &str) -> Result<Vec<(DeliveryStatus, u64)>>;
    fn analytics(&self, query: AnalyticsQuery) -> Result<Vec<AnalyticsRow>>;
    fn webhook_stats(&self, tenant_id: &str, webhook_ids: Vec<String>) -> Result<Vec<WebhookStats>>;
    fn prune_rollups(&self, now_ms: i64) -> Result<usize>;
    fn set_degraded_alert(&self, webhook_id: &str, raised: bool) -> Result<bool>;
});

forward!(WebhookStore {
    fn insert_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<()>;
    fn update_webhook(&self, webhook: &Webhook, audit: AuditEntry) -> Result<bool>;
    fn enable_webhook(
        &self,
        webhook: &Webhook,
        discard_held: bool,
        audit: AuditEntry,
    ) -> Result<Option<u64>>;
    fn delete_webhooks(&self, tenant_id: &str, audits: Vec<AuditEntry>) -> Result<Vec<String>>;
    fn get_webhook(&self, tenant_id: &str, id: &str) -> Result<Option<Webhook>>;
    fn find_webhook(&self, id: &str) -> Result<Option<Webhook>>;
    fn list_webhooks(&self, tenant_id: &str, after_id: Option<String>) -> Result<Vec<Webhook>>;
    fn load_registry(&self) -> Result<RegistrySnapshot>;
    fn registry_version(&self) -> Result<i64>;
});

forward!(TenantStore {
    fn create_tenant(
        &self,
        tenant: TenantRow,
        key: ApiKeyRow,
        audits: Vec<AuditEntry>,
    ) -> Result<()>;
    fn list_tenants(&self) -> Result<Vec<TenantRow>>;
    fn get_tenant(&self, id: &str) -> Result<Option<TenantRow>>;
    fn delete_tenant(&self, id: &str, audits: Vec<AuditEntry>) -> Result<Option<Vec<String>>>;
    fn add_api_key(&self, key: ApiKeyRow, audit: AuditEntry) -> Result<bool>;
    fn revoke_api_key(&self, tenant_id: &str, key_id: &str, audit: AuditEntry) -> Result<bool>;
    fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKeyRow>>;
    fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRow>>;
});

forward!(AuditLog {
    fn list_audit(&self, filter: AuditFilter) -> Result<Vec<AuditRow>>;
});

forward!(Lanes {
    fn acquire_lane(&self, webhook_id: &str, now_ms: i64, ttl_ms: i64) -> Result<LaneClaim>;
    fn renew_lanes(&self, now_ms: i64, ttl_ms: i64) -> Result<Vec<(String, i64)>>;
    fn release_lane(
        &self,
        webhook_id: &str,
        token: i64,
        quiet_until_ms: Option<i64>,
    ) -> Result<()>;
    fn hold_lane(&self, webhook_id: &str, token: i64, until_ms: i64) -> Result<()>;
    fn orphaned_lanes(&self, now_ms: i64) -> Result<Vec<String>>;
});

forward!(Storage {
    fn schema_version(&self) -> Result<u32>;
    fn ping(&self) -> Result<()>;
    fn check_writes(&self) -> Result<()>;
    fn set_flag(&self, name: &str, raised: bool) -> Result<bool>;
});
