//! The one owner of webhook state. Every change to a webhook — from the
//! API, the circuit breaker, auto-recovery or another node — goes through
//! here, in one order: the store first (the truth; on a shared database its
//! notification tells the other nodes), then this node's routing table,
//! then what follows from the new state here: the webhook's lane is woken
//! (it may have work now), a disabled webhook that recovers by itself is
//! probed, an enabled one is announced.
//!
//! Read-change-write updates are optimistic: the store refuses a write
//! based on an older read of the webhook (its `version`), and the change is
//! applied again to what is stored now, so no writer can put back what
//! another just replaced (a rotated secret, the breaker's `disabled`),
//! across nodes too. Within one node, changes to the same webhook also
//! take turns ([`Turns`]), so a burst of them does not spin on conflicts.

use std::sync::Arc;

use herald_core::webhook::{Webhook, WebhookSpec, WebhookStatus};
use herald_store::prelude::*;
use herald_store::{AuditEntry, DisabledWebhook, StoreError};

use super::{Inner, ops, recovery, wake};

/// How many times a change is applied again after losing a race before the
/// caller is told of the conflict.
const MAX_TRIES: u32 = 12;

/// Turns for changes on this node: one at a time per webhook (by a hash of
/// its id into a fixed set of locks, so the set never grows).
pub(super) struct Turns([tokio::sync::Mutex<()>; 64]);

impl Default for Turns {
    fn default() -> Self {
        Turns(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }
}

impl Turns {
    async fn take(&self, id: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        self.0[hasher.finish() as usize % self.0.len()].lock().await
    }
}

/// What a change does to the webhook it was given (as stored now).
pub(crate) enum Edit {
    /// Store this webhook in its place.
    Replace { webhook: Webhook, audit: AuditEntry },
    /// Store this webhook, enabled again: the breaker's count starts over
    /// and, with `discard_held`, what it held is closed as skipped.
    Enable {
        webhook: Webhook,
        discard_held: bool,
        audit: AuditEntry,
    },
    /// Nothing to change.
    Keep,
}

/// What a change did: the webhook as stored, and how many held deliveries
/// an enable discarded.
pub(crate) struct Changed {
    pub(crate) webhook: Webhook,
    pub(crate) discarded: u64,
}

/// Why a change did not happen.
pub(crate) enum ChangeError<E> {
    /// The change itself refused (invalid input, wrong state).
    Refused(E),
    /// The store failed, or other writers won every race.
    Store(StoreError),
}

/// `current` enabled again with `spec`: what an [`Edit::Enable`] stores.
pub(crate) fn enabled(current: Webhook, spec: WebhookSpec) -> Webhook {
    let mut updated = Webhook {
        spec,
        updated_at: chrono::Utc::now(),
        disabled_reason: None,
        disabled_at: None,
        ..current
    };
    // A PATCH that enables the webhook may also switch it to `ed25519`.
    updated.ensure_key_pair();
    updated
}

/// Stores a new webhook and routes it.
pub(super) async fn create(
    inner: &Arc<Inner>,
    webhook: Webhook,
    audit: AuditEntry,
) -> Result<Webhook, StoreError> {
    let before = inner.registry.version();
    inner.store.insert_webhook(&webhook, audit).await?;
    tracing::info!(webhook_id = %webhook.id, "webhook created");
    routed(inner, webhook.clone());
    caught_up(inner, before).await;
    Ok(webhook)
}

/// Reads the tenant's webhook `id`, lets `edit` decide what it becomes, and
/// stores that if nobody changed the webhook meanwhile; otherwise reads it
/// again and asks `edit` again. `Ok(None)` when there is no such webhook.
pub(super) async fn change<E>(
    inner: &Arc<Inner>,
    tenant_id: &str,
    id: &str,
    mut edit: impl FnMut(Webhook) -> Result<Edit, E>,
) -> Result<Option<Changed>, ChangeError<E>> {
    let _turn = inner.webhook_turns.take(id).await;
    for tried in 0..MAX_TRIES {
        if tried > 0 {
            // Another node won the race: let it finish before reading again.
            let jitter = rand::random::<u64>() % (5 << tried.min(5));
            tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
        }
        let Some(current) = inner
            .store
            .get_webhook(tenant_id, id)
            .await
            .map_err(ChangeError::Store)?
        else {
            return Ok(None);
        };
        let read = current.version;
        let before = inner.registry.version();
        let written = match edit(current.clone()).map_err(ChangeError::Refused)? {
            Edit::Keep => {
                return Ok(Some(Changed {
                    webhook: current,
                    discarded: 0,
                }));
            }
            Edit::Replace { webhook, audit } => inner
                .store
                .update_webhook(&webhook, audit)
                .await
                .map(|stored| stored.then_some((webhook, None))),
            Edit::Enable {
                webhook,
                discard_held,
                audit,
            } => inner
                .store
                .enable_webhook(&webhook, discard_held, audit)
                .await
                .map(|discarded| discarded.map(|n| (webhook, Some(n)))),
        };
        match written {
            Ok(None) => return Ok(None),
            Ok(Some((mut webhook, enabled))) => {
                // The store bumped the version of the row it replaced.
                webhook.version = read + 1;
                routed(inner, webhook.clone());
                caught_up(inner, before).await;
                let discarded = enabled.unwrap_or(0);
                if enabled.is_some() {
                    announce_enabled(inner, &webhook, discarded).await;
                }
                return Ok(Some(Changed { webhook, discarded }));
            }
            Err(StoreError::Conflict(_)) => {
                tracing::debug!(webhook_id = id, "webhook changed meanwhile; applying again");
            }
            Err(e) => return Err(ChangeError::Store(e)),
        }
    }
    Err(ChangeError::Store(StoreError::Conflict(format!(
        "webhook {id} kept changing under {MAX_TRIES} attempts"
    ))))
}

/// Deletes the tenant's webhooks that `audits` name (one entry each) and
/// unroutes them; returns the ids that existed.
pub(super) async fn delete(
    inner: &Arc<Inner>,
    tenant_id: &str,
    audits: Vec<AuditEntry>,
) -> Result<Vec<String>, StoreError> {
    let deleted = inner.store.delete_webhooks(tenant_id, audits).await?;
    unrouted(inner, &deleted);
    Ok(deleted)
}

/// Webhooks already deleted from the store (with their tenant) leave the
/// routing table.
pub(super) fn unrouted(inner: &Arc<Inner>, ids: &[String]) {
    for id in ids {
        inner.registry.remove(id);
        // Its lane finds no route and gives back what it had claimed.
        wake(inner, id);
    }
}

/// The circuit breaker disabled a webhook in the store (with the attempt
/// that tipped it): route it as disabled.
pub(super) async fn breaker_disabled(inner: &Arc<Inner>, disabled: &DisabledWebhook) {
    match inner
        .store
        .get_webhook(&disabled.tenant_id, &disabled.webhook_id)
        .await
    {
        Ok(Some(webhook)) => routed(inner, webhook),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "cannot reload a disabled webhook"),
    }
}

