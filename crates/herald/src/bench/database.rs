//! A fresh PostgreSQL database for one bench run, created on the server the
//! `--database` URL points at and dropped afterwards, so every run starts
//! from an empty schema and leaves nothing behind.

use anyhow::Context;
use sqlx::{Connection, PgConnection};
use url::Url;

pub(crate) struct ScratchDatabase {
    /// The `--database` URL: the connection that creates and drops.
    admin_url: String,
    name: String,
    /// The admin URL with the scratch database as its path.
    url: String,
}

impl ScratchDatabase {
    /// Creates `herald_bench_<random>`. The `--database` user needs the
    /// CREATEDB privilege; its own database is only connected to.
    pub(crate) async fn create(admin_url: &str) -> anyhow::Result<ScratchDatabase> {
        let name = format!("herald_bench_{:016x}", rand::random::<u64>());
        let url = with_database(admin_url, &name)?;
        let mut admin = connect(admin_url).await?;
        // CREATE DATABASE cannot run in a transaction: the simple protocol
        // sends it as it is.
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .with_context(|| format!("cannot create the bench database {name}"))?;
        let _ = admin.close().await;
        Ok(ScratchDatabase {
            admin_url: admin_url.to_string(),
            name,
            url,
        })
    }

    /// The URL the nodes use.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database. `FORCE` (PostgreSQL 13+) ends the sessions of
    /// nodes that were killed a moment ago and whose connections the
    /// server has not yet noticed are gone.
    pub(crate) async fn remove(self) -> anyhow::Result<()> {
        let mut admin = connect(&self.admin_url).await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .with_context(|| format!("cannot drop the bench database {}", self.name))?;
        let _ = admin.close().await;
        Ok(())
    }
}

async fn connect(url: &str) -> anyhow::Result<PgConnection> {
    // The URL may hold a password: it stays out of the message.
    PgConnection::connect(url)
        .await
        .context("cannot connect to the --database server")
}

/// `url` pointing at database `name` instead, keeping the user, host and
/// parameters (`sslmode`, …).
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut url = Url::parse(url).map_err(|e| anyhow::anyhow!("--database is not a URL: {e}"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "postgres" | "postgresql"),
        "--database must be a postgres:// URL"
    );
    url.set_path(&format!("/{name}"));
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_url_keeps_everything_but_the_database() {
        assert_eq!(
            with_database(
                "postgres://bench:secret@db.internal:5433/postgres?sslmode=require",
                "herald_bench_1"
            )
            .unwrap(),
            "postgres://bench:secret@db.internal:5433/herald_bench_1?sslmode=require"
        );
        assert_eq!(
            with_database("postgresql://localhost", "herald_bench_1").unwrap(),
            "postgresql://localhost/herald_bench_1"
        );
    }

    #[test]
    fn other_urls_are_refused() {
        let error = with_database("mysql://localhost/test", "x").unwrap_err();
        assert!(error.to_string().contains("postgres://"), "{error}");
        assert!(with_database("not a url", "x").is_err());
    }

    /// Needs a PostgreSQL server whose user may create databases:
    /// `HERALD_TEST_DATABASE`, else `HERALD_TEST_POSTGRES` (the server of
    /// `scripts/test`), else the local one at 127.0.0.1:5432. Fails when
    /// there is none.
    #[tokio::test]
    async fn creates_and_drops_a_database_even_while_it_is_in_use() {
        let admin_url = std::env::var("HERALD_TEST_DATABASE")
            .or_else(|_| std::env::var("HERALD_TEST_POSTGRES"))
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let database = ScratchDatabase::create(&admin_url).await.unwrap();
        let name = database.name().to_string();
        assert!(name.starts_with("herald_bench_"));

        // A session left open, as a killed node's would be.
        let mut session = PgConnection::connect(database.url()).await.unwrap();
        let (current,): (String,) = sqlx::query_as("SELECT current_database()")
            .fetch_one(&mut session)
            .await
            .unwrap();
        assert_eq!(current, name);

        database.remove().await.unwrap();
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!(left, 0, "{name} is still there");
    }
}
