//! The delivery queue: claim order and limits, leases, releases, retries,
//! ordered webhooks, re-queues, and the delivery log.

use herald_core::delivery::DeliveryStatus;
use herald_core::webhook::WebhookStatus;
use herald_store::prelude::*;
use herald_store::{DeliveryFilter, NewEvent, NextStep, QueueStats, Requeue};

use crate::breaker::stored_webhook;
use crate::fixtures::{TENANT, attempt, audit, event};
use crate::harness::Db;
use crate::tenants::{key, tenant};

contract! {
    both: [
        claims_respect_due_time_order_and_limit,
        a_leased_delivery_is_not_claimed_again_until_released,
        a_retry_comes_back_when_due_with_its_attempt_count,
        attempts_move_deliveries_and_a_restart_requeues_leases,
        ordered_webhooks_send_only_the_head_of_each_key,
        a_failed_delivery_is_requeued_with_a_fresh_schedule,
        requeue_between_takes_only_failures_in_the_window,
        the_log_lists_and_counts_deliveries_by_filter,
        an_attempt_whose_delivery_was_deleted_is_dropped,
        queue_stats_split_waiting_leased_and_held,
        the_oldest_waiting_delivery_is_per_tenant_and_of_active_webhooks,
    ],
}

async fn claims_respect_due_time_order_and_limit(db: &mut Db) {
    for (i, at) in [(1, 100), (2, 50), (3, 300)] {
        db.ingest(TENANT, vec![event(&format!("e{i}"), &["wh"], at)])
            .await
            .unwrap();
    }
    let none = db.claim("wh", 10, 10, 99, false).await.unwrap();
    assert!(none.deliveries.is_empty());
    assert_eq!(none.next_due_ms, Some(50));
    let first = db.claim("wh", 200, 1, 999, false).await.unwrap();
    assert_eq!(first.deliveries[0].event_id, "e2");
    assert_eq!(first.next_due_ms, Some(200), "more may be due");
    let rest = db.claim("wh", 200, 10, 999, false).await.unwrap();
    assert_eq!(rest.deliveries.len(), 1);
    assert_eq!(rest.deliveries[0].event_id, "e1");
    assert_eq!(rest.next_due_ms, Some(300));
    assert_eq!(db.next_due("wh").await.unwrap(), Some(300));
    assert!(
        db.claim("other", 1_000, 10, 2_000, false)
            .await
            .unwrap()
            .deliveries
            .is_empty(),
        "a claim takes one webhook's deliveries"
    );
    assert_eq!(db.webhooks_with_queued_deliveries().await.unwrap(), ["wh"]);
}

