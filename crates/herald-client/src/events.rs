//! Events: sending one or a batch, reading them back, replaying one.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Call, Client, DeliveryStatus, Page, Time};

/// An event to send. `data` is the application's own JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Your own id (1–255 of `A-Za-z0-9_.:-`): sending it again returns
    /// the first answer and stores nothing new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Deliver at this time (at most 90 days ahead) instead of at once;
    /// cancellable until then ([`Client::cancel_event`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_at: Option<Time>,
    /// Deliver this many milliseconds after sending (not with `deliver_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

impl NewEvent {
    pub fn new(event_type: impl Into<String>, data: Value) -> Self {
        Self {
            event_type: event_type.into(),
            data: Some(data),
            id: None,
            source: None,
            deliver_at: None,
            delay_ms: None,
        }
    }
    pub fn deliver_at(mut self, at: Time) -> Self {
        self.deliver_at = Some(at);
        self
    }
    pub fn delay_ms(mut self, delay_ms: u64) -> Self {
        self.delay_ms = Some(delay_ms);
        self
    }
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
}

/// The answer to a sent event, given once it is committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    pub id: String,
    /// How many webhooks it matched.
    pub deliveries: u64,
    /// True when its type is registered as deprecated.
    #[serde(default)]
    pub deprecated: bool,
    /// How its data failed its type's schema (`warn` mode).
    #[serde(default)]
    pub schema_errors: Option<Vec<crate::SchemaError>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchAccepted {
    /// One answer per event, in request order.
    pub data: Vec<Accepted>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub data: Value,
    pub created_at: Time,
    /// The time it was sent for, when its deliveries waited until then.
    #[serde(default)]
    pub deliver_at: Option<Time>,
    /// How its data failed its type's schema when accepted in `warn` mode.
    #[serde(default)]
    pub schema_errors: Option<Vec<crate::SchemaError>>,
}

/// An event with a line per delivery it made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: Event,
    #[serde(default)]
    pub deliveries: Vec<DeliverySummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub delivery_id: String,
    pub webhook_id: String,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub attempt_count: u32,
    #[serde(default)]
    pub last_status_code: Option<u16>,
    #[serde(default)]
    pub test: bool,
}

/// Filters of `GET /events`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    pub event_id: String,
    pub deliveries: u64,
    #[serde(default)]
    pub webhook_ids: Vec<String>,
}

/// What cancelling a scheduled event did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cancelled {
    pub id: String,
    /// How many scheduled deliveries were cancelled.
    pub cancelled: u64,
}

impl Call<Accepted> {
    /// Sends `Idempotency-Key`: the same key again returns the first
    /// answer and stores nothing new.
    pub fn idempotency_key(self, key: &str) -> Self {
        self.header("Idempotency-Key", key)
    }
}

impl Client {
    /// `POST /events`.
    pub fn send_event(&self, event: &NewEvent) -> Call<Accepted> {
        self.api(Method::POST, &["events"]).body(event)
    }

    /// `POST /events/batch`: 1–1,000 events, all stored or none.
    pub fn send_events(&self, events: &[NewEvent]) -> Call<BatchAccepted> {
        self.api(Method::POST, &["events", "batch"])
            .body(&serde_json::json!({ "events": events }))
    }

    /// `GET /events`, newest first.
    pub fn list_events(&self, filter: &EventFilter) -> Call<Page<Event>> {
        self.api(Method::GET, &["events"])
            .query_opt("type", filter.event_type.as_ref())
            .query_opt("limit", filter.limit)
            .query_opt("cursor", filter.cursor.as_ref())
    }

    /// `GET /events/{id}`, with its deliveries.
    pub fn get_event(&self, id: &str) -> Call<EventDetail> {
        self.api(Method::GET, &["events", id])
    }

    /// `POST /events/{id}/replay`: to every webhook subscribed now, or to
    /// `webhook_ids`.
    pub fn replay_event(&self, id: &str, webhook_ids: Option<&[String]>) -> Call<Replayed> {
        let call = self.api(Method::POST, &["events", id, "replay"]);
        match webhook_ids {
            Some(ids) => call.body(&serde_json::json!({ "webhook_ids": ids })),
            None => call,
        }
    }

    /// `POST /events/{id}/cancel`: its deliveries still `scheduled` are
    /// cancelled (409 `not_scheduled` when none is left).
    pub fn cancel_event(&self, id: &str) -> Call<Cancelled> {
        self.api(Method::POST, &["events", id, "cancel"])
    }
}
