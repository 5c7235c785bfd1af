//! Tenants and their API keys (admin token only).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::{Call, Client, List, Time};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// `off`, `warn` or `reject`: how ingest holds events to their schema.
    #[serde(default)]
    pub schema_validation: Option<String>,
    pub created_at: Time,
}

/// A new tenant with its first key; `api_key` is shown only here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantCreated {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub api_key: String,
    pub api_key_id: String,
}

/// A tenant with its keys (their texts are never shown again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantDetail {
    #[serde(flatten)]
    pub tenant: Tenant,
    #[serde(default)]
    pub keys: Vec<ApiKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: String,
    pub created_at: Time,
}

/// A new key; `api_key` is shown only here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub key: ApiKey,
    pub api_key: String,
}

/// What a portal link may do; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PortalLinkRequest {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Console sections (`webhooks`, `deliveries`, `events`,
    /// `event_types`, `schedules`, `audit`); `None`: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_seconds: Option<u64>,
}

/// A one-time console address scoped to a tenant; shown only here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalLink {
    /// The full address, from the host the request used.
    pub url: Option<String>,
    pub path: String,
    pub tenant_id: String,
    pub read_only: bool,
    pub features: Option<Vec<String>>,
    pub expires_at: Time,
    pub session_seconds: u64,
}

impl Client {
    /// `POST /tenants`.
    pub fn create_tenant(&self, name: &str) -> Call<TenantCreated> {
        self.api(Method::POST, &["tenants"])
            .body(&serde_json::json!({ "name": name }))
    }

    /// `GET /tenants`.
    pub fn list_tenants(&self) -> Call<List<Tenant>> {
        self.api(Method::GET, &["tenants"])
    }

    /// `GET /tenants/{id}`, with its keys.
    pub fn get_tenant(&self, id: &str) -> Call<TenantDetail> {
        self.api(Method::GET, &["tenants", id])
    }

    /// `DELETE /tenants/{id}`: with its keys, webhooks, events and
    /// deliveries.
    pub fn delete_tenant(&self, id: &str) -> Call<()> {
        self.api(Method::DELETE, &["tenants", id])
    }

    /// `POST /tenants/{id}/keys`: another key.
    pub fn add_key(&self, tenant_id: &str) -> Call<ApiKeyCreated> {
        self.api(Method::POST, &["tenants", tenant_id, "keys"])
    }

    /// `DELETE /tenants/{id}/keys/{key_id}`: effective on the next request.
    pub fn revoke_key(&self, tenant_id: &str, key_id: &str) -> Call<()> {
        self.api(Method::DELETE, &["tenants", tenant_id, "keys", key_id])
    }

    /// `POST /tenants/{id}/portal-links`: a one-time console address.
    pub fn create_portal_link(
        &self,
        tenant_id: &str,
        request: &PortalLinkRequest,
    ) -> Call<PortalLink> {
        self.api(Method::POST, &["tenants", tenant_id, "portal-links"])
            .body(request)
    }
}
