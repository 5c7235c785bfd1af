//! The circuit breaker: failed deliveries in a row are counted in the
//! store, a delivered one starts the count over, and reaching a webhook's
//! threshold disables it, with an audit entry, once.

use herald_core::webhook::{Webhook, WebhookStatus};
use herald_store::prelude::*;
use herald_store::{AttemptRecord, AuditFilter, ClaimedDelivery, NextStep};

use crate::fixtures::{TENANT, attempt, audit, event, webhook};
use crate::harness::Db;

contract! {
    both: [
        failures_in_a_row_disable_the_webhook_at_its_threshold,
        a_delivered_delivery_starts_the_count_over_in_batch_order,
        test_sends_count_toward_nothing,
        enabling_starts_the_count_over_and_may_discard_what_was_held,
    ],
}

/// An active webhook, stored.
pub(crate) async fn stored_webhook(db: &Db, name: &str) -> Webhook {
    let wh = webhook(TENANT, name);
    db.insert_webhook(&wh, audit(TENANT, "webhook.created", &wh.id, 1))
        .await
        .unwrap();
    wh
}

/// Stores an event for `webhook` and claims its delivery.
pub(crate) async fn claimed(db: &Db, webhook: &str, id: &str, at: i64) -> ClaimedDelivery {
    db.ingest(TENANT, vec![event(id, &[webhook], at)])
        .await
        .unwrap();
    let mut claim = db.claim(webhook, at, 1, at + 60_000, false).await.unwrap();
    assert_eq!(claim.deliveries.len(), 1, "{id}");
    claim.deliveries.remove(0)
}

/// A record that ends `delivery`, under a breaker threshold.
pub(crate) fn ending(
    delivery: &ClaimedDelivery,
    at: i64,
    next: NextStep,
    threshold: u32,
) -> AttemptRecord {
    AttemptRecord {
        disable_after: threshold,
        ..attempt(delivery, at, next)
    }
}

async fn failures_in_a_row_disable_the_webhook_at_its_threshold(db: &mut Db) {
    let wh = stored_webhook(db, "flaky").await;
    for i in 0..2 {
        let d = claimed(db, &wh.id, &format!("e{i}"), 10 * i).await;
        let outcome = db
            .record_attempts(vec![ending(&d, 10 * i, NextStep::Failed, 3)])
            .await
            .unwrap();
        assert!(outcome.disabled.is_empty(), "below the threshold");
        let dead = &outcome.dead_letters[..];
        assert_eq!(dead.len(), 1);
        assert_eq!(
            (
                dead[0].delivery_id.as_str(),
                dead[0].event_id.as_str(),
                dead[0].attempts
            ),
            (d.id.as_str(), format!("e{i}").as_str(), 1)
        );
        assert_eq!(dead[0].last_error.as_deref(), Some("http_5xx: HTTP 500"));
        assert_eq!(dead[0].event_type, "a.b");
    }
    let d = claimed(db, &wh.id, "e2", 100).await;
    let outcome = db
        .record_attempts(vec![ending(&d, 100, NextStep::Failed, 3)])
        .await
        .unwrap();
    assert_eq!(
        outcome.disabled.len(),
        1,
        "the third failure in a row disables it"
    );
    let disabled = &outcome.disabled[0];
    assert_eq!(
        (disabled.webhook_id.as_str(), disabled.tenant_id.as_str()),
        (wh.id.as_str(), TENANT)
    );
    assert_eq!(disabled.consecutive_failures, 3);
    assert!(
        disabled.reason.contains("3 consecutive deliveries failed"),
        "{}",
        disabled.reason
    );
    assert!(disabled.reason.contains("HTTP 500"), "{}", disabled.reason);

    let stored = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(stored.spec.status, WebhookStatus::Disabled);
    assert_eq!(
        stored.disabled_reason.as_deref(),
        Some(disabled.reason.as_str())
    );
    assert_eq!(
        stored.disabled_at.map(|t| t.timestamp_millis()),
        Some(105),
        "when the last attempt ended"
    );
    let entries = db
        .list_audit(AuditFilter {
            tenant_id: TENANT.to_string(),
            resource_id: Some(wh.id.clone()),
            before_seq: None,
            limit: 10,
        })
        .await
        .unwrap();
    let newest = &entries[0].entry;
    assert_eq!(
        (newest.actor.as_str(), newest.action.as_str()),
        ("system", "webhook.disabled")
    );
    assert_eq!(newest.after.as_ref().unwrap()["status"], "disabled");
    assert_eq!(newest.at_ms, 105);

    // Already disabled: a later failure is a dead letter, not a second
    // disabling.
    let d = claimed(db, &wh.id, "e3", 200).await;
    let outcome = db
        .record_attempts(vec![ending(&d, 200, NextStep::Failed, 3)])
        .await
        .unwrap();
    assert!(outcome.disabled.is_empty());
    assert_eq!(outcome.dead_letters.len(), 1);
}