/// Another node changed or deleted a webhook: route what is stored now.
pub(super) async fn reload(inner: &Arc<Inner>, id: &str) -> Result<(), StoreError> {
    match inner.store.find_webhook(id).await? {
        Some(webhook) => routed(inner, webhook),
        None => unrouted(inner, &[id.to_string()]),
    }
    Ok(())
}

/// Loads every webhook again (notifications may have been missed, or an
/// event was matched against an older table); returns the registry
/// version they are at.
pub(super) async fn reload_all(inner: &Arc<Inner>) -> Result<i64, StoreError> {
    let version = inner.registry.reload(&inner.store).await?;
    if inner.delivers {
        for route in inner.registry.all() {
            probe_if_disabled(inner, &route.webhook);
        }
    }
    Ok(version)
}

/// After this node's own change, applied to its routes: the registry
/// version moves on with it, so the next event matched here is not sent
/// back as matched against an older table (a reload of every webhook).
async fn caught_up(inner: &Arc<Inner>, before: i64) {
    if let Ok(now) = inner.store.registry_version().await {
        inner.registry.advance(before, now);
    }
}

/// The routing table takes the webhook as stored, and this node acts on
/// its state.
fn routed(inner: &Arc<Inner>, webhook: Webhook) {
    let id = webhook.id.clone();
    probe_if_disabled(inner, &webhook);
    inner.registry.upsert(webhook);
    // Resuming, enabling or a new setting may unblock held deliveries; a
    // pause or a disable makes the lane give back what it claimed.
    wake(inner, &id);
}

fn probe_if_disabled(inner: &Arc<Inner>, webhook: &Webhook) {
    if inner.delivers && webhook.spec.status == WebhookStatus::Disabled && webhook.spec.auto_recover
    {
        recovery::start(inner, webhook.id.clone());
    }
}

async fn announce_enabled(inner: &Arc<Inner>, webhook: &Webhook, discarded: u64) {
    tracing::info!(webhook_id = %webhook.id, discarded, "webhook enabled");
    inner.metrics.breaker("enabled");
    let event = ops::OpEvent {
        tenant_id: webhook.tenant_id.clone(),
        event_type: ops::WEBHOOK_ENABLED,
        subject: webhook.id.clone(),
        data: serde_json::json!({"webhook_id": webhook.id, "discarded_held": discarded}),
    };
    ops::emit(inner, vec![event]).await;
}
