//! Brings a PostgreSQL database to the current schema (the steps are in
//! [`crate::migrations`]), one node at a time; each applied version is a
//! row of `herald_schema`.

use sqlx::{PgPool, Postgres, Transaction};

use crate::Result;
use crate::migrations::{MIGRATIONS, POSTGRES_LEGACY_VERSION};

/// Serialises migrations of nodes that start together.
const MIGRATION_LOCK: i64 = 0x6865_7261_6c64; // "herald"

pub(super) async fn migrate(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS herald_schema (version INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let mut current = current_version(&mut tx).await?;
    if current == 1 && is_legacy(&mut tx).await? {
        // Written by a release whose one PostgreSQL step held what is
        // version 4 now: record the steps it already has, run none.
        for version in 2..=POSTGRES_LEGACY_VERSION {
            record(&mut tx, version).await?;
        }
        current = POSTGRES_LEGACY_VERSION;
        tracing::info!(
            version = current,
            "recognised the schema of an earlier release"
        );
    }
    for step in MIGRATIONS.iter().filter(|m| m.version > current) {
        sqlx::raw_sql(step.postgres).execute(&mut *tx).await?;
        record(&mut tx, step.version).await?;
        tracing::info!(
            version = step.version,
            summary = step.summary,
            "database migrated"
        );
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn version(pool: &PgPool) -> Result<u32> {
    let v: Option<i32> = sqlx::query_scalar("SELECT MAX(version) FROM herald_schema")
        .fetch_one(pool)
        .await?;
    Ok(v.unwrap_or(0) as u32)
}

async fn current_version(tx: &mut Transaction<'_, Postgres>) -> Result<u32> {
    let v: Option<i32> = sqlx::query_scalar("SELECT MAX(version) FROM herald_schema")
        .fetch_one(&mut **tx)
        .await?;
    Ok(v.unwrap_or(0) as u32)
}

/// Version 1 of the one list has no `lane_leases` (it arrives with 4); the
/// single step of earlier releases created it.
async fn is_legacy(tx: &mut Transaction<'_, Postgres>) -> Result<bool> {
    let found: bool = sqlx::query_scalar("SELECT to_regclass('lane_leases') IS NOT NULL")
        .fetch_one(&mut **tx)
        .await?;
    Ok(found)
}

async fn record(tx: &mut Transaction<'_, Postgres>, version: u32) -> Result<()> {
    sqlx::query("INSERT INTO herald_schema (version) VALUES ($1)")
        .bind(version as i32)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