async fn a_leased_delivery_is_not_claimed_again_until_released(db: &mut Db) {
    db.ingest(
        TENANT,
        vec![event("e1", &["wh"], 1), event("e2", &["wh"], 2)],
    )
    .await
    .unwrap();
    let claimed = db.claim("wh", 10, 10, 1_000, false).await.unwrap();
    assert_eq!(claimed.deliveries.len(), 2);
    assert_eq!(claimed.next_due_ms, None, "nothing else waits");
    let d = &claimed.deliveries[0];
    assert_eq!((d.attempt_number(), d.schedule_base, d.test), (1, 0, false));
    assert!(d.body.contains(r#""id":"e1""#));
    assert!(
        db.claim("wh", 20, 10, 1_000, false)
            .await
            .unwrap()
            .deliveries
            .is_empty()
    );
    let (row, _) = db.get_delivery(TENANT, &d.id).await.unwrap().unwrap();
    assert_eq!(row.status, DeliveryStatus::Delivering);

    // A released lease goes back to its place in the queue.
    db.release(vec![d.seq]).await.unwrap();
    let again = db
        .claim("wh", 30, 10, 1_000, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempt_number()),
        (d.id.as_str(), 1)
    );
}

async fn a_retry_comes_back_when_due_with_its_attempt_count(db: &mut Db) {
    db.ingest(TENANT, vec![event("e1", &["wh"], 1)])
        .await
        .unwrap();
    let d = db
        .claim("wh", 10, 10, 1_000, false)
        .await
        .unwrap()
        .deliveries
        .remove(0);
    let outcome = db
        .record_attempts(vec![attempt(&d, 20, NextStep::RetryAt(500))])
        .await
        .unwrap();
    assert!(outcome.dead_letters.is_empty() && outcome.disabled.is_empty());
    let early = db.claim("wh", 400, 10, 1_000, false).await.unwrap();
    assert!(early.deliveries.is_empty());
    assert_eq!(early.next_due_ms, Some(500));
    let retry = db
        .claim("wh", 500, 10, 1_000, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(retry.len(), 1);
    assert_eq!((retry[0].attempt_number(), retry[0].schedule_base), (2, 0));
    db.record_attempts(vec![attempt(&retry[0], 510, NextStep::Delivered)])
        .await
        .unwrap();
    let (row, attempts) = db.get_delivery(TENANT, &d.id).await.unwrap().unwrap();
    assert_eq!(row.status, DeliveryStatus::Delivered);
    assert_eq!(row.attempt_count, 2);
    assert_eq!(row.delivered_at_ms, Some(515));
    assert_eq!(row.next_attempt_at_ms, None);
    assert_eq!(row.last_status_code, Some(200));
    let numbers: Vec<_> = attempts.iter().map(|a| (a.number, a.status_code)).collect();
    assert_eq!(numbers, [(1, Some(503)), (2, Some(200))]);
    assert_eq!(attempts[0].error_message.as_deref(), Some("HTTP 503"));
    assert_eq!(
        attempts[0].response_headers.as_deref(),
        Some(r#"{"server":"test"}"#)
    );
}

async fn attempts_move_deliveries_and_a_restart_requeues_leases(db: &mut Db) {
    db.ingest(
        TENANT,
        vec![event("e1", &["wh"], 1), event("e2", &["wh"], 2)],
    )
    .await
    .unwrap();
    // Leased until 25: recovery at 30 finds the lease run out, as it would
    // on a shared database where only expired leases are taken back.
    let claimed = db.claim("wh", 10, 10, 25, false).await.unwrap().deliveries;
    assert_eq!(claimed.len(), 2);
    db.record_attempts(vec![attempt(&claimed[0], 20, NextStep::RetryAt(500))])
        .await
        .unwrap();
    // e2 stays leased, as if Herald died mid-request; reopen the database.
    db.reopen().await;
    assert_eq!(db.recover_interrupted(30).await.unwrap(), 1);
    let again = db
        .claim("wh", 40, 10, 1000, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event_id, "e2");
    assert_eq!(
        again[0].attempt_number(),
        1,
        "an interrupted attempt is not counted"
    );
    let (row, attempts) = db
        .get_delivery(TENANT, &claimed[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, DeliveryStatus::Retrying);
    assert_eq!(row.next_attempt_at_ms, Some(500));
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status_code, Some(503));
}

fn ordered(id: &str, key: &str, at: i64) -> NewEvent {
    NewEvent {
        ordering_keys: vec![Some(key.to_string())],
        traceparent: None,
        deliver_at_ms: None,
        digest_at_ms: Vec::new(),
        ..event(id, &["wh"], at)
    }
}

async fn ordered_webhooks_send_only_the_head_of_each_key(db: &mut Db) {
    db.ingest(
        TENANT,
        vec![
            ordered("a1", "A", 1),
            ordered("a2", "A", 2),
            ordered("b1", "B", 3),
        ],
    )
    .await
    .unwrap();
    let heads = db.claim("wh", 10, 10, 1_000, true).await.unwrap();
    let ids: Vec<_> = heads
        .deliveries
        .iter()
        .map(|d| d.event_id.as_str())
        .collect();
    assert_eq!(ids, ["a1", "b1"], "one head per key");
    let (a1, b1) = (&heads.deliveries[0], &heads.deliveries[1]);
    db.record_attempts(vec![
        attempt(a1, 20, NextStep::RetryAt(300)),
        attempt(b1, 20, NextStep::Delivered),
    ])
    .await
    .unwrap();
    // a1 is retrying: a2 waits behind it, however long.
    let held = db.claim("wh", 100, 10, 1_000, true).await.unwrap();
    assert!(held.deliveries.is_empty());
    assert_eq!(
        held.next_due_ms,
        Some(300),
        "the head's retry is what is due next"
    );
    let retry = db
        .claim("wh", 300, 10, 1_000, true)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].event_id, "a1");
    db.record_attempts(vec![attempt(&retry[0], 310, NextStep::Failed)])
        .await
        .unwrap();
    // A head that failed for good no longer holds its key.
    let next = db
        .claim("wh", 320, 10, 1_000, true)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event_id, "a2");
}

