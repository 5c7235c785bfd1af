//! The schema: one version number for the same schema on both engines,
//! kept across restarts, and PostgreSQL databases of earlier releases
//! recognised for what they are.

use herald_store::prelude::*;

use crate::fixtures::{TENANT, event};
use crate::harness::Db;

contract! {
    both: [a_reopened_database_keeps_its_version_and_data],
    sqlite: [a_database_of_the_last_release_migrates_with_its_data],
    postgres: [a_database_from_an_earlier_release_is_recognised_not_rebuilt],
}

/// Rows as an earlier release wrote them (plain SQL, either engine): an
/// event, its delivery, and an attempt whose response body is text.
const EARLIER_ROWS: &str = "
INSERT INTO events (tenant_id, id, type, body, delivery_count, created_at)
    VALUES ('tnt_default', 'evt_old', 'a.b', '{}', 1, 1);
INSERT INTO deliveries (id, tenant_id, event_seq, webhook_id, status, attempt_count,
                        next_attempt_at, created_at, updated_at)
    VALUES ('dlv_old', 'tnt_default', (SELECT seq FROM events WHERE id = 'evt_old'),
            'wh_old', 'retrying', 1, 1, 1, 1);
INSERT INTO attempts (id, delivery_seq, tenant_id, number, started_at, duration_ms, outcome,
                      request_headers, response_body)
    VALUES ('att_old', (SELECT seq FROM deliveries WHERE id = 'dlv_old'), 'tnt_default',
            1, 1, 5, 'retry', '{}', 'héllo, ünïcode');
";

/// What an earlier release stored reads back after the migration, the
/// text body as its bytes.
async fn assert_earlier_rows(db: &Db) {
    let (row, attempts) = db.get_delivery(TENANT, "dlv_old").await.unwrap().unwrap();
    assert_eq!((row.event_id.as_str(), row.attempt_count), ("evt_old", 1));
    assert_eq!(
        attempts[0].response_body.as_deref(),
        Some("héllo, ünïcode".as_bytes())
    );
    assert!(
        db.claim("wh_old", 10, 1, 1_000, false)
            .await
            .unwrap()
            .deliveries
            .len()
            == 1
    );
}

async fn a_database_of_the_last_release_migrates_with_its_data(db: &mut Db) {
    let version = db.schema_version().await.unwrap();
    let older = Db::sqlite_empty();
    older
        .execute(include_str!("fixtures/sqlite_version_4.sql"))
        .await;
    older.execute(EARLIER_ROWS).await;
    let mut older = older.open().await;
    assert_eq!(older.schema_version().await.unwrap(), version);
    assert_earlier_rows(&older).await;
    older.reopen().await;
    assert_eq!(older.schema_version().await.unwrap(), version);
    older.finish().await;
}

#[tokio::test]
async fn both_engines_are_at_the_same_version() {
    let sqlite = Db::sqlite().await;
    let postgres = Db::postgres().await;
    let version = sqlite.schema_version().await.unwrap();
    assert!(version >= 4, "version {version}");
    assert_eq!(postgres.schema_version().await.unwrap(), version);
    sqlite.finish().await;
    postgres.finish().await;
}

async fn a_reopened_database_keeps_its_version_and_data(db: &mut Db) {
    let version = db.schema_version().await.unwrap();
    db.ingest(TENANT, vec![event("e1", &["wh"], 1)])
        .await
        .unwrap();
    db.reopen().await;
    assert_eq!(db.schema_version().await.unwrap(), version);
    db.ping().await.unwrap();
    assert!(db.get_event(TENANT, "e1").await.unwrap().is_some());
}

/// The columns and indexes of the test's PostgreSQL database.
async fn layout(db: &Db) -> Vec<String> {
    let mut layout = db
        .texts(
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' '
                    || is_nullable || ' ' || COALESCE(column_default, '')
                    || ' ' || COALESCE(collation_name, '')
             FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .await;
    layout.extend(
        db.texts("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'")
            .await,
    );
    layout.sort();
    layout
}

async fn a_database_from_an_earlier_release_is_recognised_not_rebuilt(db: &mut Db) {
    let current = layout(db).await;
    let version = db.schema_version().await.unwrap();

    // The same database as an earlier release left it: its one step, in
    // `herald_schema` as version 1, and rows written then.
    let legacy = crate::harness::Db::postgres_empty().await;
    legacy
        .execute(include_str!("fixtures/postgres_before_one_list.sql"))
        .await;
    legacy.execute(EARLIER_ROWS).await;
    let mut legacy = legacy.open().await;
    assert_eq!(legacy.schema_version().await.unwrap(), version);
    assert_earlier_rows(&legacy).await;
    assert_eq!(
        layout(&legacy).await,
        current,
        "the same tables and indexes as a database made now"
    );
    let recorded = legacy
        .number("SELECT COUNT(DISTINCT version)::bigint FROM herald_schema")
        .await;
    assert_eq!(recorded, i64::from(version), "every version recorded once");
    legacy.reopen().await;
    assert_eq!(legacy.schema_version().await.unwrap(), version);
    legacy.finish().await;
}
