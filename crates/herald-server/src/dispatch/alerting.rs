//! Degradation alerts: `herald.webhook.degraded` when a webhook's success
//! rate over its alert window falls below its threshold (see
//! [`crate::analytics::health`]), `herald.webhook.recovered` when it is back
//! and succeeding, and `herald.queue.backlog` when the queue grows past
//! the server's limits (`herald.queue.recovered` when it is back under). Each is an operational event through the normal
//! pipeline, raised once per transition: the state is kept in the store
//! and changed by compare-and-set, so however many nodes look, one
//! announces it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_store::now_ms;
use herald_store::prelude::*;
use serde_json::json;

use super::Inner;
use super::ops::{self, OpEvent};
use crate::analytics::health::{self, Loaded};

pub(crate) const WEBHOOK_DEGRADED: &str = "herald.webhook.degraded";
pub(crate) const WEBHOOK_RECOVERED: &str = "herald.webhook.recovered";
pub(crate) const QUEUE_BACKLOG: &str = "herald.queue.backlog";
pub(crate) const QUEUE_RECOVERED: &str = "herald.queue.recovered";

/// A webhook is looked at no more than once per this, however many of
/// its attempts are recorded; the last look of a burst comes this long
/// after it at most.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How often the queue is compared with the backlog limits.
const BACKLOG_EVERY: Duration = Duration::from_secs(10);

/// When each webhook was last looked at, and whether a look is due.
#[derive(Default)]
pub(super) struct Looks {
    webhooks: Mutex<HashMap<String, Look>>,
}

struct Look {
    at: Instant,
    scheduled: bool,
}

/// Attempts of these webhooks were recorded: look at each now, or once
/// its last look is old enough.
pub(super) fn attempted(inner: &Arc<Inner>, webhook_ids: BTreeSet<String>) {
    for webhook_id in webhook_ids {
        let wait = {
            let mut looks = inner.alert_looks.webhooks.lock().expect("looks lock");
            let now = Instant::now();
            match looks.get_mut(&webhook_id) {
                Some(look) if look.scheduled => continue,
                Some(look) if now.duration_since(look.at) < LOOK_EVERY => {
                    look.scheduled = true;
                    LOOK_EVERY - now.duration_since(look.at)
                }
                _ => {
                    looks.insert(
                        webhook_id.clone(),
                        Look {
                            at: now,
                            scheduled: true,
                        },
                    );
                    Duration::ZERO
                }
            }
        };
        let inner = inner.clone();
        inner.clone().tasks.spawn(async move {
            tokio::time::sleep(wait).await;
            if let Some(look) = inner
                .alert_looks
                .webhooks
                .lock()
                .expect("looks lock")
                .get_mut(&webhook_id)
            {
                look.at = Instant::now();
                look.scheduled = false;
            }
            if let Err(e) = look_at(&inner, &webhook_id).await {
                tracing::warn!(error = %e, webhook_id, "cannot check the webhook for degradation");
            }
        });
    }
}

