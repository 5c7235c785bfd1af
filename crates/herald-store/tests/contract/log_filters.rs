//! The delivery log's filters by event type and by creation time, alone
//! and with the status filter and the cursor.

use herald_core::delivery::DeliveryStatus;
use herald_store::prelude::*;
use herald_store::{DeliveryFilter, NewEvent, NextStep};

use crate::fixtures::{TENANT, attempt, event};
use crate::harness::Db;

contract! {
    both: [
        the_log_filters_by_exact_event_type,
        the_creation_window_takes_since_and_leaves_out_until,
        type_window_status_and_cursor_combine,
    ],
}

fn typed(id: &str, event_type: &str, webhooks: &[&str], at: i64) -> NewEvent {
    NewEvent {
        event_type: event_type.to_string(),
        ..event(id, webhooks, at)
    }
}

/// The tenant's deliveries, in the order the log stores them:
/// e1→wh_a (at 100, created), e2→wh_a and e2→wh_b (200, paid),
/// e3→wh_a (300, created), e4→wh_b (400, created); and another tenant's
/// e9→wh_c (200, created), which no filter of this tenant shows.
async fn stored(db: &Db) {
    for (id, event_type, webhooks, at) in [
        ("e1", "order.created", &["wh_a"][..], 100),
        ("e2", "order.paid", &["wh_a", "wh_b"][..], 200),
        ("e3", "order.created", &["wh_a"][..], 300),
        ("e4", "order.created", &["wh_b"][..], 400),
    ] {
        db.ingest(TENANT, vec![typed(id, event_type, webhooks, at)])
            .await
            .unwrap();
    }
    db.ingest(
        "tnt_other",
        vec![typed("e9", "order.created", &["wh_c"], 200)],
    )
    .await
    .unwrap();
}

fn tenant() -> DeliveryFilter {
    DeliveryFilter {
        tenant_id: TENANT.to_string(),
        limit: 50,
        ..Default::default()
    }
}

/// `event_id/webhook_id` of each delivery listed, newest first.
async fn listed(db: &Db, filter: DeliveryFilter) -> Vec<String> {
    db.list_deliveries(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|d| format!("{}/{}", d.event_id, d.webhook_id))
        .collect()
}

fn of_type(event_type: &str) -> DeliveryFilter {
    DeliveryFilter {
        event_type: Some(event_type.to_string()),
        ..tenant()
    }
}

fn window(from: Option<i64>, before: Option<i64>) -> DeliveryFilter {
    DeliveryFilter {
        created_from_ms: from,
        created_before_ms: before,
        ..tenant()
    }
}

async fn the_log_filters_by_exact_event_type(db: &mut Db) {
    stored(db).await;
    assert_eq!(
        listed(db, of_type("order.created")).await,
        ["e4/wh_b", "e3/wh_a", "e1/wh_a"],
        "newest first, the tenant's own"
    );
    assert_eq!(
        listed(db, of_type("order.paid")).await,
        ["e2/wh_b", "e2/wh_a"]
    );
    for not_a_type in ["order", "order.*", "order.created.x", "ORDER.CREATED"] {
        assert!(
            listed(db, of_type(not_a_type)).await.is_empty(),
            "{not_a_type} is matched exactly"
        );
    }
    let theirs = DeliveryFilter {
        tenant_id: "tnt_other".to_string(),
        ..of_type("order.created")
    };
    assert_eq!(listed(db, theirs).await, ["e9/wh_c"]);
}

async fn the_creation_window_takes_since_and_leaves_out_until(db: &mut Db) {
    stored(db).await;
    assert_eq!(
        listed(db, window(Some(200), None)).await,
        ["e4/wh_b", "e3/wh_a", "e2/wh_b", "e2/wh_a"],
        "created at `since` is in"
    );
    assert_eq!(
        listed(db, window(None, Some(300))).await,
        ["e2/wh_b", "e2/wh_a", "e1/wh_a"],
        "created at `until` is out"
    );
    assert_eq!(
        listed(db, window(Some(200), Some(300))).await,
        ["e2/wh_b", "e2/wh_a"]
    );
    assert_eq!(listed(db, window(Some(300), Some(301))).await, ["e3/wh_a"]);
    assert!(listed(db, window(Some(201), Some(300))).await.is_empty());
    assert!(
        listed(db, window(Some(300), Some(300))).await.is_empty(),
        "an empty window holds nothing"
    );
    assert!(listed(db, window(Some(401), None)).await.is_empty());
    assert_eq!(
        listed(db, window(Some(i64::MIN), Some(i64::MAX)))
            .await
            .len(),
        5
    );
}

async fn type_window_status_and_cursor_combine(db: &mut Db) {
    stored(db).await;
    // e1 and e3 are delivered; e2's delivery to wh_a goes back to wait.
    let claim = db.claim("wh_a", 1_000, 3, 60_000, false).await.unwrap();
    let by_event = |id: &str| {
        claim
            .deliveries
            .iter()
            .find(|d| d.event_id == id)
            .unwrap_or_else(|| panic!("{id} in {:?}", claim.deliveries))
    };
    db.record_attempts(vec![
        attempt(by_event("e1"), 1_000, NextStep::Delivered),
        attempt(by_event("e3"), 1_000, NextStep::Delivered),
    ])
    .await
    .unwrap();
    db.release(vec![by_event("e2").seq]).await.unwrap();

    let created_with = |status: DeliveryStatus| DeliveryFilter {
        status: Some(status),
        ..of_type("order.created")
    };
    assert_eq!(
        listed(db, created_with(DeliveryStatus::Delivered)).await,
        ["e3/wh_a", "e1/wh_a"]
    );
    assert_eq!(
        listed(db, created_with(DeliveryStatus::Pending)).await,
        ["e4/wh_b"]
    );
    let delivered_since = DeliveryFilter {
        created_from_ms: Some(200),
        ..created_with(DeliveryStatus::Delivered)
    };
    assert_eq!(listed(db, delivered_since).await, ["e3/wh_a"]);
    let pending_before = DeliveryFilter {
        status: Some(DeliveryStatus::Pending),
        created_before_ms: Some(400),
        ..tenant()
    };
    assert_eq!(
        listed(db, pending_before).await,
        ["e2/wh_b", "e2/wh_a"],
        "every filter holds at once"
    );

    // Pages of one through [100, 400) of the type: the cursor walks on
    // in the same order and the filters hold on every page.
    let page = |before_seq: Option<i64>| DeliveryFilter {
        created_from_ms: Some(100),
        created_before_ms: Some(400),
        before_seq,
        limit: 1,
        ..of_type("order.created")
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let rows = db.list_deliveries(page(cursor)).await.unwrap();
        let Some(row) = rows.first() else { break };
        assert_eq!(rows.len(), 1);
        seen.push(row.event_id.clone());
        cursor = Some(row.seq);
        assert!(seen.len() <= 5, "the cursor moves on: {seen:?}");
    }
    assert_eq!(seen, ["e3", "e1"]);
}
