//! The web console's sign-in sessions and one-time portal links: found
//! only until they expire, a link redeemed once however many callers (and
//! nodes) race for it, pruned when expired, and gone with their tenant or
//! with the key that signed in.

use herald_store::prelude::*;
use herald_store::{AuditFilter, ConsoleSessionRow, PortalLinkRow};

use crate::fixtures::{TENANT, audit};
use crate::harness::Db;
use crate::tenants::{key, tenant};

contract! {
    both: [
        a_session_is_found_until_it_expires,
        a_signed_out_session_is_gone,
        a_portal_link_is_redeemed_once,
        an_expired_portal_link_is_refused,
        of_many_concurrent_redemptions_exactly_one_succeeds,
        pruning_removes_only_expired_sessions_and_links,
        deleting_a_tenant_takes_its_sessions_and_links,
        revoking_a_key_signs_out_its_sessions,
    ],
}

/// A token hash named by a label: the store never looks inside one, so
/// any 32 distinct bytes do.
fn hash(label: &str) -> Vec<u8> {
    let mut bytes = label.as_bytes().to_vec();
    bytes.resize(32, 0);
    bytes
}

fn session(label: &str, tenant: &str, actor: &str, expires_at_ms: i64) -> ConsoleSessionRow {
    ConsoleSessionRow {
        token_hash: hash(label),
        tenant_id: tenant.to_string(),
        actor: actor.to_string(),
        read_only: false,
        features: None,
        csrf_token: format!("csrf-{label}"),
        portal: false,
        created_at_ms: 1,
        expires_at_ms,
    }
}

fn link(label: &str, tenant: &str, expires_at_ms: i64) -> PortalLinkRow {
    PortalLinkRow {
        token_hash: hash(label),
        tenant_id: tenant.to_string(),
        read_only: true,
        features: Some(vec!["deliveries".to_string(), "webhooks".to_string()]),
        session_ttl_ms: 3_600_000,
        created_at_ms: 1,
        expires_at_ms,
    }
}

/// Stores a portal link, audited as the console would.
async fn stored_link(db: &Db, row: PortalLinkRow) {
    let entry = audit(&row.tenant_id, "portal_link.created", "portal", 1);
    db.insert_portal_link(row, entry).await.unwrap();
}

async fn a_session_is_found_until_it_expires(db: &mut Db) {
    let all = session("all", TENANT, "admin", 100);
    let scoped = ConsoleSessionRow {
        read_only: true,
        features: Some(vec!["deliveries".to_string()]),
        portal: true,
        ..session("scoped", TENANT, "key_1", 200)
    };
    let empty = ConsoleSessionRow {
        features: Some(vec![]),
        ..session("empty", TENANT, "admin", 200)
    };
    for row in [&all, &scoped, &empty] {
        db.insert_console_session(row.clone()).await.unwrap();
    }
    let find = |label: &'static str, now| db.find_console_session(hash(label), now);
    assert_eq!(find("all", 99).await.unwrap(), Some(all.clone()));
    assert_eq!(find("scoped", 99).await.unwrap(), Some(scoped.clone()));
    assert_eq!(
        find("empty", 99).await.unwrap(),
        Some(empty),
        "no features is not all features"
    );
    assert_eq!(find("nobody", 99).await.unwrap(), None);
    assert_eq!(
        find("all", 100).await.unwrap(),
        None,
        "expired at its expiry time"
    );
    assert_eq!(find("scoped", 100).await.unwrap(), Some(scoped));
    assert!(
        db.insert_console_session(all).await.is_err(),
        "a token hash is stored once"
    );
}

async fn a_signed_out_session_is_gone(db: &mut Db) {
    db.insert_console_session(session("mine", TENANT, "admin", 100))
        .await
        .unwrap();
    db.insert_console_session(session("theirs", TENANT, "admin", 100))
        .await
        .unwrap();
    assert!(db.delete_console_session(hash("mine")).await.unwrap());
    assert_eq!(
        db.find_console_session(hash("mine"), 1).await.unwrap(),
        None
    );
    assert!(
        !db.delete_console_session(hash("mine")).await.unwrap(),
        "signed out already"
    );
    assert!(
        db.find_console_session(hash("theirs"), 1)
            .await
            .unwrap()
            .is_some(),
        "another session stays"
    );
}

async fn a_portal_link_is_redeemed_once(db: &mut Db) {
    let row = link("once", TENANT, 100);
    stored_link(db, row.clone()).await;
    let entries = db
        .list_audit(AuditFilter {
            tenant_id: TENANT.to_string(),
            resource_id: None,
            before_seq: None,
            limit: 10,
        })
        .await
        .unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(actions, ["portal_link.created"], "written with the link");

    assert_eq!(
        db.redeem_portal_link(hash("once"), 50).await.unwrap(),
        Some(row)
    );
    assert_eq!(
        db.redeem_portal_link(hash("once"), 51).await.unwrap(),
        None,
        "refused the second time"
    );
    assert_eq!(
        db.redeem_portal_link(hash("never"), 50).await.unwrap(),
        None
    );

    // Another node sees it used too.
    if db.is_postgres() {
        let other = db.open_with(db.key()).await.unwrap();
        assert_eq!(
            other.redeem_portal_link(hash("once"), 52).await.unwrap(),
            None
        );
    }
}

async fn an_expired_portal_link_is_refused(db: &mut Db) {
    stored_link(db, link("late", TENANT, 100)).await;
    stored_link(db, link("in time", TENANT, 100)).await;
    assert_eq!(
        db.redeem_portal_link(hash("late"), 100).await.unwrap(),
        None,
        "expired at its expiry time"
    );
    assert_eq!(
        db.redeem_portal_link(hash("late"), 50).await.unwrap(),
        Some(link("late", TENANT, 100)),
        "a refusal for lateness does not use the link up"
    );
    assert!(
        db.redeem_portal_link(hash("in time"), 99)
            .await
            .unwrap()
            .is_some()
    );
}

