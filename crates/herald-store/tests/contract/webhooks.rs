//! Stored webhooks: sealed at rest, read back whole, listed, replaced and
//! deleted with everything they had.

use herald_core::webhook::WebhookStatus;
use herald_store::prelude::*;
use herald_store::{AuditFilter, NextStep};

use crate::breaker::{claimed, stored_webhook};
use crate::fixtures::{TENANT, attempt, audit, webhook};
use crate::harness::Db;

contract! {
    both: [
        webhooks_are_sealed_at_rest_and_read_back_whole,
        webhooks_list_by_tenant_in_id_order,
        an_update_replaces_the_webhook_and_is_audited,
        deleting_a_webhook_takes_its_deliveries_and_attempts,
    ],
    sqlite: [plain_webhook_rows_are_sealed_at_open],
}

async fn webhooks_are_sealed_at_rest_and_read_back_whole(db: &mut Db) {
    let wh = webhook(TENANT, "sealed");
    db.insert_webhook(&wh, audit(TENANT, "webhook.created", &wh.id, 1))
        .await
        .unwrap();
    let read = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(read.secret.expose(), wh.secret.expose());
    assert_eq!(
        (read.spec.name.as_str(), read.spec.url.as_deref()),
        ("sealed", wh.spec.url.as_deref())
    );
    assert_eq!(
        (read.created_at, read.updated_at),
        (wh.created_at, wh.updated_at)
    );
    assert_eq!(db.find_webhook(&wh.id).await.unwrap().unwrap().id, wh.id);
    assert!(db.get_webhook("tnt_other", &wh.id).await.unwrap().is_none());
    assert!(db.find_webhook("wh_nope").await.unwrap().is_none());

    let stored = db.texts("SELECT spec FROM webhooks").await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("sealed:"), "{}", stored[0]);
    for secret in [wh.secret.expose(), "sealed.example"] {
        assert!(!stored[0].contains(secret), "the stored row shows {secret}");
    }
}

async fn webhooks_list_by_tenant_in_id_order(db: &mut Db) {
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(stored_webhook(db, name).await.id);
    }
    let other = webhook("tnt_other", "x");
    db.insert_webhook(&other, audit("tnt_other", "webhook.created", &other.id, 1))
        .await
        .unwrap();
    ids.sort();
    let listed: Vec<_> = db
        .list_webhooks(TENANT, None)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, ids);
    let after: Vec<_> = db
        .list_webhooks(TENANT, Some(ids[0].clone()))
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(after, ids[1..]);
    assert_eq!(
        db.load_registry().await.unwrap().webhooks.len(),
        4,
        "every tenant's"
    );
}

async fn an_update_replaces_the_webhook_and_is_audited(db: &mut Db) {
    let wh = stored_webhook(db, "before").await;
    let mut changed = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    changed.spec.name = "after".to_string();
    changed.spec.status = WebhookStatus::Paused;
    assert!(
        db.update_webhook(&changed, audit(TENANT, "webhook.updated", &wh.id, 2))
            .await
            .unwrap()
    );
    let read = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    assert_eq!(
        (read.spec.name.as_str(), read.spec.status),
        ("after", WebhookStatus::Paused)
    );

    let mut missing = changed.clone();
    missing.id = "wh_missing".to_string();
    assert!(
        !db.update_webhook(&missing, audit(TENANT, "webhook.updated", "wh_missing", 3))
            .await
            .unwrap()
    );
    let actions: Vec<_> = db
        .list_audit(AuditFilter {
            tenant_id: TENANT.to_string(),
            resource_id: None,
            before_seq: None,
            limit: 10,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.entry.action, r.entry.resource_id))
        .collect();
    assert_eq!(
        actions,
        [
            ("webhook.updated".to_string(), wh.id.clone()),
            ("webhook.created".to_string(), wh.id.clone())
        ],
        "only changes that happened are audited"
    );
}

async fn deleting_a_webhook_takes_its_deliveries_and_attempts(db: &mut Db) {
    let wh = stored_webhook(db, "doomed").await;
    let kept = stored_webhook(db, "kept").await;
    let d = claimed(db, &wh.id, "e1", 1).await;
    db.record_attempts(vec![attempt(&d, 1, NextStep::RetryAt(100))])
        .await
        .unwrap();
    let k = claimed(db, &kept.id, "e2", 2).await;
    let deleted = db
        .delete_webhooks(
            TENANT,
            vec![
                audit(TENANT, "webhook.deleted", &wh.id, 3),
                audit(TENANT, "webhook.deleted", "wh_missing", 3),
            ],
        )
        .await
        .unwrap();
    assert_eq!(deleted, std::slice::from_ref(&wh.id));
    assert!(db.get_webhook(TENANT, &wh.id).await.unwrap().is_none());
    assert!(db.get_delivery(TENANT, &d.id).await.unwrap().is_none());
    assert!(db.get_delivery(TENANT, &k.id).await.unwrap().is_some());
    assert_eq!(db.number("SELECT COUNT(*) FROM attempts").await, 0);
    let entries = db
        .list_audit(AuditFilter {
            tenant_id: TENANT.to_string(),
            resource_id: Some("wh_missing".to_string()),
            before_seq: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert!(
        entries.is_empty(),
        "a webhook that did not exist is not audited"
    );
}

/// A webhook row written in plain JSON (as before encryption at rest) is
/// sealed when the store opens: still readable, and no longer in the file.
/// SQLite only: such rows come from SQLite-era releases; PostgreSQL has
/// sealed every row from its first release.
async fn plain_webhook_rows_are_sealed_at_open(db: &mut Db) {
    let secret = "whsec_cGxhaW4tcm93LXNlY3JldC1rZXktMDEyMzQ1Njc4OWFiY2Q=";
    db.close();
    let plain = serde_json::json!({
        "id": "wh_01JD0000000000000000000000",
        "tenant_id": TENANT,
        "name": "legacy",
        "url": "https://legacy.example/hook",
        "secret": secret,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    });
    db.execute(&format!(
        "INSERT INTO webhooks (id, tenant_id, status, spec, created_at, updated_at)
         VALUES ('wh_01JD0000000000000000000000', '{TENANT}', 'active', '{plain}', 0, 0);
         PRAGMA wal_checkpoint(TRUNCATE);"
    ))
    .await;
    // In the file or, if the checkpoint could not finish yet (the first
    // store's threads may still be closing), in its WAL.
    let path = db.path();
    let files = [path.clone(), path.with_extension("db-wal")];
    let contains = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
    let stored: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    assert!(
        contains(&stored),
        "the legacy row is plain before the store opens"
    );

    db.reopen().await;
    let webhook = db
        .get_webhook(TENANT, "wh_01JD0000000000000000000000")
        .await
        .unwrap()
        .expect("the legacy webhook is still there");
    assert_eq!(webhook.secret.expose(), secret);
    // Sealing rewrote the file and emptied the WAL before the store opened.
    for file in &files {
        if let Ok(bytes) = std::fs::read(file) {
            assert!(
                !contains(&bytes),
                "{} still holds the plain secret",
                file.display()
            );
        }
    }
}
