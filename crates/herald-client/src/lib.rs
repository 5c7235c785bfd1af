//! A typed async client of Herald's REST API (`/api/v1`), and the
//! receiver's side of Herald's signatures ([`verify`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), herald_client::Error> {
//! use herald_client::{Client, ClientConfig, NewEvent, NewWebhook};
//!
//! let client = Client::new(ClientConfig::new("http://127.0.0.1:8080").token("…"))?;
//! let hook = client
//!     .create_webhook(&NewWebhook::new("ci", "https://example.com/hook"))
//!     .await?;
//! let sent = client
//!     .send_event(&NewEvent::new("training.complete", serde_json::json!({"accuracy": 0.97})))
//!     .idempotency_key("run-42")
//!     .await?;
//! println!("{} matched {} webhook(s); secret {:?}", sent.id, sent.deliveries, hook.secret);
//! # Ok(()) }
//! ```
//!
//! Every method returns a [`Call`]: await it for the typed answer, or call
//! [`Call::json`] for the API's JSON exactly as it came. Answers tolerate
//! fields and enum values this version does not know, so a newer server
//! does not break an older client. Failures are an [`Error`]; an answer of
//! the API's own `{"error": {…}}` shape is [`Error::Api`] with that body,
//! and [`Error::kind`] sorts every failure into an [`ErrorKind`].

mod call;
mod client;
mod error;
mod open_enum;
pub mod verify;

mod analytics;
mod deliveries;
mod event_types;
mod events;
mod operations;
mod schedules;
mod tenants;
mod webhooks;

pub use analytics::*;
pub use call::Call;
pub use client::{Client, ClientConfig};
pub use deliveries::*;
pub use error::{ApiError, Error, ErrorDetail, ErrorKind};
pub use event_types::*;
pub use events::*;
pub use operations::*;
pub use schedules::*;
pub use tenants::*;
pub use verify::{Scheme, Verified, VerifyError, verify};
pub use webhooks::*;

/// A page of a list route: pass `next_cursor` back as the next request's
/// `cursor`; `None` means there is no more.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// An answer that is a whole list, without pages (`{"data": [...]}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

/// Times as the API writes them (RFC 3339, UTC).
pub type Time = chrono::DateTime<chrono::Utc>;
