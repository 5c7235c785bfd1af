//! Herald's durable store.
//!
//! The database is the truth: events, deliveries (the queue) and attempts
//! (the log) live here, and every acknowledgement waits for a commit. The
//! embedded engine is SQLite in WAL mode behind one writer thread that
//! group-commits: many requests' writes share one transaction, which is how
//! ingest reaches tens of thousands of rows per second with durability.
//! Reads run on a small pool of read-only connections.
//!
//! The public API is async and speaks only Herald's types, so another engine
//! can stand behind it.

mod audit;
mod connection;
mod deliveries;
mod events;
mod schema;
mod sealing;
mod tenants;
mod types;
mod webhooks;

pub use audit::{AuditEntry, AuditFilter, AuditRow};
pub use connection::{Store, StoreOptions, Synchronous};
pub use sealing::MasterKey;
pub use tenants::{ApiKeyRow, TenantRow};
pub use types::*;

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

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