/// One delivery of `wh`, failed for good at `at`.
async fn failed_delivery(db: &Db, id: &str, at: i64) -> String {
    db.ingest(TENANT, vec![event(id, &["wh"], at)])
        .await
        .unwrap();
    let d = db
        .claim("wh", at, 1, at + 1_000, false)
        .await
        .unwrap()
        .deliveries
        .remove(0);
    db.record_attempts(vec![attempt(&d, at, NextStep::Failed)])
        .await
        .unwrap();
    d.id
}

async fn a_failed_delivery_is_requeued_with_a_fresh_schedule(db: &mut Db) {
    let id = failed_delivery(db, "e1", 10).await;
    assert_eq!(
        db.requeue_failed("tnt_other", &id, 100).await.unwrap(),
        Requeue::NotFound,
        "deliveries are the tenant's own"
    );
    assert_eq!(
        db.requeue_failed(TENANT, &id, 100).await.unwrap(),
        Requeue::Requeued {
            webhook_id: "wh".to_string()
        }
    );
    assert_eq!(
        db.requeue_failed(TENANT, &id, 100).await.unwrap(),
        Requeue::NotFailed(DeliveryStatus::Pending)
    );
    assert_eq!(
        db.requeue_failed(TENANT, "dlv_nope", 100).await.unwrap(),
        Requeue::NotFound
    );
    let d = db
        .claim("wh", 100, 10, 1_000, false)
        .await
        .unwrap()
        .deliveries
        .remove(0);
    assert_eq!(d.id, id);
    assert_eq!(
        (d.attempt_number(), d.schedule_base),
        (2, 1),
        "retries count from here"
    );
}

async fn requeue_between_takes_only_failures_in_the_window(db: &mut Db) {
    let early = failed_delivery(db, "e1", 100).await;
    let inside = failed_delivery(db, "e2", 200).await;
    let late = failed_delivery(db, "e3", 300).await;
    // Failed at 105, 205 and 305 (each attempt took 5 ms).
    assert_eq!(
        db.requeue_failed_between("tnt_other", "wh", 150, 250, 400)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.requeue_failed_between(TENANT, "wh", 150, 250, 400)
            .await
            .unwrap(),
        1
    );
    for (id, status) in [
        (early, DeliveryStatus::Failed),
        (inside, DeliveryStatus::Pending),
        (late, DeliveryStatus::Failed),
    ] {
        let (row, _) = db.get_delivery(TENANT, &id).await.unwrap().unwrap();
        assert_eq!(row.status, status, "{id}");
    }
}

