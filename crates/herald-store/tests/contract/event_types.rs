//! The event type registry: per-tenant names, versions that refuse a
//! write based on an older read, the archived filter, the tenant's
//! validation mode, and the schema errors an event is stored with.

use herald_store::prelude::*;
use herald_store::{EventTypeFilter, EventTypeRow, StoreError};

use crate::fixtures::{TENANT, audit, event};
use crate::harness::Db;

contract! {
    both: [
        event_types_are_kept_per_tenant_by_name,
        a_change_based_on_an_older_read_is_refused,
        lists_leave_archived_types_out_unless_asked,
        the_validation_mode_is_kept_per_tenant,
        an_event_keeps_its_schema_errors,
    ],
}

fn row(tenant: &str, name: &str) -> EventTypeRow {
    EventTypeRow {
        tenant_id: tenant.to_string(),
        name: name.to_string(),
        description: format!("about {name}"),
        schema: Some(r#"{"type":"object"}"#.to_string()),
        examples: r#"[{"a":1}]"#.to_string(),
        deprecated: false,
        archived: false,
        version: 1,
        created_at_ms: 10,
        updated_at_ms: 10,
    }
}

fn all(tenant: &str) -> EventTypeFilter {
    EventTypeFilter {
        tenant_id: tenant.to_string(),
        after_name: None,
        include_archived: true,
        limit: 100,
    }
}

async fn event_types_are_kept_per_tenant_by_name(db: &mut Db) {
    let a = row(TENANT, "order.created");
    db.insert_event_type(
        a.clone(),
        audit(TENANT, "event_type.created", "order.created", 10),
    )
    .await
    .unwrap();
    assert_eq!(
        db.get_event_type(TENANT, "order.created").await.unwrap(),
        Some(a.clone())
    );
    // The same name again is refused; another tenant's namespace is its own.
    let again = db
        .insert_event_type(a.clone(), audit(TENANT, "event_type.created", "x", 10))
        .await;
    assert!(
        matches!(again, Err(StoreError::UniqueViolation(_))),
        "{again:?}"
    );
    assert_eq!(
        db.get_event_type("tnt_other", "order.created")
            .await
            .unwrap(),
        None
    );
    assert!(
        db.list_event_types(all("tnt_other"))
            .await
            .unwrap()
            .is_empty()
    );

    assert!(
        db.delete_event_type(
            TENANT,
            "order.created",
            audit(TENANT, "event_type.deleted", "x", 11)
        )
        .await
        .unwrap()
    );
    assert!(
        !db.delete_event_type(
            TENANT,
            "order.created",
            audit(TENANT, "event_type.deleted", "x", 11)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        db.get_event_type(TENANT, "order.created").await.unwrap(),
        None
    );
}

async fn a_change_based_on_an_older_read_is_refused(db: &mut Db) {
    db.insert_event_type(
        row(TENANT, "a.b"),
        audit(TENANT, "event_type.created", "a.b", 1),
    )
    .await
    .unwrap();
    let changed = EventTypeRow {
        description: "second".to_string(),
        schema: None,
        archived: true,
        version: 2,
        updated_at_ms: 20,
        ..row(TENANT, "a.b")
    };
    assert!(
        db.update_event_type(
            changed.clone(),
            audit(TENANT, "event_type.updated", "a.b", 20)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        db.get_event_type(TENANT, "a.b").await.unwrap(),
        Some(changed.clone())
    );
    // A writer that also read version 1 is refused and changes nothing.
    let stale = EventTypeRow {
        description: "lost".to_string(),
        ..changed.clone()
    };
    assert!(
        !db.update_event_type(stale, audit(TENANT, "event_type.updated", "a.b", 21))
            .await
            .unwrap()
    );
    assert_eq!(
        db.get_event_type(TENANT, "a.b")
            .await
            .unwrap()
            .unwrap()
            .description,
        "second"
    );
    let audits = db
        .list_audit(herald_store::AuditFilter {
            tenant_id: TENANT.to_string(),
            resource_id: None,
            before_seq: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        audits
            .iter()
            .filter(|a| a.entry.action == "event_type.updated")
            .count(),
        1,
        "only the write that happened is audited"
    );
}

async fn lists_leave_archived_types_out_unless_asked(db: &mut Db) {
    for (name, archived) in [("c", false), ("a", true), ("b", false)] {
        let r = EventTypeRow {
            archived,
            ..row(TENANT, name)
        };
        db.insert_event_type(r, audit(TENANT, "event_type.created", name, 1))
            .await
            .unwrap();
    }
    let names = |rows: Vec<EventTypeRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(
        names(db.list_event_types(all(TENANT)).await.unwrap()),
        ["a", "b", "c"]
    );
    let live = EventTypeFilter {
        include_archived: false,
        ..all(TENANT)
    };
    assert_eq!(names(db.list_event_types(live).await.unwrap()), ["b", "c"]);
    let page = EventTypeFilter {
        after_name: Some("a".to_string()),
        limit: 1,
        ..all(TENANT)
    };
    assert_eq!(names(db.list_event_types(page).await.unwrap()), ["b"]);
}

async fn the_validation_mode_is_kept_per_tenant(db: &mut Db) {
    assert_eq!(
        db.schema_validation(TENANT).await.unwrap().as_deref(),
        Some("off"),
        "off unless set"
    );
    assert_eq!(db.schema_validation("tnt_none").await.unwrap(), None);
    assert!(
        db.set_schema_validation(TENANT, "reject", audit(TENANT, "tenant.updated", TENANT, 1))
            .await
            .unwrap()
    );
    assert_eq!(
        db.schema_validation(TENANT).await.unwrap().as_deref(),
        Some("reject")
    );
    assert!(
        !db.set_schema_validation("tnt_none", "warn", audit(TENANT, "tenant.updated", "x", 1))
            .await
            .unwrap()
    );
}

async fn an_event_keeps_its_schema_errors(db: &mut Db) {
    let mut warned = event("warned", &[], 5);
    warned.schema_errors = Some(r#"[{"pointer":"/a","message":"bad"}]"#.to_string());
    db.ingest(TENANT, vec![warned.clone(), event("clean", &[], 6)])
        .await
        .unwrap();
    let got = db.get_event(TENANT, "warned").await.unwrap().unwrap();
    assert_eq!(got.schema_errors, warned.schema_errors);
    let clean = db.get_event(TENANT, "clean").await.unwrap().unwrap();
    assert_eq!(clean.schema_errors, None);
    let listed = db.list_events(TENANT, None, None, 10).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|e| e.schema_errors == warned.schema_errors)
    );
}
