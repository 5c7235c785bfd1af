//! Herald's server: the REST API, the delivery worker and their
//! configuration, assembled by [`Application`].

mod api;
mod app;
mod config;
mod dispatch;
mod error;
mod pacer;
mod redact;
mod registry;
mod retention;
pub mod telemetry;
mod tokens;

pub use app::{ADDRESS_FILE, Application, database_name, migrate};
pub use config::DnsOverrides;
pub use config::{LogFormat, Role, ServeArgs, Settings, SyncMode};
