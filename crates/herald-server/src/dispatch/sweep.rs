//! Takes back delivery leases that ran out while this node runs: an
//! attempt whose sender stalled or died, or whose record could not be
//! written, goes back to the queue and its lane is woken (the store's
//! `recover_interrupted` says which leases qualify). Runs on every node that
//! delivers, on either engine.

use std::sync::Arc;
use std::time::Duration;

use herald_store::now_ms;
use herald_store::prelude::*;

use super::{Inner, wake};

/// How often leases are looked at: a lost attempt waits at most this long
/// beyond its lease.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

pub(super) fn start(inner: &Arc<Inner>) {
    inner.tasks.spawn(sweep(inner.clone()));
}

async fn sweep(inner: Arc<Inner>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = inner.shutdown.cancelled() => return,
        }
        match inner.store.recover_interrupted(now_ms()).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(requeued = n, "re-queued deliveries whose lease ran out");
                // A shared database tells every node itself.
                if !inner.store.is_shared() {
                    wake_queued(&inner).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot take back leases that ran out"),
        }
    }
}

/// Wakes every lane with work waiting, the re-queued deliveries' among them.
async fn wake_queued(inner: &Arc<Inner>) {
    match inner.store.webhooks_with_queued_deliveries().await {
        Ok(webhooks) => webhooks.iter().for_each(|id| wake(inner, id)),
        Err(e) => tracing::error!(error = %e, "cannot look for waiting deliveries"),
    }
}