async fn the_log_lists_and_counts_deliveries_by_filter(db: &mut Db) {
    let db = &*db;
    db.ingest(
        TENANT,
        vec![event("e1", &["wh_a", "wh_b"], 1), event("e2", &["wh_a"], 2)],
    )
    .await
    .unwrap();
    db.ingest("tnt_other", vec![event("e9", &["wh_c"], 3)])
        .await
        .unwrap();
    let d = db
        .claim("wh_a", 10, 1, 1_000, false)
        .await
        .unwrap()
        .deliveries
        .remove(0);
    db.record_attempts(vec![attempt(&d, 10, NextStep::Delivered)])
        .await
        .unwrap();

    let list = |filter: DeliveryFilter| async move {
        db.list_deliveries(DeliveryFilter {
            limit: 10,
            ..filter
        })
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.event_id, d.webhook_id))
        .collect::<Vec<_>>()
    };
    let pair = |e: &str, w: &str| (e.to_string(), w.to_string());
    let tenant = || DeliveryFilter {
        tenant_id: TENANT.to_string(),
        ..Default::default()
    };
    assert_eq!(
        list(tenant()).await,
        [pair("e2", "wh_a"), pair("e1", "wh_b"), pair("e1", "wh_a")],
        "newest first, the tenant's own"
    );
    let by_webhook = DeliveryFilter {
        webhook_id: Some("wh_a".to_string()),
        ..tenant()
    };
    assert_eq!(
        list(by_webhook).await,
        [pair("e2", "wh_a"), pair("e1", "wh_a")]
    );
    let by_event = DeliveryFilter {
        event_id: Some("e1".to_string()),
        ..tenant()
    };
    assert_eq!(list(by_event).await.len(), 2);
    let delivered = DeliveryFilter {
        status: Some(DeliveryStatus::Delivered),
        ..tenant()
    };
    assert_eq!(list(delivered).await, [pair("e1", "wh_a")]);
    let newest = db
        .list_deliveries(DeliveryFilter {
            limit: 1,
            ..tenant()
        })
        .await
        .unwrap();
    let before = DeliveryFilter {
        before_seq: Some(newest[0].seq),
        ..tenant()
    };
    assert_eq!(list(before).await, [pair("e1", "wh_b"), pair("e1", "wh_a")]);

    let mut counts = db.delivery_counts(TENANT).await.unwrap();
    counts.sort_by_key(|(s, _)| s.as_str());
    assert_eq!(
        counts,
        [(DeliveryStatus::Delivered, 1), (DeliveryStatus::Pending, 2)]
    );
}

async fn an_attempt_whose_delivery_was_deleted_is_dropped(db: &mut Db) {
    let wh = crate::fixtures::webhook(TENANT, "gone");
    db.insert_webhook(
        &wh,
        crate::fixtures::audit(TENANT, "webhook.created", &wh.id, 1),
    )
    .await
    .unwrap();
    db.ingest(TENANT, vec![event("e1", &[wh.id.as_str()], 1)])
        .await
        .unwrap();
    let d = db
        .claim(&wh.id, 10, 1, 1_000, false)
        .await
        .unwrap()
        .deliveries
        .remove(0);
    let deleted = db
        .delete_webhooks(
            TENANT,
            vec![crate::fixtures::audit(TENANT, "webhook.deleted", &wh.id, 2)],
        )
        .await
        .unwrap();
    assert_eq!(deleted, std::slice::from_ref(&wh.id));
    let outcome = db
        .record_attempts(vec![attempt(&d, 20, NextStep::Failed)])
        .await
        .unwrap();
    assert!(outcome.dead_letters.is_empty(), "nothing is left to fail");
    assert_eq!(db.number("SELECT COUNT(*) FROM attempts").await, 0);
}

async fn queue_stats_split_waiting_leased_and_held(db: &mut Db) {
    assert_eq!(db.queue_stats().await.unwrap(), QueueStats::default());
    let a = stored_webhook(db, "a").await;
    let b = stored_webhook(db, "b").await;
    let mut paused = stored_webhook(db, "paused").await;
    paused.spec.status = WebhookStatus::Paused;
    assert!(
        db.update_webhook(&paused, audit(TENANT, "webhook.paused", &paused.id, 2))
            .await
            .unwrap()
    );
    for (id, webhook, at) in [
        ("e1", &a.id, 100),
        ("e2", &a.id, 200),
        ("e3", &b.id, 50),
        ("e4", &paused.id, 10),
        ("e5", &a.id, 5),
    ] {
        db.ingest(TENANT, vec![event(id, &[webhook.as_str()], at)])
            .await
            .unwrap();
    }
    // e5 is leased, e3 waits for a retry, e1 is delivered.
    let claim = db.claim(&a.id, 150, 2, 10_000, false).await.unwrap();
    let [e5, e1] = &claim.deliveries[..] else {
        panic!("{:?}", claim.deliveries)
    };
    assert_eq!((e5.event_id.as_str(), e5.queued_at_ms), ("e5", 5));
    db.record_attempts(vec![attempt(e1, 150, NextStep::Delivered)])
        .await
        .unwrap();
    let claim = db.claim(&b.id, 150, 1, 10_000, false).await.unwrap();
    db.record_attempts(vec![attempt(
        &claim.deliveries[0],
        150,
        NextStep::RetryAt(9_000),
    )])
    .await
    .unwrap();

    let stats = db.queue_stats().await.unwrap();
    assert_eq!(
        stats,
        QueueStats {
            scheduled: 0,
            pending: 1,
            delivering: 1,
            retrying: 1,
            held: 1,
            // e3 (queued at 50) is the oldest waiting delivery of an
            // active webhook; the held e4 and the leased e5 do not count.
            oldest_pending_at_ms: Some(50),
        }
    );
}

