//! The event type registry: names with a JSON Schema for their events'
//! `data`, examples, and deprecated / archived flags; who receives a
//! type; and a tenant's schema validation mode.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Call, Client, Tenant, Time};

/// An event type to register.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewEventType {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A JSON Schema for the events' `data`; it may refer only to itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Value>,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub archived: bool,
}

/// The fields to change; `None` leaves one as it is, `Some(Value::Null)`
/// resets it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventTypePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// A registered event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventType {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub schema: Option<Value>,
    #[serde(default)]
    pub examples: Vec<Value>,
    pub deprecated: bool,
    pub archived: bool,
    pub version: i64,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTypePage {
    pub data: Vec<EventType>,
    pub next_cursor: Option<String>,
}

/// A webhook that receives an event type, and which of its entries match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTypeReceiver {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub status: String,
    pub matched_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTypeReceivers {
    pub event_type: String,
    pub data: Vec<EventTypeReceiver>,
}

/// One way an event's data fails its type's schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaError {
    /// A JSON Pointer into the event's `data`.
    pub pointer: String,
    pub message: String,
}

impl Client {
    /// `POST /event-types`.
    pub fn create_event_type(&self, event_type: &NewEventType) -> Call<EventType> {
        self.api(Method::POST, &["event-types"]).body(event_type)
    }

    /// `GET /event-types`, by name; archived ones only when asked.
    pub fn list_event_types(
        &self,
        include_archived: bool,
        cursor: Option<&str>,
    ) -> Call<EventTypePage> {
        self.api(Method::GET, &["event-types"])
            .query("include_archived", include_archived)
            .query_opt("cursor", cursor)
    }

    /// `GET /event-types/{name}`.
    pub fn get_event_type(&self, name: &str) -> Call<EventType> {
        self.api(Method::GET, &["event-types", name])
    }

    /// `PATCH /event-types/{name}`.
    pub fn update_event_type(&self, name: &str, patch: &EventTypePatch) -> Call<EventType> {
        self.api(Method::PATCH, &["event-types", name]).body(patch)
    }

    /// `DELETE /event-types/{name}`.
    pub fn delete_event_type(&self, name: &str) -> Call<()> {
        self.api(Method::DELETE, &["event-types", name])
    }

    /// `GET /event-types/{name}/webhooks`: who receives the type.
    pub fn event_type_webhooks(&self, name: &str) -> Call<EventTypeReceivers> {
        self.api(Method::GET, &["event-types", name, "webhooks"])
    }

    /// `PATCH /tenants/{id}`: `off`, `warn` or `reject` (admin token).
    pub fn set_schema_validation(&self, tenant_id: &str, mode: &str) -> Call<Tenant> {
        self.api(Method::PATCH, &["tenants", tenant_id])
            .body(&serde_json::json!({"schema_validation": mode}))
    }
}
