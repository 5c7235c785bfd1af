//! Tenants, their API keys, and the audit log.

use herald_store::prelude::*;
use herald_store::{ApiKeyRow, AuditFilter, NextStep, TenantRow};

use crate::breaker::claimed;
use crate::fixtures::{TENANT, attempt, audit, event, webhook};
use crate::harness::Db;

contract! {
    both: [
        tenants_and_their_keys,
        deleting_a_tenant_takes_everything_but_its_audit_entries,
        the_audit_log_lists_newest_first_by_resource_and_cursor,
    ],
}

pub(crate) fn key(id: &str, tenant: &str, at: i64) -> ApiKeyRow {
    ApiKeyRow {
        id: id.to_string(),
        tenant_id: tenant.to_string(),
        key_hash: vec![at as u8; 32],
        created_at_ms: at,
    }
}

pub(crate) fn tenant(id: &str, at: i64) -> TenantRow {
    TenantRow {
        id: id.to_string(),
        name: format!("{id} name"),
        created_at_ms: at,
    }
}

async fn tenants_and_their_keys(db: &mut Db) {
    assert_eq!(
        db.list_tenants().await.unwrap(),
        [TenantRow {
            id: TENANT.to_string(),
            name: "default".to_string(),
            created_at_ms: 0
        }],
        "every database starts with the default tenant"
    );
    db.create_tenant(
        tenant("tnt_acme", 5),
        key("key_1", "tnt_acme", 5),
        vec![audit("tnt_acme", "tenant.created", "tnt_acme", 5)],
    )
    .await
    .unwrap();
    assert_eq!(
        db.get_tenant("tnt_acme").await.unwrap(),
        Some(tenant("tnt_acme", 5))
    );
    assert_eq!(db.get_tenant("tnt_nope").await.unwrap(), None);
    assert_eq!(db.list_tenants().await.unwrap().len(), 2);

    assert!(
        db.add_api_key(
            key("key_2", "tnt_acme", 6),
            audit("tnt_acme", "key.created", "key_2", 6)
        )
        .await
        .unwrap()
    );
    assert!(
        !db.add_api_key(
            key("key_3", "tnt_nope", 6),
            audit("tnt_nope", "key.created", "key_3", 6)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        db.api_keys("tnt_acme").await.unwrap(),
        [key("key_1", "tnt_acme", 5), key("key_2", "tnt_acme", 6)]
    );
    assert_eq!(
        db.find_api_key("key_2").await.unwrap(),
        Some(key("key_2", "tnt_acme", 6))
    );
    assert_eq!(db.find_api_key("key_3").await.unwrap(), None);

    assert!(
        !db.revoke_api_key(TENANT, "key_2", audit(TENANT, "key.revoked", "key_2", 7))
            .await
            .unwrap(),
        "a key is revoked by its own tenant only"
    );
    assert!(
        db.revoke_api_key(
            "tnt_acme",
            "key_2",
            audit("tnt_acme", "key.revoked", "key_2", 7)
        )
        .await
        .unwrap()
    );
    assert_eq!(db.find_api_key("key_2").await.unwrap(), None);
    assert!(
        !db.revoke_api_key(
            "tnt_acme",
            "key_2",
            audit("tnt_acme", "key.revoked", "key_2", 8)
        )
        .await
        .unwrap()
    );
    let actions: Vec<_> = db
        .list_audit(AuditFilter {
            tenant_id: "tnt_acme".to_string(),
            resource_id: None,
            before_seq: None,
            limit: 10,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert_eq!(actions, ["key.revoked", "key.created", "tenant.created"]);
}

async fn deleting_a_tenant_takes_everything_but_its_audit_entries(db: &mut Db) {
    db.create_tenant(tenant("tnt_gone", 1), key("key_g", "tnt_gone", 1), vec![])
        .await
        .unwrap();
    let wh = webhook("tnt_gone", "theirs");
    db.insert_webhook(&wh, audit("tnt_gone", "webhook.created", &wh.id, 1))
        .await
        .unwrap();
    db.ingest("tnt_gone", vec![event("e1", &[wh.id.as_str()], 1)])
        .await
        .unwrap();
    let d = db
        .claim(&wh.id, 2, 1, 60_000, false)
        .await
        .unwrap()
        .deliveries
        .remove(0);
    db.record_attempts(vec![attempt(&d, 2, NextStep::Delivered)])
        .await
        .unwrap();
    // Another tenant's data stays.
    let mine = crate::breaker::stored_webhook(db, "mine").await;
    let kept = claimed(db, &mine.id, "e1", 3).await;
    db.record_attempts(vec![attempt(&kept, 3, NextStep::Delivered)])
        .await
        .unwrap();
    let rollups_of = "SELECT COUNT(*) FROM attempt_rollups WHERE tenant_id = 'tnt_gone'";
    let stats_of = "SELECT COUNT(*) FROM webhook_stats WHERE tenant_id = 'tnt_gone'";
    assert!(db.number(rollups_of).await > 0, "its attempt rolled up");
    assert_eq!(db.number(stats_of).await, 1);

    let deleted = db
        .delete_tenant(
            "tnt_gone",
            vec![audit("tnt_gone", "tenant.deleted", "tnt_gone", 4)],
        )
        .await
        .unwrap();
    assert_eq!(deleted, Some(vec![wh.id.clone()]));
    assert_eq!(db.get_tenant("tnt_gone").await.unwrap(), None);
    assert_eq!(db.find_api_key("key_g").await.unwrap(), None);
    assert!(db.find_webhook(&wh.id).await.unwrap().is_none());
    assert!(db.get_event("tnt_gone", "e1").await.unwrap().is_none());
    assert_eq!(
        db.number("SELECT COUNT(*) FROM deliveries WHERE tenant_id = 'tnt_gone'")
            .await,
        0
    );
    assert_eq!(
        db.number("SELECT COUNT(*) FROM attempts WHERE tenant_id = 'tnt_gone'")
            .await,
        0
    );
    assert_eq!(db.number(rollups_of).await, 0, "its analytics go with it");
    assert_eq!(db.number(stats_of).await, 0, "and its webhooks' stats");
    assert!(db.get_delivery(TENANT, &kept.id).await.unwrap().is_some());
    assert!(
        db.number("SELECT COUNT(*) FROM attempt_rollups").await > 0,
        "another tenant's analytics stay"
    );
    assert!(
        db.webhook_stats(TENANT, vec![mine.id.clone()])
            .await
            .unwrap()
            .iter()
            .any(|s| s.webhook_id == mine.id),
        "and its webhooks' stats"
    );
    let entries = db
        .list_audit(AuditFilter {
            tenant_id: "tnt_gone".to_string(),
            resource_id: None,
            before_seq: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 2, "the audit trail outlives the tenant");
    assert_eq!(db.delete_tenant("tnt_gone", vec![]).await.unwrap(), None);
}

async fn the_audit_log_lists_newest_first_by_resource_and_cursor(db: &mut Db) {
    let mut first = audit(TENANT, "key.created", "key_a", 1);
    first.before = Some(serde_json::json!({"n": 0}));
    db.create_tenant(
        tenant("tnt_x", 1),
        key("key_x", "tnt_x", 1),
        vec![first.clone()],
    )
    .await
    .unwrap();
    for (i, id) in ["key_b", "key_a", "key_c"].iter().enumerate() {
        db.add_api_key(
            key(id, "tnt_x", 2 + i as i64),
            audit(TENANT, "key.created", id, 2 + i as i64),
        )
        .await
        .unwrap();
    }
    let filter = |resource: Option<&str>, before: Option<i64>, limit| AuditFilter {
        tenant_id: TENANT.to_string(),
        resource_id: resource.map(str::to_string),
        before_seq: before,
        limit,
    };
    let all = db.list_audit(filter(None, None, 10)).await.unwrap();
    let order: Vec<_> = all.iter().map(|r| r.entry.at_ms).collect();
    assert_eq!(order, [4, 3, 2, 1]);
    let oldest = &all[3];
    assert!(oldest.id.starts_with("aud_"), "{}", oldest.id);
    assert_eq!(oldest.entry.before, first.before);
    assert_eq!(oldest.entry.after, first.after);
    assert_eq!(oldest.entry.actor, "admin");
    let of_a: Vec<_> = db
        .list_audit(filter(Some("key_a"), None, 10))
        .await
        .unwrap()
        .iter()
        .map(|r| r.entry.at_ms)
        .collect();
    assert_eq!(of_a, [3, 1]);
    let page: Vec<_> = db
        .list_audit(filter(None, Some(all[1].seq), 1))
        .await
        .unwrap()
        .iter()
        .map(|r| r.entry.at_ms)
        .collect();
    assert_eq!(page, [2]);
    assert!(
        db.list_audit(AuditFilter {
            tenant_id: "tnt_y".to_string(),
            ..filter(None, None, 10)
        })
        .await
        .unwrap()
        .is_empty()
    );
}
