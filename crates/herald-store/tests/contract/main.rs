//! The storage contract, checked on both engines: every behaviour is
//! written once and run as `<module>::sqlite::<name>` against a fresh
//! SQLite file and as `<module>::postgres::<name>` against a fresh
//! PostgreSQL database (see [`harness`]). What exists on one engine only
//! (lane leases on PostgreSQL, rows from SQLite-era releases) runs there.

#[macro_use]
mod harness;
mod fixtures;

mod breaker;
mod console;
mod errors;
mod event_types;
mod events;
mod hostile;
mod key_check;
mod lanes;
mod leases;
mod log_filters;
mod queue;
mod registry;
mod rollups;
mod scheduled;
mod schema;
mod tenants;
mod versions;
mod webhooks;
