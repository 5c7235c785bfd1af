//! Lanes on the embedded database: this process is the only node, so every
//! lane is granted at once. The lanes held are remembered (in memory: they
//! end with the process) because a held lane may keep leased deliveries
//! waiting past their lease, in a batch that is filling or a back-pressure
//! pause, and taking those back would send them twice.

use std::collections::HashMap;
use std::sync::Mutex;

use super::SqliteStore;
use crate::{LaneClaim, Lanes, Result};

/// The lanes held, by webhook, with the token of the holding.
#[derive(Default)]
pub(super) struct Held(Mutex<HashMap<String, i64>>);

impl Held {
    /// The webhooks whose lane is held now.
    pub(super) fn webhooks(&self) -> Vec<String> {
        self.0.lock().expect("lanes lock").keys().cloned().collect()
    }
}

impl Lanes for SqliteStore {
    async fn acquire_lane(
        &self,
        webhook_id: &str,
        _now_ms: i64,
        _ttl_ms: i64,
    ) -> Result<LaneClaim> {
        let token: i64 = rand::random_range(1..i64::MAX);
        let mut held = self.inner.lanes.0.lock().expect("lanes lock");
        held.insert(webhook_id.to_string(), token);
        Ok(LaneClaim::Granted {
            token,
            quiet_until_ms: None,
            recovered: 0,
        })
    }

    async fn renew_lanes(&self, _now_ms: i64, _ttl_ms: i64) -> Result<Vec<(String, i64)>> {
        let held = self.inner.lanes.0.lock().expect("lanes lock");
        Ok(held
            .iter()
            .map(|(id, token)| (id.clone(), *token))
            .collect())
    }

    async fn release_lane(
        &self,
        webhook_id: &str,
        token: i64,
        _quiet_until_ms: Option<i64>,
    ) -> Result<()> {
        let mut held = self.inner.lanes.0.lock().expect("lanes lock");
        if held.get(webhook_id) == Some(&token) {
            held.remove(webhook_id);
        }
        Ok(())
    }

    async fn hold_lane(&self, _webhook_id: &str, _token: i64, _until_ms: i64) -> Result<()> {
        Ok(())
    }

    async fn orphaned_lanes(&self, _now_ms: i64) -> Result<Vec<String>> {
        // A lane of this process is released when its worker ends.
        Ok(Vec::new())
    }
}
