//! Lane leases and notifications on a real PostgreSQL database: what lets
//! several nodes share one database. Always run (they fail, saying so, when
//! PostgreSQL is not there).

mod common;

use herald_store::prelude::*;

use herald_store::{
    Change, Engine, LaneClaim, MasterKey, NewEvent, PostgresOptions, Store, StoreOptions,
};

/// Two stores on one database: two nodes.
async fn two_nodes() -> (Store, Store) {
    let url = common::fresh_database(&common::admin_url()).await;
    let key = MasterKey::generate();
    let open = || {
        Store::open(StoreOptions {
            engine: Engine::Postgres(PostgresOptions::new(url.clone())),
            master_key: key.clone(),
        })
    };
    let a = open().await.unwrap();
    let b = open().await.unwrap();
    (a, b)
}

fn event(id: &str, webhook: &str, at: i64) -> NewEvent {
    NewEvent {
        id: id.to_string(),
        event_type: "a.b".to_string(),
        source: None,
        idempotency_key: None,
        body: "{}".to_string(),
        created_at_ms: at,
        webhook_ids: vec![webhook.to_string()],
        ordering_keys: Vec::new(),
    }
}

#[tokio::test]
async fn one_node_holds_a_lane_until_it_releases_or_dies() {
    let (a, b) = two_nodes().await;
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
}

#[tokio::test]
async fn a_dead_holders_leased_deliveries_are_requeued_by_the_next() {
    let (a, b) = two_nodes().await;
    b.ingest(
        "tnt_default",
        vec![event("e1", "wh", 1_000), event("e2", "wh", 1_000)],
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

#[tokio::test]
async fn nodes_hear_each_others_work_and_webhook_changes() {
    let (a, b) = two_nodes().await;
    let mut heard = a.changes().expect("a shared database has notifications");
    b.ingest("tnt_default", vec![event("e1", "wh_x", 1_000)])
        .await
        .unwrap();
    let change = tokio::time::timeout(std::time::Duration::from_secs(5), heard.recv())
        .await
        .expect("notified within 5 s")
        .unwrap();
    assert_eq!(change, Change::Work("wh_x".to_string()));
}
