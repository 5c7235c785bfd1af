//! The registry version, the same on every engine: a counter of changes to
//! the set of webhooks (a webhook made, changed, enabled, disabled by the
//! breaker or deleted, a tenant deleted with its webhooks), moved on in the
//! same transaction as the change. A caller routes events with an
//! in-memory copy of the webhooks loaded at some version; ingest compares
//! that version with the stored one inside its own transaction and stores
//! nothing when the webhooks changed since, so no event is matched against
//! a registry that misses a webhook made before it was posted.

use herald_core::webhook::Webhook;

use crate::NewEvent;

/// Moves the version on (plain SQL, the same on either engine).
pub(crate) const BUMP: &str = "UPDATE herald_registry SET version = version + 1";

/// Reads the version.
pub(crate) const READ: &str = "SELECT version FROM herald_registry";

/// Every webhook and the registry version they are at, read together.
#[derive(Debug, Clone)]
pub struct RegistrySnapshot {
    pub version: i64,
    pub webhooks: Vec<Webhook>,
}

/// The answer to an ingest.
#[derive(Debug)]
pub enum Ingest {
    /// Stored (or answered as first stored): one answer per event, in order.
    Stored(Vec<crate::Ingested>),
    /// The webhooks changed since the version the events were matched
    /// against: nothing was stored. The events come back to be matched
    /// again against the registry at `current`.
    Stale { current: i64, events: Vec<NewEvent> },
}
