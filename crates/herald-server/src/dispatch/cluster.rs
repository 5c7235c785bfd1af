//! Working with other nodes on a shared database.
//!
//! Each webhook's lane runs on one node at a time, the holder of its lane
//! lease in the store; that is what keeps a webhook's rate limit,
//! `max_in_flight`, order, back-pressure and batching whole across nodes.
//! This module takes and gives up those leases, renews the ones held,
//! takes over those of nodes that died, and follows what other nodes store
//! (new work, changed webhooks) through the store's notifications. On the
//! embedded database every lease is granted at once and nothing here runs
//! in the background. (Delivery leases that run out are the sweep's.)

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use herald_store::prelude::*;
use herald_store::{Change, LaneClaim, now_ms};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::{Inner, LaneSignal, wake};

/// How long a lane lease lasts without renewal: how soon a dead node's
/// webhooks are taken over.
const LANE_TTL: Duration = Duration::from_secs(5);
/// How often a node renews its leases and looks for orphaned ones.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// How long a lane waits before asking the store again after an error.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// The lease a lane holds.
pub(super) struct Holding {
    pub(super) token: i64,
    /// Nothing may be sent before this (what the last holder left).
    pub(super) quiet_until: Option<Instant>,
}

/// Takes the webhook's lane lease for this node. `None` when another node
/// holds it (that node does the work) or when shutting down.
pub(super) async fn take_lane(
    inner: &Arc<Inner>,
    webhook_id: &str,
    signal: &LaneSignal,
) -> Option<Holding> {
    loop {
        if inner.shutdown.is_cancelled() {
            return None;
        }
        let ttl = LANE_TTL.as_millis() as i64;
        match inner.store.acquire_lane(webhook_id, now_ms(), ttl).await {
            Ok(LaneClaim::Granted {
                token,
                quiet_until_ms,
                recovered,
            }) => {
                if recovered > 0 {
                    tracing::warn!(
                        webhook_id,
                        recovered,
                        "took over the lane of a node that stopped; re-queued its deliveries"
                    );
                }
                inner.taken.lock().expect("taken lock").remove(webhook_id);
                *signal.lease.lock().expect("lane lock") = Some((token, Instant::now()));
                return Some(Holding {
                    token,
                    quiet_until: quiet_until_ms.map(super::lane::instant_of),
                });
            }
            Ok(LaneClaim::Taken { until_ms }) => {
                inner
                    .taken
                    .lock()
                    .expect("taken lock")
                    .insert(webhook_id.to_string(), super::lane::instant_of(until_ms));
                return None;
            }
            Err(e) => {
                tracing::error!(error = %e, webhook_id, "cannot take the lane lease");
                tokio::select! {
                    _ = tokio::time::sleep(STORE_RETRY) => {}
                    _ = inner.shutdown.cancelled() => return None,
                }
            }
        }
    }
}

/// True when another node is known to hold the webhook's lane, so a wake-up
/// here need not ask the store (that node heard the same notification).
pub(super) fn held_elsewhere(inner: &Inner, webhook_id: &str) -> bool {
    let mut taken = inner.taken.lock().expect("taken lock");
    match taken.get(webhook_id) {
        Some(until) if *until > Instant::now() => true,
        Some(_) => {
            taken.remove(webhook_id);
            false
        }
        None => false,
    }
}

/// Gives the lane up, leaving the next holder the time before which it
/// must not send.
pub(super) async fn release_lane(
    inner: &Arc<Inner>,
    webhook_id: &str,
    token: i64,
    quiet_until_ms: Option<i64>,
) {
    if let Err(e) = inner
        .store
        .release_lane(webhook_id, token, quiet_until_ms)
        .await
    {
        // The lease runs out on its own; another node then takes over.
        tracing::warn!(error = %e, webhook_id, "cannot release the lane lease");
    }
}

