//! Lane leases and notifications: what lets several nodes share one
//! PostgreSQL database. On the embedded database this process is the only
//! node: every lane is granted, and held until released.

use herald_store::prelude::*;
use herald_store::{Change, LaneClaim, Store};

use crate::fixtures::{TENANT, event};
use crate::harness::Db;

contract! {
    both: [],
    sqlite: [the_only_node_holds_every_lane],
    postgres: [
        one_node_holds_a_lane_until_it_releases_or_dies,
        a_dead_holders_leased_deliveries_are_requeued_by_the_next,
        nodes_hear_each_others_work_and_webhook_changes,
    ],
}

async fn the_only_node_holds_every_lane(db: &mut Db) {
    assert!(!db.is_shared());
    assert!(db.changes().is_none());
    let mut tokens = Vec::new();
    for at in [1_000, 2_000] {
        let LaneClaim::Granted {
            token,
            quiet_until_ms,
            recovered,
        } = db.acquire_lane("wh", at, 5_000).await.unwrap()
        else {
            panic!("this process is the only node");
        };
        assert_eq!((quiet_until_ms, recovered), (None, 0));
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1], "each holding has its own token");
    // Held until released, however long (a lane ends with its process).
    assert_eq!(
        db.renew_lanes(100_000, 5_000).await.unwrap(),
        [("wh".to_string(), tokens[1])]
    );
    assert!(db.orphaned_lanes(100_000).await.unwrap().is_empty());
    db.hold_lane("wh", tokens[1], 50_000).await.unwrap();
    db.release_lane("wh", tokens[0], None).await.unwrap();
    assert_eq!(
        db.renew_lanes(100_000, 5_000).await.unwrap().len(),
        1,
        "an old token"
    );
    db.release_lane("wh", tokens[1], Some(60_000))
        .await
        .unwrap();
    assert!(db.renew_lanes(100_000, 5_000).await.unwrap().is_empty());
}

/// A second node on the test's database.
async fn second_node(db: &Db) -> Store {
    db.open_with(db.key()).await.unwrap()
}

async fn one_node_holds_a_lane_until_it_releases_or_dies(db: &mut Db) {
    assert!(db.is_shared());
    let (a, b) = (&**db, second_node(db).await);
    let LaneClaim::Granted { token, .. } = a.acquire_lane("wh", 1_000, 5_000).await.unwrap() else {
        panic!("a free lane is granted");
    };
    assert_eq!(
        b.acquire_lane("wh", 2_000, 5_000).await.unwrap(),
        LaneClaim::Taken { until_ms: 6_000 }
    );
    // Renewal extends it; the other node still cannot take it.
    assert_eq!(
        a.renew_lanes(5_000, 5_000).await.unwrap(),
        vec![("wh".to_string(), token)]
    );
    assert!(matches!(
        b.acquire_lane("wh", 8_000, 5_000).await.unwrap(),
        LaneClaim::Taken { until_ms: 10_000 }
    ));

    // Released with a budget: the next holder gets it.
    a.release_lane("wh", token, Some(20_000)).await.unwrap();
    let LaneClaim::Granted {
        token: b_token,
        quiet_until_ms,
        recovered,
    } = b.acquire_lane("wh", 11_000, 5_000).await.unwrap()
    else {
        panic!("a released lane is granted");
    };
    assert_eq!((quiet_until_ms, recovered), (Some(20_000), 0));
    // The old holder's stale release does nothing.
    a.release_lane("wh", token, None).await.unwrap();
    assert!(a.renew_lanes(12_000, 5_000).await.unwrap().is_empty());
    assert_eq!(
        b.renew_lanes(12_000, 5_000).await.unwrap(),
        vec![("wh".to_string(), b_token)]
    );
    // A pause the holder records is kept for whoever takes the lane next.
    b.hold_lane("wh", b_token, 40_000).await.unwrap();
    assert!(b.orphaned_lanes(16_000).await.unwrap().is_empty());
    assert_eq!(b.orphaned_lanes(18_000).await.unwrap(), ["wh"]);
    let LaneClaim::Granted { quiet_until_ms, .. } =
        a.acquire_lane("wh", 18_000, 5_000).await.unwrap()
    else {
        panic!("an expired lane is taken over");
    };
    assert_eq!(quiet_until_ms, Some(40_000));
}

async fn a_dead_holders_leased_deliveries_are_requeued_by_the_next(db: &mut Db) {
    let (a, b) = (&**db, second_node(db).await);
    let version = b.registry_version().await.unwrap();
    b.ingest(
        TENANT,
        version,
        vec![event("e1", &["wh"], 1_000), event("e2", &["wh"], 1_000)],
    )
    .await
    .unwrap();
    assert!(matches!(
        a.acquire_lane("wh", 1_000, 5_000).await.unwrap(),
        LaneClaim::Granted { .. }
    ));
    let claimed = a.claim("wh", 1_000, 10, 3_000, false).await.unwrap();
    assert_eq!(claimed.deliveries.len(), 2);
    // `a` stops renewing (killed). Before its lane lease ends nothing
    // moves, even with the deliveries' own leases run out: a live holder
    // may keep deliveries waiting (a back-pressure pause, say).
    assert!(b.orphaned_lanes(5_000).await.unwrap().is_empty());
    assert_eq!(
        b.recover_interrupted(5_000).await.unwrap(),
        0,
        "lane still held"
    );
    assert_eq!(
        b.orphaned_lanes(7_000).await.unwrap(),
        vec!["wh".to_string()]
    );
    let LaneClaim::Granted { recovered, .. } = b.acquire_lane("wh", 7_000, 5_000).await.unwrap()
    else {
        panic!("an expired lane is taken over");
    };
    assert_eq!(recovered, 2);
    let again = b.claim("wh", 7_000, 10, 60_000, false).await.unwrap();
    let ids: Vec<_> = again
        .deliveries
        .iter()
        .map(|d| d.event_id.as_str())
        .collect();
    assert_eq!(ids, ["e1", "e2"], "in their original order");
}

async fn nodes_hear_each_others_work_and_webhook_changes(db: &mut Db) {
    let (a, b) = (&**db, second_node(db).await);
    let mut heard = a.changes().expect("a shared database has notifications");
    let next = async |heard: &mut tokio::sync::broadcast::Receiver<Change>| {
        tokio::time::timeout(std::time::Duration::from_secs(5), heard.recv())
            .await
            .expect("notified within 5 s")
            .unwrap()
    };
    let version = b.registry_version().await.unwrap();
    b.ingest(TENANT, version, vec![event("e1", &["wh_x"], 1_000)])
        .await
        .unwrap();
    assert_eq!(next(&mut heard).await, Change::Work("wh_x".to_string()));
    let wh = crate::fixtures::webhook(TENANT, "told");
    b.insert_webhook(
        &wh,
        crate::fixtures::audit(TENANT, "webhook.created", &wh.id, 1),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut heard).await, Change::Webhook(wh.id.clone()));
}