async fn look_at(inner: &Arc<Inner>, webhook_id: &str) -> Result<(), herald_store::StoreError> {
    let Some(route) = inner.registry.get(webhook_id) else {
        return Ok(());
    };
    let webhook = &route.webhook;
    let now = now_ms();
    let loaded = Loaded::read(
        &inner.store,
        &webhook.tenant_id,
        &[webhook],
        inner.alert_defaults,
        now,
    )
    .await?;
    let Some(stats) = loaded.stats.get(webhook_id) else {
        return Ok(());
    };
    let thresholds = health::thresholds(webhook, inner.alert_defaults);
    let recent = loaded.recent.get(webhook_id).cloned().unwrap_or_default();
    let (degraded, window) = health::degraded_now(&thresholds, stats, &recent, now);
    let (raise, event_type) = match (stats.degraded_alert, degraded) {
        (false, true) => (true, WEBHOOK_DEGRADED),
        // Back: no longer degraded, and the last attempt succeeded.
        (true, false) if stats.successes_in_a_row > 0 => (false, WEBHOOK_RECOVERED),
        _ => return Ok(()),
    };
    if !inner.store.set_degraded_alert(webhook_id, raise).await? {
        return Ok(()); // Another look (another node) announced it.
    }
    let rate = (window.attempts > 0).then(|| window.successes as f64 / window.attempts as f64);
    let name = &webhook.spec.name;
    let (title, severity, message) = if raise {
        (
            format!("Webhook {name} is degraded"),
            "warning",
            format!(
                "{} of {} attempts succeeded over the last {} minutes (threshold {}%)",
                window.successes,
                window.attempts,
                thresholds.window_minutes,
                thresholds.success_rate_below * 100.0
            ),
        )
    } else {
        (
            format!("Webhook {name} recovered"),
            "success",
            format!("{} attempts in a row succeeded", stats.successes_in_a_row),
        )
    };
    tracing::warn!(webhook_id, event_type, "{message}");
    let event = OpEvent {
        tenant_id: webhook.tenant_id.clone(),
        event_type,
        subject: webhook_id.to_string(),
        data: json!({
            "title": title,
            "message": message,
            "severity": severity,
            "webhook_id": webhook_id,
            "webhook_name": name,
            "success_rate": rate,
            "attempts": window.attempts,
            "successes": window.successes,
            "window_minutes": thresholds.window_minutes,
            "success_rate_below": thresholds.success_rate_below,
            "min_attempts": thresholds.min_attempts,
            "last_error": stats.last_error,
            // The same key for both, so PagerDuty resolves what it raised.
            "dedup_key": format!("herald-webhook-degraded-{webhook_id}"),
        }),
    };
    ops::emit(inner, vec![event]).await;
    Ok(())
}

/// Compares the queue with the backlog limits every few seconds, for as
/// long as the dispatcher runs; announces a crossing and its end, once.
pub(super) async fn watch_backlog(inner: Arc<Inner>) {
    let limits = inner.backlog_limits;
    if limits.pending == 0 && limits.oldest_age.is_zero() {
        return;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(BACKLOG_EVERY) => {}
            _ = inner.shutdown.cancelled() => return,
        }
        if let Err(e) = check_backlog(&inner).await {
            tracing::warn!(error = %e, "cannot check the queue backlog");
        }
    }
}

async fn check_backlog(inner: &Arc<Inner>) -> Result<(), herald_store::StoreError> {
    let limits = inner.backlog_limits;
    let stats = inner.store.queue_stats().await?;
    let waiting = stats.pending + stats.retrying;
    let now = now_ms();
    let oldest_age_ms = stats.oldest_pending_at_ms.map_or(0, |at| (now - at).max(0));
    let over_count = limits.pending > 0 && waiting > limits.pending;
    let over_age =
        !limits.oldest_age.is_zero() && oldest_age_ms as u128 > limits.oldest_age.as_millis();
    let over = over_count || over_age;
    if !inner.store.set_flag(BACKLOG_FLAG, over).await? {
        return Ok(());
    }
    let message = if over {
        format!(
            "{waiting} deliveries wait (limit {}), the oldest for {} s (limit {} s)",
            limits.pending,
            oldest_age_ms / 1000,
            limits.oldest_age.as_secs()
        )
    } else {
        format!("the queue is back under its limits: {waiting} deliveries wait")
    };
    tracing::warn!(over, "{message}");
    let event = OpEvent {
        // The queue is the operator's: announced to the default tenant's
        // webhooks.
        tenant_id: herald_core::ids::DEFAULT_TENANT.to_string(),
        event_type: if over { QUEUE_BACKLOG } else { QUEUE_RECOVERED },
        subject: String::new(),
        data: json!({
            "title": if over { "Herald's delivery queue is backing up" } else { "Herald's delivery queue is back to normal" },
            "message": message,
            "severity": if over { "warning" } else { "success" },
            "state": if over { "firing" } else { "resolved" },
            "pending": stats.pending,
            "retrying": stats.retrying,
            "oldest_pending_age_seconds": oldest_age_ms / 1000,
            "pending_limit": limits.pending,
            "oldest_age_limit_seconds": limits.oldest_age.as_secs(),
            "dedup_key": "herald-queue-backlog",
        }),
    };
    ops::emit(inner, vec![event]).await;
    Ok(())
}

/// The store flag that says the backlog alert is raised.
const BACKLOG_FLAG: &str = "backlog_alert";
