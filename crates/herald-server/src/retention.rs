//! Retention: finished events, their deliveries and attempts older than the
//! retention period are deleted in the background, in small batches (one
//! short transaction each, with a pause between) so the sweep never holds
//! up ingest or delivery.

use std::time::Duration;

use herald_store::Store;
use herald_store::prelude::*;

/// Events deleted per transaction.
const BATCH: usize = 500;
/// Pause between two batches of one sweep.
const BREATHER: Duration = Duration::from_millis(20);

/// Sweeps every `every`, deleting what is older than `keep`.
pub(crate) async fn sweep_forever(store: Store, keep: Duration, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let before = herald_store::now_ms() - keep.as_millis() as i64;
        let mut pruned = 0;
        loop {
            match store.prune(before, BATCH).await {
                Ok(n) => {
                    pruned += n;
                    if n < BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "retention sweep failed; retrying at the next one");
                    break;
                }
            }
            tokio::time::sleep(BREATHER).await;
        }
        // Rollups outlive the raw rows, by their own keeping times.
        if let Err(e) = store.prune_rollups(herald_store::now_ms()).await {
            tracing::error!(error = %e, "pruning old rollups failed; retrying at the next sweep");
        }
        if pruned > 0 {
            tracing::info!(
                events = pruned,
                "retention: deleted old events and their deliveries"
            );
        }
    }
}
