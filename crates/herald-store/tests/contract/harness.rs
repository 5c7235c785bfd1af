//! A fresh database per test on either engine, and the macro that runs one
//! behaviour on both.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a new database on
//! the server `HERALD_TEST_DATABASE` names (else the local one), dropped
//! when the test passes and kept for a look when it fails. A PostgreSQL
//! test fails, saying why, when the server is not there: it never skips.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use herald_store::prelude::*;
use herald_store::{
    Engine, Ingest, Ingested, MasterKey, NewEvent, PostgresOptions, SqliteOptions, Store,
    StoreError, StoreOptions,
};
use sqlx::Connection;

/// Runs each listed behaviour (`async fn name(db: &mut Db)` in the calling
/// module) as `sqlite::name` and `postgres::name`; behaviours that exist on
/// one engine only are listed under its name.
macro_rules! contract {
    (
        both: [$($both:ident),* $(,)?]
        $(, sqlite: [$($sqlite:ident),* $(,)?])?
        $(, postgres: [$($postgres:ident),* $(,)?])?
        $(,)?
    ) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $both() {
                    let mut db = $crate::harness::Db::sqlite().await;
                    super::$both(&mut db).await;
                    db.finish().await;
                }
            )*
            $($(
                #[tokio::test]
                async fn $sqlite() {
                    let mut db = $crate::harness::Db::sqlite().await;
                    super::$sqlite(&mut db).await;
                    db.finish().await;
                }
            )*)?
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $both() {
                    let mut db = $crate::harness::Db::postgres().await;
                    super::$both(&mut db).await;
                    db.finish().await;
                }
            )*
            $($(
                #[tokio::test]
                async fn $postgres() {
                    let mut db = $crate::harness::Db::postgres().await;
                    super::$postgres(&mut db).await;
                    db.finish().await;
                }
            )*)?
        }
    };
}

/// The PostgreSQL server tests create their databases on:
/// `HERALD_TEST_DATABASE`, else `HERALD_TEST_POSTGRES` (the server
/// `scripts/test` gives every pass), else the local one.
pub(crate) fn admin_url() -> String {
    ["HERALD_TEST_DATABASE", "HERALD_TEST_POSTGRES"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|url| !url.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Creates an empty database and returns its name and URL. Panics, saying
/// why, when PostgreSQL is not there.
pub(crate) async fn fresh_database() -> (String, String) {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let admin = admin_url();
    let name = format!(
        "herald_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand::random::<u32>()
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for the store's contract tests and is not reachable \
                 at {admin} (set HERALD_TEST_DATABASE to an admin URL): {e}"
            )
        });
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(&admin).expect("a postgres:// URL");
    url.set_path(&format!("/{name}"));
    (name, url.to_string())
}

/// One test's database and the store open on it.
pub(crate) struct Db {
    dir: tempfile::TempDir,
    /// The PostgreSQL database: its name and URL.
    postgres: Option<(String, String)>,
    key: MasterKey,
    store: Option<Store>,
}

impl Db {
    pub(crate) async fn sqlite() -> Db {
        Db::new(None).await
    }

    pub(crate) async fn postgres() -> Db {
        let database = fresh_database().await;
        Db::new(Some(database)).await
    }

    /// A fresh PostgreSQL database with no store open on it yet (nothing
    /// migrated), for a test that lays it out by hand; then [`Db::open`].
    pub(crate) async fn postgres_empty() -> Db {
        let database = fresh_database().await;
        Db::unopened(Some(database))
    }

    /// A SQLite file not yet made, for a test that lays it out by hand;
    /// then [`Db::open`].
    pub(crate) fn sqlite_empty() -> Db {
        Db::unopened(None)
    }

    fn unopened(postgres: Option<(String, String)>) -> Db {
        Db {
            dir: tempfile::tempdir().unwrap(),
            postgres,
            key: MasterKey::generate(),
            store: None,
        }
    }

    async fn new(postgres: Option<(String, String)>) -> Db {
        Db::unopened(postgres).open().await
    }

    /// Opens the store on the database.
    pub(crate) async fn open(mut self) -> Db {
        let store = self.open_with(&self.key.clone()).await.unwrap();
        self.store = Some(store);
        self
    }

    /// The store, for a call that `Db`'s own methods would shadow.
    pub(crate) fn store(&self) -> &Store {
        self
    }

    /// Ingests as a caller whose routing table is current (the behaviours
    /// of a stale one are in `registry`), expecting the events stored.
    pub(crate) async fn ingest(
        &self,
        tenant_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Ingested>, StoreError> {
        let version = self.registry_version().await?;
        match self.store().ingest(tenant_id, version, events).await? {
            Ingest::Stored(answers) => Ok(answers),
            stale => panic!("matched against the current registry, yet {stale:?}"),
        }
    }

    /// The key the test's store was opened with.
    pub(crate) fn key(&self) -> &MasterKey {
        &self.key
    }

    /// The SQLite file.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("herald.db")
    }

    /// Whether the test runs on PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The PostgreSQL database's URL.
    pub(crate) fn url(&self) -> &str {
        &self.postgres.as_ref().expect("a PostgreSQL test").1
    }

    pub(crate) fn options(&self, key: &MasterKey) -> StoreOptions {
        let engine = match &self.postgres {
            None => Engine::Sqlite(SqliteOptions::new(self.path())),
            Some((_, url)) => Engine::Postgres(PostgresOptions::new(url.clone())),
        };
        StoreOptions {
            engine,
            master_key: key.clone(),
        }
    }

    /// Another store on the same database: another node, or this one after
    /// a restart (close the first one before, on SQLite).
    pub(crate) async fn open_with(&self, key: &MasterKey) -> Result<Store, StoreError> {
        Store::open(self.options(key)).await
    }

    /// Closes the store and opens the database again, as a restart does.
    pub(crate) async fn reopen(&mut self) {
        self.close();
        let store = self.open_with(&self.key.clone()).await.unwrap();
        self.store = Some(store);
    }

    /// Closes the store (a stopped node).
    pub(crate) fn close(&mut self) {
        self.store = None;
    }

    /// Runs plain SQL on the database, beside the store.
    pub(crate) async fn execute(&self, sql: &str) {
        match &self.postgres {
            None => {
                let conn = rusqlite::Connection::open(self.path()).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .unwrap();
                conn.execute_batch(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            Some((_, url)) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }

    /// The one integer a query answers.
    pub(crate) async fn number(&self, sql: &str) -> i64 {
        match &self.postgres {
            None => {
                let conn = rusqlite::Connection::open(self.path()).unwrap();
                conn.query_row(sql, [], |r| r.get(0))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Some((_, url)) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// The text values a query answers, one per row.
    pub(crate) async fn texts(&self, sql: &str) -> Vec<String> {
        match &self.postgres {
            None => {
                let conn = rusqlite::Connection::open(self.path()).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                stmt.query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Some((_, url)) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar::<_, String>(sql)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// Closes the store and drops the PostgreSQL database (a failed test
    /// never gets here, so its database stays for a look).
    pub(crate) async fn finish(mut self) {
        self.close();
        if let Some((name, _)) = &self.postgres {
            drop_database(name).await;
        }
    }
}

pub(crate) async fn drop_database(name: &str) {
    let mut conn = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}

impl Deref for Db {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store.as_ref().expect("the store is open")
    }
}
