//! Lanes on the embedded database: this process is the only node, so every
//! lane is granted at once and nothing needs keeping.

use super::SqliteStore;
use crate::{LaneClaim, Lanes, Result};

impl Lanes for SqliteStore {
    async fn acquire_lane(
        &self,
        _webhook_id: &str,
        _now_ms: i64,
        _ttl_ms: i64,
    ) -> Result<LaneClaim> {
        Ok(LaneClaim::Granted {
            token: 0,
            quiet_until_ms: None,
            recovered: 0,
        })
    }

    async fn renew_lanes(&self, _now_ms: i64, _ttl_ms: i64) -> Result<Vec<(String, i64)>> {
        Ok(Vec::new())
    }

    async fn release_lane(
        &self,
        _webhook_id: &str,
        _token: i64,
        _quiet_until_ms: Option<i64>,
    ) -> Result<()> {
        Ok(())
    }

    async fn hold_lane(&self, _webhook_id: &str, _token: i64, _until_ms: i64) -> Result<()> {
        Ok(())
    }

    async fn orphaned_lanes(&self, _now_ms: i64) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}
