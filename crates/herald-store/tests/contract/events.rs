//! Ingest, idempotency, reading events back, replays and retention.

use herald_core::delivery::DeliveryStatus;
use herald_store::NextStep;
use herald_store::prelude::*;

use crate::fixtures::{TENANT, attempt, event, keyed};
use crate::harness::Db;

contract! {
    both: [
        reposting_an_id_or_key_returns_the_original_answer,
        an_event_reads_back_with_its_deliveries,
        events_list_newest_first_by_type_and_cursor,
        a_replay_adds_one_pending_delivery_per_webhook,
        prune_removes_only_old_events_whose_deliveries_finished,
        concurrent_requests_each_get_their_own_answers,
    ],
    postgres: [a_request_the_database_refuses_fails_alone],
}

async fn reposting_an_id_or_key_returns_the_original_answer(db: &mut Db) {
    let first = db
        .ingest(TENANT, vec![keyed("e1", "k1", &["wh_a", "wh_b"], 1)])
        .await
        .unwrap();
    assert_eq!(first[0].deliveries, 2);
    assert!(!first[0].replayed);

    // Same id, now matching a single webhook: still the original answer.
    let again = db
        .ingest(TENANT, vec![event("e1", &["wh_a"], 2)])
        .await
        .unwrap();
    assert_eq!(
        (again[0].id.as_str(), again[0].deliveries, again[0].replayed),
        ("e1", 2, true)
    );

    // Same key, different id: the event first posted with that key.
    let by_key = db
        .ingest(TENANT, vec![keyed("e2", "k1", &["wh_a"], 3)])
        .await
        .unwrap();
    assert_eq!((by_key[0].id.as_str(), by_key[0].replayed), ("e1", true));

    // Duplicates inside one batch are caught too.
    let batch = db
        .ingest(
            TENANT,
            vec![event("e3", &["wh_a"], 4), event("e3", &["wh_a"], 4)],
        )
        .await
        .unwrap();
    assert!(!batch[0].replayed && batch[1].replayed);

    // Another tenant's ids and keys are its own.
    let other = db
        .ingest("tnt_other", vec![keyed("e1", "k1", &["wh_c"], 5)])
        .await
        .unwrap();
    assert!(!other[0].replayed);

    let claimed = db
        .claim("wh_a", 10, 100, 1000, false)
        .await
        .unwrap()
        .deliveries;
    let ids: Vec<_> = claimed.iter().map(|c| c.event_id.as_str()).collect();
    assert_eq!(
        ids,
        ["e1", "e3"],
        "one delivery per distinct event, in order"
    );
}

async fn an_event_reads_back_with_its_deliveries(db: &mut Db) {
    db.ingest(TENANT, vec![event("e1", &["wh_a", "wh_b"], 7)])
        .await
        .unwrap();
    let row = db.get_event(TENANT, "e1").await.unwrap().unwrap();
    assert_eq!((row.id.as_str(), row.event_type.as_str()), ("e1", "a.b"));
    assert_eq!(row.created_at_ms, 7);
    assert!(row.body.contains(r#""id":"e1""#), "{}", row.body);
    let deliveries = db.event_deliveries(row.seq).await.unwrap();
    let webhooks: Vec<_> = deliveries.iter().map(|d| d.webhook_id.as_str()).collect();
    assert_eq!(webhooks, ["wh_a", "wh_b"]);
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending
                && d.event_id == "e1"
                && d.attempt_count == 0
                && d.next_attempt_at_ms == Some(7))
    );

    assert!(db.get_event(TENANT, "e2").await.unwrap().is_none());
    assert!(
        db.get_event("tnt_other", "e1").await.unwrap().is_none(),
        "events are the tenant's own"
    );
}

