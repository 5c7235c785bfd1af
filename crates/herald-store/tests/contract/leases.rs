//! Delivery leases: a claimed delivery belongs to its sender until its
//! lease runs out. Taking back what ran out is safe at any time on either
//! engine, so a running node recovers the attempts a stalled sender lost;
//! a lease that has not run out is left alone.

use herald_core::delivery::DeliveryStatus;
use herald_store::LaneClaim;
use herald_store::prelude::*;

use crate::fixtures::{TENANT, event};
use crate::harness::Db;

contract! {
    both: [
        only_leases_that_ran_out_are_taken_back,
        a_test_send_is_failed_only_once_its_lease_ran_out,
        a_held_lane_keeps_its_leased_deliveries_until_released,
    ],
    sqlite: [a_restart_takes_back_every_lease],
    postgres: [a_restart_takes_back_only_the_leases_that_ran_out],
}

const MINUTE: i64 = 60_000;

async fn only_leases_that_ran_out_are_taken_back(db: &mut Db) {
    db.ingest(
        TENANT,
        vec![event("e1", &["wh"], 1), event("e2", &["wh"], 2)],
    )
    .await
    .unwrap();
    let short = db.claim("wh", 10, 1, 100, false).await.unwrap().deliveries;
    let long = db
        .claim("wh", 10, 1, 10_000, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(
        (short[0].event_id.as_str(), long[0].event_id.as_str()),
        ("e1", "e2")
    );

    assert_eq!(
        db.recover_interrupted(50).await.unwrap(),
        0,
        "both leases live"
    );
    assert_eq!(
        db.recover_interrupted(200).await.unwrap(),
        1,
        "e1's lease ran out"
    );
    let (row, _) = db.get_delivery(TENANT, &long[0].id).await.unwrap().unwrap();
    assert_eq!(
        row.status,
        DeliveryStatus::Delivering,
        "e2's sender still has it"
    );
    let (row, _) = db
        .get_delivery(TENANT, &short[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status, row.next_attempt_at_ms),
        (DeliveryStatus::Pending, Some(200))
    );

    let again = db
        .claim("wh", 200, 10, 20_000, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].event_id.as_str(), again[0].attempt_number()),
        ("e1", 1)
    );
    assert_eq!(
        db.recover_interrupted(15_000).await.unwrap(),
        1,
        "now e2's ran out"
    );
    assert_eq!(
        db.recover_interrupted(15_000).await.unwrap(),
        0,
        "taken back once"
    );
}

async fn a_test_send_is_failed_only_once_its_lease_ran_out(db: &mut Db) {
    let probe = db
        .insert_test_delivery(TENANT, event("t1", &[], 1_000), "wh")
        .await
        .unwrap();
    assert_eq!(
        db.recover_interrupted(1_000 + MINUTE).await.unwrap(),
        0,
        "a test send in progress is left to finish"
    );
    let (row, _) = db.get_delivery(TENANT, &probe.id).await.unwrap().unwrap();
    assert_eq!(row.status, DeliveryStatus::Delivering);
    assert_eq!(
        db.recover_interrupted(1_000 + 11 * MINUTE).await.unwrap(),
        1
    );
    let (row, _) = db.get_delivery(TENANT, &probe.id).await.unwrap().unwrap();
    assert_eq!(row.status, DeliveryStatus::Failed);
    assert_eq!(
        row.last_error.as_deref(),
        Some("interrupted: Herald stopped during the test send")
    );
}

async fn a_held_lane_keeps_its_leased_deliveries_until_released(db: &mut Db) {
    db.ingest(TENANT, vec![event("e1", &["wh"], 1)])
        .await
        .unwrap();
    let LaneClaim::Granted { token, .. } = db.acquire_lane("wh", 10, 60_000).await.unwrap() else {
        panic!("a free lane is granted");
    };
    let waiting = db.claim("wh", 10, 1, 100, false).await.unwrap().deliveries;
    // The lane keeps the delivery past its lease (a batch filling, say).
    assert_eq!(
        db.recover_interrupted(200).await.unwrap(),
        0,
        "its lane is held"
    );
    db.release_lane("wh", token + 1, None).await.unwrap();
    assert_eq!(
        db.recover_interrupted(300).await.unwrap(),
        0,
        "a release by a holding that ended does nothing"
    );
    db.release_lane("wh", token, None).await.unwrap();
    assert_eq!(
        db.recover_interrupted(400).await.unwrap(),
        1,
        "nobody holds it now"
    );
    let again = db
        .claim("wh", 400, 1, 1_000, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(again[0].id, waiting[0].id);
}

async fn a_restart_takes_back_every_lease(db: &mut Db) {
    db.ingest(TENANT, vec![event("e1", &["wh"], 1)])
        .await
        .unwrap();
    db.claim("wh", 10, 1, 10 * MINUTE, false).await.unwrap();
    db.insert_test_delivery(TENANT, event("t1", &[], 10), "wh")
        .await
        .unwrap();
    db.reopen().await;
    // This process is the only one: a lease of its last run is over,
    // however long it had left.
    assert_eq!(db.recover_at_start(20).await.unwrap(), 2);
    assert_eq!(
        db.claim("wh", 20, 10, 1_000, false)
            .await
            .unwrap()
            .deliveries
            .len(),
        1
    );
}

async fn a_restart_takes_back_only_the_leases_that_ran_out(db: &mut Db) {
    db.ingest(TENANT, vec![event("e1", &["wh"], 1)])
        .await
        .unwrap();
    db.claim("wh", 10, 1, 10 * MINUTE, false).await.unwrap();
    db.reopen().await;
    // Another node may be sending it: its lease is its own.
    assert_eq!(db.recover_at_start(20).await.unwrap(), 0);
    assert_eq!(db.recover_at_start(11 * MINUTE).await.unwrap(), 1);
}
