//! Fresh PostgreSQL databases for store tests.

#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use herald_store::{Engine, MasterKey, PostgresOptions, StoreOptions};
use sqlx::Connection;

/// The PostgreSQL tests use: `HERALD_TEST_DATABASE`, else
/// `HERALD_TEST_POSTGRES` (the server of `scripts/test`), else the local one.
pub(crate) fn admin_url() -> String {
    std::env::var("HERALD_TEST_DATABASE")
        .or_else(|_| std::env::var("HERALD_TEST_POSTGRES"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Creates an empty database and returns its URL. Panics, saying why, when
/// PostgreSQL is not there: these tests never pass without it.
pub(crate) async fn fresh_database(admin: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "herald_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand::random::<u32>()
    );
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is required for this test and is not reachable at {admin}: {e}")
        });
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(admin).expect("a postgres:// URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Options for the PostgreSQL database of a test directory: created on
/// first use, the same one when the test reopens the directory.
pub(crate) async fn postgres_options(dir: &Path, admin: &str) -> StoreOptions {
    let marker = dir.join("database-url");
    let url = match std::fs::read_to_string(&marker) {
        Ok(url) => url,
        Err(_) => {
            let url = fresh_database(admin).await;
            std::fs::write(&marker, &url).unwrap();
            url
        }
    };
    StoreOptions {
        engine: Engine::Postgres(PostgresOptions::new(url)),
        master_key: MasterKey::generate(),
    }
}