async fn a_delivered_delivery_starts_the_count_over_in_batch_order(db: &mut Db) {
    let wh = stored_webhook(db, "sometimes").await;
    let d1 = claimed(db, &wh.id, "e1", 1).await;
    let outcome = db
        .record_attempts(vec![ending(&d1, 1, NextStep::Failed, 2)])
        .await
        .unwrap();
    assert!(outcome.disabled.is_empty());
    // One batch: a success, then a failure. The count starts over, then
    // counts one: not two in a row.
    db.ingest(
        TENANT,
        vec![
            event("e2", &[wh.id.as_str()], 2),
            event("e3", &[wh.id.as_str()], 3),
        ],
    )
    .await
    .unwrap();
    let both = db
        .claim(&wh.id, 3, 2, 60_000, false)
        .await
        .unwrap()
        .deliveries;
    let outcome = db
        .record_attempts(vec![
            ending(&both[0], 3, NextStep::Delivered, 2),
            ending(&both[1], 4, NextStep::Failed, 2),
        ])
        .await
        .unwrap();
    assert!(outcome.disabled.is_empty(), "the success broke the run");
    // Retries and skips change nothing.
    let d4 = claimed(db, &wh.id, "e4", 5).await;
    db.record_attempts(vec![ending(&d4, 5, NextStep::RetryAt(10), 2)])
        .await
        .unwrap();
    let d5 = claimed(db, &wh.id, "e5", 6).await;
    db.record_attempts(vec![ending(&d5, 6, NextStep::Skipped, 2)])
        .await
        .unwrap();
    let d6 = claimed(db, &wh.id, "e6", 7).await;
    let outcome = db
        .record_attempts(vec![ending(&d6, 7, NextStep::Failed, 2)])
        .await
        .unwrap();
    assert_eq!(outcome.disabled.len(), 1, "two failures in a row");
    assert_eq!(outcome.disabled[0].consecutive_failures, 2);
}

async fn test_sends_count_toward_nothing(db: &mut Db) {
    let wh = stored_webhook(db, "probe").await;
    let probe = db
        .insert_test_delivery(TENANT, event("t1", &[], 1), &wh.id)
        .await
        .unwrap();
    assert!(probe.test);
    let outcome = db
        .record_attempts(vec![ending(&probe, 1, NextStep::Failed, 1)])
        .await
        .unwrap();
    assert!(outcome.disabled.is_empty() && outcome.dead_letters.is_empty());
    let stored = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(stored.spec.status, WebhookStatus::Active);
    let (row, attempts) = db.get_delivery(TENANT, &probe.id).await.unwrap().unwrap();
    assert!(row.test);
    assert_eq!(attempts.len(), 1, "a test send is logged like any attempt");
}

async fn enabling_starts_the_count_over_and_may_discard_what_was_held(db: &mut Db) {
    let wh = stored_webhook(db, "back").await;
    let d = claimed(db, &wh.id, "e1", 1).await;
    db.record_attempts(vec![ending(&d, 1, NextStep::Failed, 1)])
        .await
        .unwrap();
    db.ingest(
        TENANT,
        vec![
            event("held1", &[wh.id.as_str()], 2),
            event("held2", &[wh.id.as_str()], 3),
        ],
    )
    .await
    .unwrap();
    let disabled = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(disabled.spec.status, WebhookStatus::Disabled);

    let mut enabled = disabled.clone();
    enabled.spec.status = WebhookStatus::Active;
    enabled.disabled_reason = None;
    enabled.disabled_at = None;
    let discarded = db
        .enable_webhook(&enabled, true, audit(TENANT, "webhook.enabled", &wh.id, 10))
        .await
        .unwrap();
    assert_eq!(discarded, Some(2));
    let stored = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(stored.spec.status, WebhookStatus::Active);
    assert_eq!(stored.disabled_reason, None);
    assert!(
        db.claim(&wh.id, 100, 10, 60_000, false)
            .await
            .unwrap()
            .deliveries
            .is_empty()
    );
    let held = db.get_event(TENANT, "held1").await.unwrap().unwrap();
    let rows = db.event_deliveries(held.seq).await.unwrap();
    assert_eq!(
        rows[0].status,
        herald_core::delivery::DeliveryStatus::Skipped
    );
    assert_eq!(
        rows[0].last_error.as_deref(),
        Some("discarded when the webhook was enabled again")
    );

    // The count started over: one failure under a threshold of two is not
    // enough again.
    let d = claimed(db, &wh.id, "e2", 200).await;
    let outcome = db
        .record_attempts(vec![ending(&d, 200, NextStep::Failed, 2)])
        .await
        .unwrap();
    assert!(outcome.disabled.is_empty());

    let mut gone = stored.clone();
    gone.id = "wh_missing".to_string();
    assert_eq!(
        db.enable_webhook(
            &gone,
            false,
            audit(TENANT, "webhook.enabled", "wh_missing", 11)
        )
        .await
        .unwrap(),
        None
    );
}
