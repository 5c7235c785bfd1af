//! Herald's application: the REST API, the delivery engine and their
//! configuration, assembled by [`Application`] (`build` binds, `run_until_stopped`
//! serves until the shutdown future resolves; the binary and the tests
//! share that code).
//!
//! How data flows:
//!
//! - **Ingest** (`api::events`): a request is parsed and checked, matched
//!   to its subscribers in the routing table (`registry`), and stored with
//!   one pending delivery per subscriber in one commit; the 202 comes after
//!   the commit, then the subscribers' lanes are woken.
//! - **Delivery** (`dispatch`): one lane per webhook with work claims its
//!   due deliveries from the store (leased before anything is sent), paces
//!   them (`pacer`), sends them (`dispatch::sender`, rendered by the
//!   provider, signed, over checked addresses only), judges each answer
//!   (`dispatch::outcome`) and hands the attempt to the recorder, which
//!   writes attempts in batches. Every attempt, whatever happens to it,
//!   ends recorded (`dispatch::attempt`).
//! - **Webhook state** (`dispatch::webhooks`): the one owner of a webhook's
//!   changes — from the API, the circuit breaker, auto-recovery or another
//!   node — in one order: store, routing table, lane.
//! - **Several nodes** (`dispatch::cluster`): on a shared PostgreSQL
//!   database each webhook's lane runs on the node holding its lease, and
//!   nodes follow each other's changes through the store's notifications.
//! - **Housekeeping**: expired leases are swept (`dispatch::sweep`) and old
//!   events pruned (`retention`).
//!
//! What the server does not own: the domain rules (`herald-core`),
//! rendering and judging per provider (`herald-providers`) and storage
//! (`herald-store`, through its contract). The command line, the
//! benchmark and the test receiver live in the `herald` binary crate and
//! reach a server only over HTTP.

mod analytics;
mod api;
mod app;
mod config;
mod console;
mod dispatch;
mod error;
mod metrics;
mod pacer;
mod redact;
mod registry;
mod retention;
mod schemas;
pub mod telemetry;
mod tokens;

pub use api::openapi::{document as openapi_document, document_text as openapi_text};
pub use app::{ADDRESS_FILE, Application, database_name, migrate};
pub use config::{DnsOverrides, McpHosts};
pub use config::{LogFormat, Role, ServeArgs, Settings, SyncMode};
