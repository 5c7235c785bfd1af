//! Deliveries (one event to one webhook) and their attempts.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::analytics::rfc3339;
use crate::open_enum::open_enum;
use crate::{Call, Client, Page, Time};

open_enum! {
    pub enum DeliveryStatus {
        Scheduled = "scheduled",
        Pending = "pending",
        Delivering = "delivering",
        Retrying = "retrying",
        Delivered = "delivered",
        Failed = "failed",
        Skipped = "skipped",
        Cancelled = "cancelled",
    }
}

open_enum! {
    /// What one attempt led to.
    pub enum AttemptOutcome {
        Success = "success",
        Retry = "retry",
        Failed = "failed",
        Skipped = "skipped",
    }
}

open_enum! {
    /// Why an attempt failed.
    pub enum ErrorCategory {
        Timeout = "timeout",
        Connect = "connect",
        Dns = "dns",
        Tls = "tls",
        Http3xx = "http_3xx",
        Http4xx = "http_4xx",
        Http5xx = "http_5xx",
        Response = "response",
        Request = "request",
        Render = "render",
        Smtp = "smtp",
        ProviderDisabled = "provider_disabled",
        BlockedDestination = "blocked_destination",
        Internal = "internal",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    #[serde(default)]
    pub event_type: String,
    pub webhook_id: String,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub attempt_count: u32,
    #[serde(default)]
    pub next_attempt_at: Option<Time>,
    #[serde(default)]
    pub last_status_code: Option<u16>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub test: bool,
    pub created_at: Time,
    pub updated_at: Time,
    #[serde(default)]
    pub delivered_at: Option<Time>,
}

/// A delivery with its attempts, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: Delivery,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
}

/// One request Herald made, and what came back. Secret request headers
/// are masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: String,
    pub number: u32,
    pub started_at: Time,
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub response_headers: Option<BTreeMap<String, String>>,
    /// Cut at 32 KiB; bytes that are not UTF-8 appear as U+FFFD.
    #[serde(default)]
    pub response_body: Option<String>,
    #[serde(default)]
    pub error_category: Option<ErrorCategory>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub request_headers: Option<BTreeMap<String, String>>,
    pub outcome: AttemptOutcome,
    #[serde(default)]
    pub test: bool,
}

/// Filters of `GET /deliveries`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub webhook_id: Option<String>,
    pub event_id: Option<String>,
    /// Only deliveries of events of exactly this type.
    pub event_type: Option<String>,
    /// Only deliveries created at this time or later.
    pub since: Option<Time>,
    /// Only deliveries created before this time.
    pub until: Option<Time>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl Client {
    /// `GET /deliveries`, newest first.
    pub fn list_deliveries(&self, filter: &DeliveryFilter) -> Call<Page<Delivery>> {
        self.api(Method::GET, &["deliveries"])
            .query_opt("status", filter.status.as_ref())
            .query_opt("webhook_id", filter.webhook_id.as_ref())
            .query_opt("event_id", filter.event_id.as_ref())
            .query_opt("event_type", filter.event_type.as_ref())
            .query_opt("since", filter.since.as_ref().map(rfc3339))
            .query_opt("until", filter.until.as_ref().map(rfc3339))
            .query_opt("limit", filter.limit)
            .query_opt("cursor", filter.cursor.as_ref())
    }

    /// `GET /deliveries/{id}`, with its attempts.
    pub fn get_delivery(&self, id: &str) -> Call<DeliveryDetail> {
        self.api(Method::GET, &["deliveries", id])
    }

    /// `POST /deliveries/{id}/retry`: re-queues a `failed` delivery.
    pub fn retry_delivery(&self, id: &str) -> Call<Delivery> {
        self.api(Method::POST, &["deliveries", id, "retry"])
    }
}