/// Starts the background work of a node on a shared database: following
/// other nodes' notifications, and (for a node that delivers) renewing its
/// lane leases and taking over those of dead nodes.
pub(super) fn start(inner: &Arc<Inner>) {
    let Some(changes) = inner.store.changes() else {
        return;
    };
    inner.tasks.spawn(follow(inner.clone(), changes));
    if inner.delivers {
        inner.tasks.spawn(keep_leases(inner.clone()));
    }
}

/// Applies what other nodes stored: wakes the lanes of webhooks with new
/// work and reloads changed webhooks into the routing table.
async fn follow(inner: Arc<Inner>, mut changes: tokio::sync::broadcast::Receiver<Change>) {
    loop {
        let change = tokio::select! {
            change = changes.recv() => change,
            _ = inner.shutdown.cancelled() => return,
        };
        match change {
            Ok(Change::Work(webhook_id)) => {
                if inner.delivers {
                    wake(&inner, &webhook_id);
                }
            }
            Ok(Change::Webhook(webhook_id)) => reload_webhook(&inner, &webhook_id).await,
            // Event types are followed by the API's registry of them.
            Ok(Change::EventTypes(_)) => {}
            Ok(Change::Resync) | Err(RecvError::Lagged(_)) => resync(&inner).await,
            Err(RecvError::Closed) => return,
        }
    }
}

async fn reload_webhook(inner: &Arc<Inner>, webhook_id: &str) {
    if let Err(e) = super::webhooks::reload(inner, webhook_id).await {
        tracing::error!(error = %e, webhook_id, "cannot reload a changed webhook");
        resync(inner).await;
    }
}

/// Notifications may have been missed: reload every webhook and look at
/// every queue.
async fn resync(inner: &Arc<Inner>) {
    loop {
        match resync_once(inner).await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "cannot catch up with the database; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(STORE_RETRY) => {}
                    _ = inner.shutdown.cancelled() => return,
                }
            }
        }
    }
}

async fn resync_once(inner: &Arc<Inner>) -> Result<(), herald_store::StoreError> {
    super::webhooks::reload_all(inner).await?;
    if inner.delivers {
        for webhook_id in inner.store.webhooks_with_queued_deliveries().await? {
            wake(inner, &webhook_id);
        }
    }
    Ok(())
}

/// Renews this node's lane leases every second, stops lanes whose lease
/// another node took over (this node stalled past it), and takes over the
/// lanes of dead nodes (which re-queues what they left leased).
async fn keep_leases(inner: Arc<Inner>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RENEW_EVERY) => {}
            _ = inner.shutdown.cancelled() => return,
        }
        let started = Instant::now();
        match inner
            .store
            .renew_lanes(now_ms(), LANE_TTL.as_millis() as i64)
            .await
        {
            Ok(held) => stop_lost_lanes(&inner, &held, started),
            Err(e) => tracing::error!(error = %e, "cannot renew lane leases"),
        }
        match inner.store.orphaned_lanes(now_ms()).await {
            Ok(orphans) => orphans.iter().for_each(|id| wake(&inner, id)),
            Err(e) => tracing::error!(error = %e, "cannot look for orphaned lanes"),
        }
    }
}

/// Tells every lane whose lease is no longer this node's to stop. Lanes
/// that took their lease after the renewal started are not judged by it.
fn stop_lost_lanes(inner: &Inner, held: &[(String, i64)], renewal_started: Instant) {
    let held: std::collections::HashMap<&str, i64> = held
        .iter()
        .map(|(id, token)| (id.as_str(), *token))
        .collect();
    let lanes = inner.lanes.lock().expect("lanes lock");
    for (webhook_id, signal) in lanes.iter() {
        let lease = *signal.lease.lock().expect("lane lock");
        let Some((token, taken_at)) = lease else {
            continue;
        };
        if taken_at < renewal_started && held.get(webhook_id.as_str()) != Some(&token) {
            tracing::warn!(
                webhook_id,
                "another node took this webhook's lane over; stopping here"
            );
            signal.lost.store(true, Ordering::SeqCst);
            signal.notify.notify_one();
        }
    }
}
