//! Herald's integration tests, as one test binary (one link of the whole
//! stack instead of one per file). Each module tests one capability against
//! the real server: in process ([`common::TestServer`]) or as the real
//! binary ([`common::binary`]), delivering over real HTTP to receivers on
//! loopback, on SQLite or, with `HERALD_TEST_DATABASE`, on PostgreSQL.

mod common;

mod address_file;
mod analytics;
mod auth_and_errors;
mod batching;
mod circuit_breaker;
mod cli;
mod client;
mod cluster;
mod console;
mod delivery;
mod email;
mod event_types;
mod filters;
mod flow_control;
mod full_disk;
mod fuzz;
mod hostile;
mod integrations;
mod layout;
mod listen;
mod mcp;
mod metrics;
mod migrate;
mod openapi;
mod ordering;
mod replay;
mod restart;
mod retention;
mod rotation;
mod scheduling;
mod schemathesis;
mod secrets;
mod signing;
mod soak;
mod ssrf;
mod tenancy;
mod tracing;
mod transforms;
mod webhooks_api;
