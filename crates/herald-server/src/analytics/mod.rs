//! Delivery analytics and webhook health, computed from the store's
//! rollups (see `herald_store::rollups`): the figures the API answers, the
//! health of each webhook, and the degradation alerts.

pub(crate) mod health;
mod report;

pub(crate) use report::{Breakdown, figures_json, metrics_json, round_ms, success_rate};
