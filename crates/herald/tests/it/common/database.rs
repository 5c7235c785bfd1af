//! Which database the servers under test store in.
//!
//! Without `HERALD_TEST_DATABASE` every server keeps the embedded SQLite
//! file in its data directory. With it set to a PostgreSQL admin URL
//! (`postgres://postgres@127.0.0.1:5432/test`), every data directory gets
//! its own fresh PostgreSQL database, created through that URL and
//! remembered in the data directory, so a restart on the same directory
//! finds the same data. Nothing is dropped here, so after a plain
//! `cargo test` a failed test's database is still there to look at;
//! `scripts/test` cleans up after its run: it removes the throwaway server
//! it started, or the `herald_t_*` databases of a server it was given.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::{Connection, PgConnection};

/// Selects PostgreSQL and says which server to create databases on.
pub(crate) const TEST_DATABASE_VAR: &str = "HERALD_TEST_DATABASE";

/// The PostgreSQL server of the run, set on SQLite passes too: only the
/// tests that need PostgreSQL whatever the backend use it.
const TEST_SERVER_VAR: &str = "HERALD_TEST_POSTGRES";

/// Where a data directory remembers the database made for it.
const URL_FILE: &str = "test-database-url";

/// Prefix of every database the tests create; `scripts/test` drops by it.
const NAME_PREFIX: &str = "herald_t_";

/// An unreachable server should fail the test, not stall the suite.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL admin URL, or `None` when the tests run on SQLite.
pub(crate) fn postgres_admin_url() -> Option<String> {
    std::env::var(TEST_DATABASE_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// The `HERALD_DATABASE_URL` a server on `data_dir` must use: `None` on
/// SQLite; on PostgreSQL the database made for this directory, created on
/// first use.
pub(crate) async fn database_url_for(data_dir: &Path) -> Option<String> {
    let admin_url = postgres_admin_url()?;
    let remembered = url_file(data_dir);
    if let Ok(url) = std::fs::read_to_string(&remembered) {
        return Some(url.trim().to_string());
    }
    let url = create_database(&admin_url).await;
    create_private_dir(data_dir);
    std::fs::write(&remembered, &url)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", remembered.display()));
    Some(url)
}

/// The environment a spawned `herald` needs to use the test's database.
pub(crate) async fn database_env(data_dir: &Path) -> Vec<(&'static str, String)> {
    database_url_for(data_dir)
        .await
        .map(|url| vec![("HERALD_DATABASE_URL", url)])
        .unwrap_or_default()
}

/// Fails the test unless a server that started on `data_dir` really stores
/// in the database it was given: a server that ignored the URL and kept
/// SQLite would otherwise pass every test without touching PostgreSQL.
pub(crate) async fn assert_uses_test_database(data_dir: &Path) {
    let Some(url) = remembered_url(data_dir) else {
        return;
    };
    let sqlite_file = data_dir.join("herald.db");
    assert!(
        !sqlite_file.exists(),
        "{TEST_DATABASE_VAR} is set, yet the server on {} created {}: it stored in \
         SQLite instead of the PostgreSQL database {url}",
        data_dir.display(),
        sqlite_file.display()
    );
    let tables = table_count(&url).await;
    assert!(
        tables > 0,
        "{TEST_DATABASE_VAR} is set, yet the server on {} left its PostgreSQL \
         database {url} without a single table",
        data_dir.display()
    );
}

/// The URL of the database made for `data_dir`, if one was.
pub(crate) fn remembered_url(data_dir: &Path) -> Option<String> {
    postgres_admin_url()?;
    std::fs::read_to_string(url_file(data_dir))
        .ok()
        .map(|url| url.trim().to_string())
}

/// How many tables the database at `url` holds outside the system schemas.
pub(crate) async fn table_count(url: &str) -> i64 {
    let mut conn = connect(url).await;
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("cannot count the tables of {url}: {e}"));
    let _ = conn.close().await;
    count
}

/// Every row of the database at `url` as `pg_dump --data-only` prints it:
/// what an attacker with a backup, or the database's files, would read.
pub(crate) fn dump_data(url: &str) -> Vec<u8> {
    let out = std::process::Command::new("pg_dump")
        .args(["--data-only", "--no-owner", "--dbname"])
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run pg_dump (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "pg_dump of {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh database for a test that needs PostgreSQL whichever backend the
/// suite runs on (several nodes on one database): on the suite's server,
/// else on `HERALD_TEST_POSTGRES` (the server `scripts/test` runs, which
/// it names for the SQLite pass too), else on the local one. Fails, saying
/// why, when there is none.
pub(crate) async fn fresh_database() -> String {
    let admin = postgres_admin_url()
        .or_else(|| {
            std::env::var(TEST_SERVER_VAR)
                .ok()
                .filter(|url| !url.trim().is_empty())
        })
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_string());
    create_database(&admin).await
}

/// Makes the servers on `data_dir` use the database at `url` (several
/// nodes of one cluster share it).
/// [`share_database`] for a data directory that does not exist yet.
pub(crate) fn share_database_new_dir(data_dir: &Path, url: &str) {
    std::fs::create_dir_all(data_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", data_dir.display()));
    share_database(data_dir, url);
}

pub(crate) fn share_database(data_dir: &Path, url: &str) {
    std::fs::write(url_file(data_dir), url)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", url_file(data_dir).display()));
}

fn url_file(data_dir: &Path) -> PathBuf {
    data_dir.join(URL_FILE)
}

/// Creates `herald_t_<pid>_<counter>_<random>` and returns its URL: the
/// pid and counter keep this run's names apart, the random part keeps
/// them apart from leftovers of an earlier run with the same pid.
async fn create_database(admin_url: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let ulid = herald_core::ids::new_id("db");
    // The last 16 characters of a ULID are its random bits.
    let random = ulid[ulid.len() - 16..].to_ascii_lowercase();
    let name = format!(
        "{NAME_PREFIX}{}_{}_{random}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = connect(admin_url).await;
    // CREATE DATABASE cannot run in a transaction: send it as a plain
    // query. The name is made of [a-z0-9_] only, so it needs no quoting.
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name} via {admin_url}: {e}"));
    let _ = admin.close().await;
    database_url(admin_url, &name)
}

/// `admin_url` pointing at the database `name` instead.
fn database_url(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url)
        .unwrap_or_else(|e| panic!("{TEST_DATABASE_VAR}={admin_url} is not a URL: {e}"));
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn connect(url: &str) -> PgConnection {
    let attempt = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(url)).await;
    let error = match attempt {
        Ok(Ok(conn)) => return conn,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {CONNECT_TIMEOUT:?}"),
    };
    panic!(
        "\nPostgreSQL at {url} cannot be reached: {error}\n\
         scripts/test starts a throwaway one; or start PostgreSQL there, or point \
         {TEST_DATABASE_VAR} at one (unset, the servers under test use SQLite).\n"
    );
}

/// Creates the data directory as Herald does, readable by its owner only:
/// Herald leaves the mode of an existing directory alone.
fn create_private_dir(dir: &Path) {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
}
