//! Herald's pure domain: identifiers, events, webhooks, delivery states, the
//! retry schedule, event-type matching, request signing and which addresses
//! a destination may have. Nothing here does I/O, so every rule can be
//! unit-tested and shared by the store and server.

pub mod delivery;
pub mod event;
pub mod filter;
pub mod ids;
pub mod network;
pub mod retry;
pub mod schedule;
pub mod signing;
pub mod trace;
pub mod validation;
pub mod via;
pub mod webhook;

/// Secret rotation lives with the webhook it changes.
pub use webhook::rotation;

pub use validation::ValidationError;
