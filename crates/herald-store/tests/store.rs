//! The store against a real database: ingest, idempotency, the queue and
//! recovery. A real SQLite file by default; with `HERALD_TEST_DATABASE` set
//! to a PostgreSQL admin URL, a fresh PostgreSQL database per test (the
//! same one when a test reopens its directory). Lane leases exist only on
//! PostgreSQL and are tested there always (see `lanes.rs`).

mod common;

use herald_store::prelude::*;

use herald_core::delivery::{AttemptOutcome, DeliveryStatus};
use herald_store::{AttemptRecord, MasterKey, NewEvent, NextStep, Store, StoreOptions};

const TENANT: &str = "tnt_default";

async fn open(dir: &tempfile::TempDir) -> Store {
    let options = match std::env::var("HERALD_TEST_DATABASE") {
        Ok(admin) => common::postgres_options(dir.path(), &admin).await,
        Err(_) => StoreOptions::new(dir.path().join("herald.db"), MasterKey::generate()),
    };
    Store::open(options).await.unwrap()
}

fn event(id: &str, key: Option<&str>, webhooks: &[&str], at: i64) -> NewEvent {
    NewEvent {
        id: id.to_string(),
        event_type: "a.b".to_string(),
        source: None,
        idempotency_key: key.map(str::to_string),
        body: format!(r#"{{"id":"{id}","type":"a.b","timestamp":"t","data":{{}}}}"#),
        created_at_ms: at,
        ordering_keys: Vec::new(),
        webhook_ids: webhooks.iter().map(|w| w.to_string()).collect(),
    }
}

#[tokio::test]
async fn reposting_an_id_or_key_returns_the_original_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let first = store
        .ingest(TENANT, vec![event("e1", Some("k1"), &["wh_a", "wh_b"], 1)])
        .await
        .unwrap();
    assert_eq!(first[0].deliveries, 2);
    assert!(!first[0].replayed);

    // Same id, now matching a single webhook: still the original answer.
    let again = store
        .ingest(TENANT, vec![event("e1", None, &["wh_a"], 2)])
        .await
        .unwrap();
    assert_eq!(
        (again[0].id.as_str(), again[0].deliveries, again[0].replayed),
        ("e1", 2, true)
    );

    // Same key, different id: the event first posted with that key.
    let by_key = store
        .ingest(TENANT, vec![event("e2", Some("k1"), &["wh_a"], 3)])
        .await
        .unwrap();
    assert_eq!((by_key[0].id.as_str(), by_key[0].replayed), ("e1", true));

    // Duplicates inside one batch are caught too.
    let batch = store
        .ingest(
            TENANT,
            vec![
                event("e3", None, &["wh_a"], 4),
                event("e3", None, &["wh_a"], 4),
            ],
        )
        .await
        .unwrap();
    assert!(!batch[0].replayed && batch[1].replayed);

    let claimed = store
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

#[tokio::test]
async fn claims_respect_due_time_order_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    for (i, at) in [(1, 100), (2, 50), (3, 300)] {
        store
            .ingest(TENANT, vec![event(&format!("e{i}"), None, &["wh"], at)])
            .await
            .unwrap();
    }
    let none = store.claim("wh", 10, 10, 99, false).await.unwrap();
    assert!(none.deliveries.is_empty());
    assert_eq!(none.next_due_ms, Some(50));
    let first = store.claim("wh", 200, 1, 999, false).await.unwrap();
    assert_eq!(first.deliveries[0].event_id, "e2");
    assert_eq!(first.next_due_ms, Some(200), "more may be due");
    let rest = store.claim("wh", 200, 10, 999, false).await.unwrap();
    assert_eq!(rest.deliveries.len(), 1);
    assert_eq!(rest.deliveries[0].event_id, "e1");
    assert_eq!(rest.next_due_ms, Some(300));
    assert_eq!(store.next_due("wh").await.unwrap(), Some(300));

    // A released lease goes back to its place in the queue.
    store.release(vec![rest.deliveries[0].seq]).await.unwrap();
    assert_eq!(store.next_due("wh").await.unwrap(), Some(100));
}

