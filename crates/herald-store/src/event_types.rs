//! The event type registry as stored: per tenant, a name with its
//! description, an optional JSON Schema for the events' `data`, examples,
//! and the deprecated and archived flags; and each tenant's schema
//! validation mode. Compiling and applying schemas is the server's job;
//! the store keeps the text and the versions a cache is keyed by.

/// An event type as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypeRow {
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    /// The JSON Schema of the events' `data`, as JSON text; `None`: any.
    pub schema: Option<String>,
    /// The examples, a JSON array as text.
    pub examples: String,
    pub deprecated: bool,
    pub archived: bool,
    /// 1 when created, one more for every change.
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// The columns every read selects, in [`EventTypeRow`]'s order.
pub(crate) const COLUMNS: &str = "tenant_id, name, description, schema, examples, deprecated, \
     archived, version, created_at, updated_at";

/// Which of a tenant's event types a list shows.
#[derive(Debug, Clone, Default)]
pub struct EventTypeFilter {
    pub tenant_id: String,
    /// Only names after this one (the cursor).
    pub after_name: Option<String>,
    pub include_archived: bool,
    pub limit: usize,
}
