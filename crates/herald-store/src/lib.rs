//! Herald's durable store.
//!
//! The database is the truth: events, deliveries (the queue) and attempts
//! (the log) live here, and every acknowledgement waits for a commit. One
//! contract ([`contract`], the traits [`prelude`] brings in) is kept by two
//! engines and speaks only Herald's types:
//!
//! - SQLite (`sqlite`), embedded, for one node: a group-committing writer
//!   thread and a pool of readers.
//! - PostgreSQL (`postgres`), shared by several nodes: claims with
//!   `FOR UPDATE SKIP LOCKED`, lane leases so each webhook is worked by one
//!   node at a time, and LISTEN/NOTIFY so a node hears of work another
//!   node stored ([`Change`]).
//!
//! [`Store`] is the handle callers hold, on whichever engine was opened.

mod audit;
mod breaker;
mod cluster;
pub mod contract;
mod error;
mod event_types;
mod key_check;
mod leases;
mod migrations;
mod postgres;
mod queue_stats;
mod recording;
mod registry;
pub mod rollups;
mod schedules;
mod sealing;
mod sqlite;
mod store;
mod stored_webhook;
mod tenants;
mod types;

pub use audit::{AuditEntry, AuditFilter, AuditRow};
pub use cluster::{Change, LaneClaim};
pub use contract::{
    AuditLog, ConsoleStore, DeliveryLog, DeliveryQueue, EventStore, EventTypeStore, Lanes,
    ScheduleStore, Storage, TenantStore, WebhookStore,
};
pub use error::StoreError;
pub use event_types::{EventTypeFilter, EventTypeRow};
pub use postgres::PostgresOptions;
pub use registry::{Ingest, RegistrySnapshot};
pub use schedules::{ScheduleAdvance, ScheduleRow};
pub use sealing::MasterKey;
pub use sqlite::{SqliteOptions, Synchronous};
pub use store::{Engine, Store, StoreOptions};
pub use tenants::{ApiKeyRow, TenantRow};
pub use types::*;

/// The storage contract's traits, for callers of [`Store`]:
/// `use herald_store::prelude::*;`.
pub mod prelude {
    pub use crate::contract::{
        AuditLog, ConsoleStore, DeliveryLog, DeliveryQueue, EventStore, EventTypeStore, Lanes,
        ScheduleStore, Storage, TenantStore, WebhookStore,
    };
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
