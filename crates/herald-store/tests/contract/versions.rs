//! Lost updates: every change to a webhook bumps its version, and a write
//! based on a copy that is no longer the stored one is refused as a
//! conflict instead of putting back what another writer replaced.

use herald_core::webhook::WebhookStatus;
use herald_store::prelude::*;
use herald_store::{NextStep, StoreError};

use crate::breaker::{claimed, ending, stored_webhook};
use crate::fixtures::{TENANT, audit};
use crate::harness::Db;

contract! {
    both: [
        a_copy_read_before_the_breaker_disabled_it_cannot_be_written_back,
        of_two_writers_with_the_same_copy_one_wins,
    ],
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Conflict(message)) => assert!(!message.is_empty()),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn a_copy_read_before_the_breaker_disabled_it_cannot_be_written_back(db: &mut Db) {
    let wh = stored_webhook(db, "racing").await;
    let stale = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    // Meanwhile the breaker disables it.
    let d = claimed(db, &wh.id, "e1", 1).await;
    let outcome = db
        .record_attempts(vec![ending(&d, 1, NextStep::Failed, 1)])
        .await
        .unwrap();
    assert_eq!(outcome.disabled.len(), 1);

    // An API update with the copy read before would put it back to active.
    let mut renamed = stale.clone();
    renamed.spec.name = "renamed".to_string();
    assert_conflict(
        db.update_webhook(&renamed, audit(TENANT, "webhook.updated", &wh.id, 2))
            .await,
    );
    assert_conflict(
        db.enable_webhook(&stale, true, audit(TENANT, "webhook.enabled", &wh.id, 2))
            .await,
    );
    let stored = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(
        stored.spec.status,
        WebhookStatus::Disabled,
        "the breaker's change stays"
    );
    assert_eq!(stored.spec.name, "racing");
    assert!(stored.version > stale.version);

    // Read again, the change goes through.
    let mut renamed = stored.clone();
    renamed.spec.name = "renamed".to_string();
    assert!(
        db.update_webhook(&renamed, audit(TENANT, "webhook.updated", &wh.id, 3))
            .await
            .unwrap()
    );
    let stored = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.spec.name.as_str(), stored.spec.status),
        ("renamed", WebhookStatus::Disabled)
    );
}

async fn of_two_writers_with_the_same_copy_one_wins(db: &mut Db) {
    let wh = stored_webhook(db, "shared").await;
    let read = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    let (mut first, mut second) = (read.clone(), read.clone());
    first.spec.name = "first".to_string();
    second.spec.name = "second".to_string();
    let (a, b) = tokio::join!(
        db.update_webhook(&first, audit(TENANT, "webhook.updated", &wh.id, 2)),
        db.update_webhook(&second, audit(TENANT, "webhook.updated", &wh.id, 2)),
    );
    let won = match (a, b) {
        (Ok(true), Err(StoreError::Conflict(_))) => "first",
        (Err(StoreError::Conflict(_)), Ok(true)) => "second",
        other => panic!("exactly one writer wins: {other:?}"),
    };
    let stored = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(stored.spec.name, won);
    assert_eq!(stored.version, read.version + 1);
    // Only the change that happened is audited.
    let updates = db
        .number("SELECT COUNT(*) FROM audit_log WHERE action = 'webhook.updated'")
        .await;
    assert_eq!(updates, 1);
}