#[tokio::test]
async fn attempts_move_deliveries_and_recovery_requeues_leases() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    store
        .ingest(
            TENANT,
            vec![event("e1", None, &["wh"], 1), event("e2", None, &["wh"], 2)],
        )
        .await
        .unwrap();
    // Leased until 25: recovery at 30 finds the lease run out, as it would
    // on a shared database where only expired leases are taken back.
    let claimed = store
        .claim("wh", 10, 10, 25, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(claimed.len(), 2);
    let record = |seq, next| AttemptRecord {
        id: herald_core::ids::new_id("att"),
        delivery_seq: seq,
        tenant_id: TENANT.to_string(),
        webhook_id: "wh".to_string(),
        test: false,
        disable_after: 10,
        number: 1,
        started_at_ms: 20,
        duration_ms: 5,
        status_code: Some(503),
        outcome: AttemptOutcome::Retry,
        error_category: None,
        error_message: None,
        request_headers: "{}".to_string(),
        response_headers: None,
        response_body: None,
        next,
    };
    store
        .record_attempts(vec![record(claimed[0].seq, NextStep::RetryAt(500))])
        .await
        .unwrap();
    // e2 stays leased, as if Herald died mid-request; reopen the database.
    drop(store);
    let store = open(&dir).await;
    assert_eq!(store.recover_interrupted(30).await.unwrap(), 1);
    let again = store
        .claim("wh", 40, 10, 1000, false)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event_id, "e2");
    let (row, attempts) = store
        .get_delivery(TENANT, &claimed[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, DeliveryStatus::Retrying);
    assert_eq!(row.next_attempt_at_ms, Some(500));
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status_code, Some(503));
}

/// A webhook row written in plain JSON (as before encryption at rest) is
/// sealed when the store opens: still readable, and no longer in the file.
#[tokio::test]
// SQLite only: rows stored before sealing existed come from SQLite-era
// releases; the PostgreSQL backend has sealed every row from its first one.
async fn plain_webhook_rows_are_sealed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let path = dir.path().join("herald.db");
    let secret = "whsec_cGxhaW4tcm93LXNlY3JldC1rZXktMDEyMzQ1Njc4OWFiY2Q=";
    {
        let store = Store::open(StoreOptions::new(&path, key.clone()))
            .await
            .unwrap();
        drop(store);
    }
    let plain = serde_json::json!({
        "id": "wh_01JD0000000000000000000000",
        "tenant_id": TENANT,
        "name": "legacy",
        "url": "https://legacy.example/hook",
        "secret": secret,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    });
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO webhooks (id, tenant_id, status, spec, created_at, updated_at)
             VALUES ('wh_01JD0000000000000000000000', ?1, 'active', ?2, 0, 0)",
            rusqlite::params![TENANT, plain.to_string()],
        )
        .unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    // In the file or, if the checkpoint could not finish yet (the first
    // store's threads may still be closing), in its WAL.
    let contains = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
    let stored: Vec<u8> = ["herald.db", "herald.db-wal"]
        .iter()
        .flat_map(|name| std::fs::read(dir.path().join(name)).unwrap_or_default())
        .collect();
    assert!(
        contains(&stored),
        "the legacy row is plain before the store opens"
    );

    let store = Store::open(StoreOptions::new(&path, key)).await.unwrap();
    let webhook = store
        .get_webhook(TENANT, "wh_01JD0000000000000000000000")
        .await
        .unwrap()
        .expect("the legacy webhook is still there");
    assert_eq!(webhook.secret.expose(), secret);
    // Sealing rewrote the file and emptied the WAL before the store opened.
    for name in ["herald.db", "herald.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
            assert!(!contains(&bytes), "{name} still holds the plain secret");
        }
    }
}
