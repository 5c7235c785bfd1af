//! Failures keep their kind: a caller tells a duplicate from damaged data
//! from a database that cannot answer now.

use std::time::Duration;

use herald_store::prelude::*;
use herald_store::{
    ApiKeyRow, Engine, MasterKey, PostgresOptions, Store, StoreError, StoreOptions, TenantRow,
};

use crate::fixtures::{TENANT, audit, webhook};
use crate::harness::Db;

contract! {
    both: [a_duplicate_key_is_a_unique_violation],
    sqlite: [a_file_that_is_not_a_database_is_corrupt],
    postgres: [
        a_server_that_drops_the_connection_is_unavailable,
        a_read_only_database_says_so,
    ],
}

async fn a_duplicate_key_is_a_unique_violation(db: &mut Db) {
    let wh = webhook(TENANT, "twice");
    db.insert_webhook(&wh, audit(TENANT, "webhook.created", &wh.id, 1))
        .await
        .unwrap();
    let again = db
        .insert_webhook(&wh, audit(TENANT, "webhook.created", &wh.id, 2))
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::UniqueViolation(_)), "{again:?}");
    assert!(!again.is_unavailable());
    let tenant = TenantRow {
        id: TENANT.to_string(),
        name: "again".to_string(),
        created_at_ms: 1,
    };
    let key = ApiKeyRow {
        id: "key_1".to_string(),
        tenant_id: TENANT.to_string(),
        key_hash: vec![0; 32],
        created_at_ms: 1,
    };
    let again = db.create_tenant(tenant, key, vec![]).await.unwrap_err();
    assert!(matches!(again, StoreError::UniqueViolation(_)), "{again:?}");
    // Nothing of the failed change was kept.
    assert_eq!(db.find_api_key("key_1").await.unwrap(), None);
}

async fn a_file_that_is_not_a_database_is_corrupt(db: &mut Db) {
    let path = db.path().with_file_name("garbage.db");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let error = Store::open(StoreOptions::new(&path, db.key().clone()))
        .await
        .err()
        .expect("garbage does not open");
    assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    assert!(!error.is_unavailable());
}

async fn a_server_that_drops_the_connection_is_unavailable(_db: &mut Db) {
    // A listener that hangs up on every connection, as a server going
    // away does.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let options = StoreOptions {
        engine: Engine::Postgres(PostgresOptions::new(format!(
            "postgres://postgres@127.0.0.1:{port}/herald"
        ))),
        master_key: MasterKey::generate(),
    };
    let error = tokio::time::timeout(Duration::from_secs(30), Store::open(options))
        .await
        .expect("a refused connection is reported, not waited on forever")
        .err()
        .expect("nothing to open");
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(error.is_unavailable());
}

async fn a_read_only_database_says_so(db: &mut Db) {
    // New sessions are read-only; the store's sessions are ended, so it
    // reconnects into one.
    let name = db.url().rsplit('/').next().unwrap().to_string();
    db.execute(&format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{name}' AND pid <> pg_backend_pid();"
    ))
    .await;
    let wh = webhook(TENANT, "refused");
    let error = db
        .insert_webhook(&wh, audit(TENANT, "webhook.created", &wh.id, 1))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::ReadOnly(_)), "{error:?}");
    assert!(error.is_unavailable());
    // Reads still work.
    assert!(db.get_webhook(TENANT, &wh.id).await.unwrap().is_none());
}