async fn the_oldest_waiting_delivery_is_per_tenant_and_of_active_webhooks(db: &mut Db) {
    assert_eq!(db.oldest_waiting_at(TENANT).await.unwrap(), None);
    let active = stored_webhook(db, "active").await;
    let mut paused = stored_webhook(db, "paused").await;
    paused.spec.status = WebhookStatus::Paused;
    assert!(
        db.update_webhook(&paused, audit(TENANT, "webhook.paused", &paused.id, 2))
            .await
            .unwrap()
    );
    db.create_tenant(tenant("tnt_other", 1), key("key_o", "tnt_other", 1), vec![])
        .await
        .unwrap();
    let theirs = crate::fixtures::webhook("tnt_other", "theirs");
    db.insert_webhook(
        &theirs,
        audit("tnt_other", "webhook.created", &theirs.id, 1),
    )
    .await
    .unwrap();

    // Older than everything the tenant has waiting, yet none of them
    // waits to be sent: held by a paused webhook, another tenant's, and
    // scheduled for later.
    db.ingest(TENANT, vec![event("held", &[paused.id.as_str()], 10)])
        .await
        .unwrap();
    db.ingest(
        "tnt_other",
        vec![event("theirs", &[theirs.id.as_str()], 20)],
    )
    .await
    .unwrap();
    let mut later = event("later", &[active.id.as_str()], 30);
    later.deliver_at_ms = Some(50_000);
    db.ingest(TENANT, vec![later]).await.unwrap();
    assert_eq!(db.oldest_waiting_at(TENANT).await.unwrap(), None);
    assert_eq!(db.oldest_waiting_at("tnt_other").await.unwrap(), Some(20));

    for (id, at) in [("first", 100), ("second", 200)] {
        db.ingest(TENANT, vec![event(id, &[active.id.as_str()], at)])
            .await
            .unwrap();
    }
    assert_eq!(db.oldest_waiting_at(TENANT).await.unwrap(), Some(100));

    // Under way, it waits no more; waiting for a retry, it waits again,
    // since it was first queued.
    let claim = db.claim(&active.id, 300, 1, 10_000, false).await.unwrap();
    let first = &claim.deliveries[0];
    assert_eq!(first.event_id, "first");
    assert_eq!(db.oldest_waiting_at(TENANT).await.unwrap(), Some(200));
    db.record_attempts(vec![attempt(first, 300, NextStep::RetryAt(9_000))])
        .await
        .unwrap();
    assert_eq!(db.oldest_waiting_at(TENANT).await.unwrap(), Some(100));

    // Once both are delivered only the held and the scheduled remain.
    let claim = db
        .claim(&active.id, 9_000, 10, 20_000, false)
        .await
        .unwrap();
    assert_eq!(claim.deliveries.len(), 2, "{:?}", claim.deliveries);
    db.record_attempts(
        claim
            .deliveries
            .iter()
            .map(|d| attempt(d, 9_000, NextStep::Delivered))
            .collect(),
    )
    .await
    .unwrap();
    assert_eq!(db.oldest_waiting_at(TENANT).await.unwrap(), None);
    assert_eq!(db.oldest_waiting_at("tnt_other").await.unwrap(), Some(20));
}