async fn of_many_concurrent_redemptions_exactly_one_succeeds(db: &mut Db) {
    stored_link(db, link("raced", TENANT, 1_000)).await;
    // On PostgreSQL the racers are spread over two nodes.
    let mut nodes = vec![db.store().clone()];
    if db.is_postgres() {
        nodes.push(db.open_with(db.key()).await.unwrap());
    }
    let racers: Vec<_> = (0..32)
        .map(|i| {
            let node = nodes[i % nodes.len()].clone();
            tokio::spawn(async move { node.redeem_portal_link(hash("raced"), 10).await })
        })
        .collect();
    let mut redeemed = 0;
    for racer in racers {
        if racer.await.unwrap().unwrap().is_some() {
            redeemed += 1;
        }
    }
    assert_eq!(redeemed, 1, "one redemption wins, the others are refused");
    assert_eq!(
        db.number("SELECT COUNT(*) FROM portal_links WHERE used_at = 10")
            .await,
        1
    );
}

async fn pruning_removes_only_expired_sessions_and_links(db: &mut Db) {
    db.insert_console_session(session("old", TENANT, "admin", 10))
        .await
        .unwrap();
    db.insert_console_session(session("live", TENANT, "admin", 20))
        .await
        .unwrap();
    stored_link(db, link("old unused", TENANT, 10)).await;
    stored_link(db, link("old used", TENANT, 10)).await;
    stored_link(db, link("live used", TENANT, 20)).await;
    stored_link(db, link("live unused", TENANT, 20)).await;
    for used in ["old used", "live used"] {
        assert!(
            db.redeem_portal_link(hash(used), 5)
                .await
                .unwrap()
                .is_some()
        );
    }

    assert_eq!(db.prune_console(10).await.unwrap(), 3);
    assert_eq!(db.prune_console(10).await.unwrap(), 0, "nothing left to go");
    assert_eq!(
        db.number("SELECT COUNT(*) FROM console_sessions").await,
        1,
        "the live session stays"
    );
    assert_eq!(
        db.number("SELECT COUNT(*) FROM portal_links").await,
        2,
        "and the live links, used or not"
    );
    assert!(
        db.find_console_session(hash("live"), 15)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        db.redeem_portal_link(hash("live unused"), 15)
            .await
            .unwrap()
            .is_some()
    );
}

async fn deleting_a_tenant_takes_its_sessions_and_links(db: &mut Db) {
    db.create_tenant(tenant("tnt_gone", 1), key("key_g", "tnt_gone", 1), vec![])
        .await
        .unwrap();
    for (label, tenant_id) in [("gone", "tnt_gone"), ("kept", TENANT)] {
        db.insert_console_session(session(label, tenant_id, "admin", 100))
            .await
            .unwrap();
        stored_link(db, link(label, tenant_id, 100)).await;
    }

    db.delete_tenant("tnt_gone", vec![])
        .await
        .unwrap()
        .expect("the tenant existed");
    assert_eq!(
        db.find_console_session(hash("gone"), 1).await.unwrap(),
        None
    );
    assert_eq!(db.redeem_portal_link(hash("gone"), 1).await.unwrap(), None);
    assert_eq!(
        db.number(
            "SELECT (SELECT COUNT(*) FROM console_sessions WHERE tenant_id = 'tnt_gone')
                  + (SELECT COUNT(*) FROM portal_links WHERE tenant_id = 'tnt_gone')"
        )
        .await,
        0,
        "no row of the tenant is left"
    );
    assert!(
        db.find_console_session(hash("kept"), 1)
            .await
            .unwrap()
            .is_some(),
        "another tenant's session stays"
    );
    assert!(
        db.redeem_portal_link(hash("kept"), 1)
            .await
            .unwrap()
            .is_some(),
        "and its link"
    );
}

async fn revoking_a_key_signs_out_its_sessions(db: &mut Db) {
    db.create_tenant(tenant("tnt_k", 1), key("key_1", "tnt_k", 1), vec![])
        .await
        .unwrap();
    db.add_api_key(
        key("key_2", "tnt_k", 2),
        audit("tnt_k", "key.created", "key_2", 2),
    )
    .await
    .unwrap();
    for (label, actor) in [
        ("first", "key_1"),
        ("second", "key_1"),
        ("other key", "key_2"),
        ("admin", "admin"),
    ] {
        db.insert_console_session(session(label, "tnt_k", actor, 100))
            .await
            .unwrap();
    }

    assert!(
        !db.revoke_api_key(TENANT, "key_1", audit(TENANT, "key.revoked", "key_1", 3))
            .await
            .unwrap(),
        "another tenant cannot revoke it"
    );
    assert!(
        db.find_console_session(hash("first"), 1)
            .await
            .unwrap()
            .is_some(),
        "so its sessions stay"
    );

    assert!(
        db.revoke_api_key("tnt_k", "key_1", audit("tnt_k", "key.revoked", "key_1", 3))
            .await
            .unwrap()
    );
    for gone in ["first", "second"] {
        assert_eq!(
            db.find_console_session(hash(gone), 1).await.unwrap(),
            None,
            "{gone}"
        );
    }
    for kept in ["other key", "admin"] {
        assert!(
            db.find_console_session(hash(kept), 1)
                .await
                .unwrap()
                .is_some(),
            "{kept}"
        );
    }
}
