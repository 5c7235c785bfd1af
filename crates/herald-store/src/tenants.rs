//! Tenants and their API keys. A key is kept only as a SHA-256 of its
//! text: the database never holds anything that authenticates.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub tenant_id: String,
    /// SHA-256 of the whole key text.
    pub key_hash: Vec<u8>,
    pub created_at_ms: i64,
}
