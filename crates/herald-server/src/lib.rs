//! Herald's server: the REST API, the delivery worker and their
//! configuration, assembled by [`Application`].

mod api;
mod app;
mod bench;
pub mod cli;
mod config;
mod dispatch;
mod error;
mod pacer;
mod receiver;
mod redact;
mod registry;
mod retention;
mod telemetry;

pub use app::Application;
pub use config::{LogFormat, Role, ServeArgs, Settings, SyncMode};
pub use dispatch::DnsOverrides;