async fn events_list_newest_first_by_type_and_cursor(db: &mut Db) {
    let mut other_type = event("e2", &[], 2);
    other_type.event_type = "c.d".to_string();
    db.ingest(
        TENANT,
        vec![event("e1", &[], 1), other_type, event("e3", &[], 3)],
    )
    .await
    .unwrap();
    // A test send's event is not one the application posted.
    db.insert_test_delivery(TENANT, event("t1", &[], 4), "wh_a")
        .await
        .unwrap();

    let ids =
        |rows: Vec<herald_store::EventRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = db.list_events(TENANT, None, None, 10).await.unwrap();
    let cursor = all[0].seq;
    assert_eq!(ids(all), ["e3", "e2", "e1"]);
    let typed = db
        .list_events(TENANT, Some("a.b".to_string()), None, 10)
        .await
        .unwrap();
    assert_eq!(ids(typed), ["e3", "e1"]);
    let page = db.list_events(TENANT, None, Some(cursor), 1).await.unwrap();
    assert_eq!(ids(page), ["e2"]);
    assert!(
        db.list_events("tnt_other", None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_replay_adds_one_pending_delivery_per_webhook(db: &mut Db) {
    db.ingest(TENANT, vec![event("e1", &["wh_a"], 1)])
        .await
        .unwrap();
    let replayed = db
        .replay_event(
            TENANT,
            "e1",
            vec![
                ("wh_a".to_string(), None),
                ("wh_b".to_string(), Some("k".to_string())),
            ],
            50,
        )
        .await
        .unwrap();
    assert_eq!(replayed, Some(2));
    let row = db.get_event(TENANT, "e1").await.unwrap().unwrap();
    let deliveries = db.event_deliveries(row.seq).await.unwrap();
    assert_eq!(deliveries.len(), 3);
    assert!(
        deliveries[1..]
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending && d.next_attempt_at_ms == Some(50))
    );
    // Reposting answers with every delivery the event has now.
    let again = db
        .ingest(TENANT, vec![event("e1", &["wh_a"], 60)])
        .await
        .unwrap();
    assert_eq!((again[0].deliveries, again[0].replayed), (3, true));

    assert_eq!(
        db.replay_event(TENANT, "nope", vec![("wh_a".to_string(), None)], 50)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.replay_event("tnt_other", "e1", vec![("wh_a".to_string(), None)], 50)
            .await
            .unwrap(),
        None
    );
}

async fn prune_removes_only_old_events_whose_deliveries_finished(db: &mut Db) {
    // e1, e2 old and delivered; e3 old but still waiting; e4 recent.
    db.ingest(
        TENANT,
        vec![
            event("e1", &["wh"], 10),
            event("e2", &["wh"], 11),
            event("e3", &["wh"], 12),
            event("e4", &["wh"], 500),
        ],
    )
    .await
    .unwrap();
    let claimed = db
        .claim("wh", 20, 2, 1_000, false)
        .await
        .unwrap()
        .deliveries;
    let records = claimed
        .iter()
        .map(|d| attempt(d, 20, NextStep::Delivered))
        .collect();
    db.record_attempts(records).await.unwrap();
    let first = claimed[0].id.clone();

    assert_eq!(db.prune(100, 1).await.unwrap(), 1, "at most `limit`");
    assert_eq!(db.prune(100, 10).await.unwrap(), 1);
    assert_eq!(
        db.prune(100, 10).await.unwrap(),
        0,
        "e3 waits, e4 is recent"
    );
    for (id, kept) in [("e1", false), ("e2", false), ("e3", true), ("e4", true)] {
        assert_eq!(
            db.get_event(TENANT, id).await.unwrap().is_some(),
            kept,
            "{id}"
        );
    }
    assert!(db.get_delivery(TENANT, &first).await.unwrap().is_none());
    assert_eq!(db.number("SELECT COUNT(*) FROM attempts").await, 0);
}

/// Many requests at once (on PostgreSQL they share transactions): each
/// gets the answers to its own events, a repeat in another request of the
/// same moment is a replay of the one stored, tenants stay apart, and every
/// stored event has its deliveries.
async fn concurrent_requests_each_get_their_own_answers(db: &mut Db) {
    let version = db.registry_version().await.unwrap();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..120 {
        let store = db.store().clone();
        requests.spawn(async move {
            // Pairs of requests post the same id; every fifth goes to
            // another tenant, whose ids are its own.
            let tenant = if i % 5 == 0 { "tnt_other" } else { TENANT };
            let events = vec![
                event(&format!("c{}", i / 2), &["wh_a"], 10 + i),
                keyed(
                    &format!("u{i}"),
                    &format!("key{i}"),
                    &["wh_a", "wh_b"],
                    10 + i,
                ),
            ];
            let answer = store.ingest(tenant, version, events).await.unwrap();
            let herald_store::Ingest::Stored(answers) = answer else {
                panic!("matched against the current registry, yet stale");
            };
            (i, tenant, answers)
        });
    }
    let mut fresh = std::collections::HashMap::<(&str, String), usize>::new();
    while let Some(done) = requests.join_next().await {
        let (i, tenant, answers) = done.unwrap();
        assert_eq!(answers.len(), 2, "request {i}");
        assert_eq!(
            answers[1].id,
            format!("u{i}"),
            "request {i} got its own answer"
        );
        assert!(!answers[1].replayed);
        assert_eq!(answers[1].deliveries, 2);
        assert_eq!(answers[0].id, format!("c{}", i / 2));
        if !answers[0].replayed {
            *fresh.entry((tenant, answers[0].id.clone())).or_default() += 1;
        }
    }
    // Each shared id was stored once per tenant that posted it.
    assert!(fresh.values().all(|&n| n == 1), "{fresh:?}");
    let expected: std::collections::HashSet<(&str, String)> = (0..120)
        .map(|i: i64| {
            let tenant = if i % 5 == 0 { "tnt_other" } else { TENANT };
            (tenant, format!("c{}", i / 2))
        })
        .collect();
    assert_eq!(fresh.len(), expected.len());
    // One delivery to wh_a per stored event, two for each keyed one.
    let claimed = db.claim("wh_b", 500, 1000, 10_000, false).await.unwrap();
    assert_eq!(claimed.deliveries.len(), 120);
    let claimed = db.claim("wh_a", 500, 1000, 10_000, false).await.unwrap();
    assert_eq!(claimed.deliveries.len(), 120 + expected.len());
}

/// PostgreSQL refuses a NUL in text (the API refuses it before, so only
/// a bug could send one): the request carrying it fails, the requests
/// sharing its moment (and so its first transaction) are stored.
async fn a_request_the_database_refuses_fails_alone(db: &mut Db) {
    let version = db.registry_version().await.unwrap();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..40 {
        let store = db.store().clone();
        requests.spawn(async move {
            let mut e = event(&format!("n{i}"), &["wh_a"], 10 + i);
            if i == 17 {
                e.body = "{\"data\": \"\u{0}\"}".to_string();
            }
            (i, store.ingest(TENANT, version, vec![e]).await)
        });
    }
    while let Some(done) = requests.join_next().await {
        let (i, answer) = done.unwrap();
        match answer {
            Err(e) => assert_eq!(i, 17, "request {i} failed with its neighbour: {e}"),
            Ok(herald_store::Ingest::Stored(a)) => {
                assert_ne!(i, 17, "the refused row was stored");
                assert!(!a[0].replayed);
            }
            Ok(stale) => panic!("{stale:?}"),
        }
    }
    let claimed = db.claim("wh_a", 500, 1000, 10_000, false).await.unwrap();
    assert_eq!(claimed.deliveries.len(), 39);
}
