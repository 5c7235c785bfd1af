//! The master key check: a database remembers which master key it was set
//! up with (a MAC of a fixed label, never the key), and a store opened
//! with another key refuses to open instead of splitting the data into
//! rows only some nodes can read.

use herald_store::prelude::*;
use herald_store::{MasterKey, StoreError};

use crate::fixtures::{TENANT, audit, webhook};
use crate::harness::Db;

contract! {
    both: [
        another_master_key_is_refused_with_what_to_do,
        a_database_from_before_the_check_is_checked_against_its_webhooks,
    ],
    postgres: [concurrent_first_starts_with_different_keys_agree_on_one],
}

/// The refusal, with the message an operator reads.
fn assert_key_mismatch(result: Result<herald_store::Store, StoreError>) -> String {
    match result {
        Err(StoreError::KeyMismatch(message)) => {
            assert!(message.contains("HERALD_MASTER_KEY"), "{message}");
            assert!(message.contains("same"), "{message}");
            message
        }
        Err(other) => panic!("expected a key mismatch, got {other:?}"),
        Ok(_) => panic!("a store opened with another master key"),
    }
}

async fn another_master_key_is_refused_with_what_to_do(db: &mut Db) {
    let wh = webhook(TENANT, "kept");
    db.insert_webhook(&wh, audit(TENANT, "webhook.created", &wh.id, 1))
        .await
        .unwrap();
    db.close();
    let error = assert_key_mismatch(db.open_with(&MasterKey::generate()).await);
    assert!(
        !error.contains(&*db.key().to_base64()),
        "never the key itself"
    );
    // The key it was set up with still opens it, with everything in it.
    db.reopen().await;
    let read = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(read.secret.expose(), wh.secret.expose());
}

async fn a_database_from_before_the_check_is_checked_against_its_webhooks(db: &mut Db) {
    for name in ["one", "two"] {
        let wh = webhook(TENANT, name);
        db.insert_webhook(&wh, audit(TENANT, "webhook.created", &wh.id, 1))
            .await
            .unwrap();
    }
    db.close();
    // As a release before the check left it: webhooks, no check.
    db.execute("DELETE FROM herald_meta").await;
    let message = assert_key_mismatch(db.open_with(&MasterKey::generate()).await);
    assert!(message.contains("2 of the 2 webhooks"), "{message}");
    assert_eq!(
        db.number("SELECT COUNT(*) FROM herald_meta").await,
        0,
        "a key that opens nothing is not written down"
    );
    // The key the rows were sealed with opens them, and is written down:
    // from now on another key is refused by the check itself.
    db.reopen().await;
    db.close();
    assert_eq!(db.number("SELECT COUNT(*) FROM herald_meta").await, 1);
    db.execute("DELETE FROM webhooks").await;
    assert_key_mismatch(db.open_with(&MasterKey::generate()).await);
}

async fn concurrent_first_starts_with_different_keys_agree_on_one(_db: &mut Db) {
    // Two nodes start together on an empty database, each with a key of
    // its own: the first to set the database up wins, the other refuses.
    let empty = Db::postgres_empty().await;
    let (a, b) = (MasterKey::generate(), MasterKey::generate());
    let (first, second) = tokio::join!(empty.open_with(&a), empty.open_with(&b));
    let opened = [first.is_ok(), second.is_ok()];
    assert_eq!(
        opened.iter().filter(|ok| **ok).count(),
        1,
        "exactly one opens: {opened:?}"
    );
    let (winner, loser) = if opened[0] { (a, second) } else { (b, first) };
    assert_key_mismatch(loser);
    assert!(empty.open_with(&winner).await.is_ok());
    empty.finish().await;
}
