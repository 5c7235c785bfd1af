//! The registry version: a counter every webhook change moves on, in the
//! change's own transaction. Ingest names the version its events were
//! matched against, and a store whose webhooks changed since stores
//! nothing and says so, so an event posted just after a webhook was made
//! (on another node, say) is matched against it.

use herald_core::webhook::WebhookStatus;
use herald_store::prelude::*;
use herald_store::{Ingest, NextStep};

use crate::breaker::{claimed, ending, stored_webhook};
use crate::fixtures::{TENANT, audit, event, webhook};
use crate::harness::Db;

contract! {
    both: [
        an_event_matched_against_an_older_registry_is_not_stored,
        every_routing_change_and_only_those_move_the_registry_on,
    ],
}

async fn an_event_matched_against_an_older_registry_is_not_stored(db: &mut Db) {
    let before = db.load_registry().await.unwrap();
    assert!(before.webhooks.is_empty());
    // A webhook is made (on another node, say) after the caller loaded
    // its routing table.
    let created = webhook(TENANT, "new");
    db.insert_webhook(&created, audit(TENANT, "webhook.created", &created.id, 1))
        .await
        .unwrap();
    let current = db.registry_version().await.unwrap();
    assert!(current > before.version);

    let answer = db
        .store()
        .ingest(
            TENANT,
            before.version,
            vec![event("e1", &[], 2), event("e2", &[], 2)],
        )
        .await
        .unwrap();
    let Ingest::Stale {
        current: told,
        events,
    } = answer
    else {
        panic!("matched against an older registry: {answer:?}");
    };
    assert_eq!(told, current);
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        ["e1", "e2"],
        "the events come back, to be matched again"
    );
    assert!(
        db.get_event(TENANT, "e1").await.unwrap().is_none(),
        "nothing was stored"
    );

    let reloaded = db.load_registry().await.unwrap();
    assert_eq!(reloaded.version, current);
    assert_eq!(reloaded.webhooks.len(), 1);
    let answer = db
        .store()
        .ingest(
            TENANT,
            reloaded.version,
            vec![event("e1", &[created.id.as_str()], 3)],
        )
        .await
        .unwrap();
    let Ingest::Stored(stored) = answer else {
        panic!("matched against the current registry: {answer:?}");
    };
    assert_eq!(stored[0].deliveries, 1);
}

/// Only what changes which events reach which webhook (a create, a delete,
/// new event types or ordering) moves the registry on: a webhook edited
/// often (its secret rotated, paused, disabled by the breaker) must not
/// send every event posted meanwhile back to be matched again.
async fn every_routing_change_and_only_those_move_the_registry_on(db: &mut Db) {
    let last = std::cell::Cell::new(db.registry_version().await.unwrap());
    let moved = async |db: &Db, what: &str| {
        let now = db.registry_version().await.unwrap();
        assert!(
            now > last.get(),
            "{what} moves the registry on ({} then {now})",
            last.get()
        );
        last.set(now);
    };
    let wh = stored_webhook(db, "w").await;
    moved(db, "an insert").await;

    let unmoved = async |db: &Db, what: &str| {
        assert_eq!(db.registry_version().await.unwrap(), last.get(), "{what}");
    };
    let mut changed = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    changed.spec.name = "renamed".to_string();
    db.update_webhook(&changed, audit(TENANT, "webhook.updated", &wh.id, 2))
        .await
        .unwrap();
    unmoved(db, "a rename").await;

    let mut changed = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    changed.spec.event_types = vec!["other.*".to_string()];
    db.update_webhook(&changed, audit(TENANT, "webhook.updated", &wh.id, 2))
        .await
        .unwrap();
    moved(db, "new event types").await;

    let d = claimed(db, &wh.id, "e1", 3).await;
    db.record_attempts(vec![ending(&d, 3, NextStep::Failed, 1)])
        .await
        .unwrap();
    unmoved(db, "the breaker's disable").await;

    let mut enabled = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    enabled.spec.status = WebhookStatus::Active;
    db.enable_webhook(&enabled, false, audit(TENANT, "webhook.enabled", &wh.id, 4))
        .await
        .unwrap();
    unmoved(db, "an enable").await;

    // Work on deliveries is not a change of the registry.
    let d = claimed(db, &wh.id, "e2", 5).await;
    db.record_attempts(vec![ending(&d, 5, NextStep::Delivered, 1)])
        .await
        .unwrap();
    assert_eq!(db.registry_version().await.unwrap(), last.get());

    db.delete_webhooks(TENANT, vec![audit(TENANT, "webhook.deleted", &wh.id, 6)])
        .await
        .unwrap();
    moved(db, "a delete").await;

    db.create_tenant(
        herald_store::TenantRow {
            id: "tnt_x".to_string(),
            name: "x".to_string(),
            created_at_ms: 7,
        },
        herald_store::ApiKeyRow {
            id: "key_x".to_string(),
            tenant_id: "tnt_x".to_string(),
            key_hash: vec![1; 32],
            created_at_ms: 7,
        },
        vec![],
    )
    .await
    .unwrap();
    let theirs = webhook("tnt_x", "theirs");
    db.insert_webhook(&theirs, audit("tnt_x", "webhook.created", &theirs.id, 8))
        .await
        .unwrap();
    moved(db, "another insert").await;
    db.delete_tenant("tnt_x", vec![]).await.unwrap();
    moved(db, "deleting a tenant with webhooks").await;

    let snapshot = db.load_registry().await.unwrap();
    assert_eq!(snapshot.version, last.get());
    assert!(snapshot.webhooks.is_empty());
}
