//! The rest of the API: the provider catalog, the audit log, health and
//! readiness, and the OpenAPI document.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Call, Client, List, Page, Time};

/// One provider of the catalog: what a form needs to configure it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub url: UrlInfo,
    #[serde(default)]
    pub settings: Vec<SettingInfo>,
    #[serde(default)]
    pub limits: Vec<LimitInfo>,
    #[serde(default)]
    pub default_rate_limit: Option<ProviderRateLimit>,
    /// False when the server switched the provider off.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlInfo {
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub setting_type: String,
    #[serde(default)]
    pub default: Value,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitInfo {
    pub name: String,
    pub value: u64,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderRateLimit {
    pub per_second: f64,
}

/// One change in the audit log; `before`/`after` are the resource as the
/// API showed it, secrets masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    /// `admin`, an API key id, or `system`.
    pub actor: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    #[serde(default)]
    pub before: Value,
    #[serde(default)]
    pub after: Value,
    pub created_at: Time,
}

/// Filters of `GET /audit`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Only changes to this webhook, tenant or key.
    pub resource_id: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `/healthz` and `/readyz`: `ok`, `ready`, or `unavailable` with a
/// `reason`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Client {
    /// `GET /providers`: the integration catalog.
    pub fn providers(&self) -> Call<List<ProviderInfo>> {
        self.api(Method::GET, &["providers"])
    }

    /// `GET /audit`: the tenant's changes, newest first.
    pub fn audit(&self, filter: &AuditFilter) -> Call<Page<AuditEntry>> {
        self.api(Method::GET, &["audit"])
            .query_opt("resource_id", filter.resource_id.as_ref())
            .query_opt("limit", filter.limit)
            .query_opt("cursor", filter.cursor.as_ref())
    }

    /// `GET /healthz`: the process is up (no token needed).
    pub fn healthz(&self) -> Call<Status> {
        self.plain(Method::GET, &["healthz"])
    }

    /// `GET /readyz`: whether the node takes work. A 503 is an answer
    /// here (`status: unavailable` and its `reason`), not an error.
    pub fn readyz(&self) -> Call<Status> {
        self.plain(Method::GET, &["readyz"]).answer_statuses(&[503])
    }

    /// `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 document.
    pub fn openapi(&self) -> Call<Value> {
        self.plain(Method::GET, &["api", "v1", "openapi.json"])
    }
}
