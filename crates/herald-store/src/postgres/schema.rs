//! The PostgreSQL schema and its migrations, tracked in `herald_schema`.
//! The tables match the SQLite ones column for column; only the types are
//! PostgreSQL's own.

use sqlx::PgPool;

use crate::Result;

/// Each entry upgrades the schema by one version; never edit a shipped one.
const MIGRATIONS: &[&str] = &[r#"
-- Ids sort byte by byte (COLLATE "C"), as on SQLite: lists page by id.
CREATE TABLE tenants (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO tenants (id, name, created_at) VALUES ('tnt_default', 'default', 0);

CREATE TABLE webhooks (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    status                TEXT NOT NULL,
    spec                  TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    disabled_reason       TEXT,
    disabled_at           TEXT
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, id);

CREATE TABLE events (
    seq              BIGSERIAL PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    type             TEXT NOT NULL,
    source           TEXT,
    idempotency_key  TEXT,
    body             TEXT NOT NULL,
    delivery_count   INTEGER NOT NULL,
    test             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX events_by_id ON events (tenant_id, id);
CREATE UNIQUE INDEX events_by_idempotency_key ON events (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE deliveries (
    seq               BIGSERIAL PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    tenant_id         TEXT NOT NULL,
    event_seq         BIGINT NOT NULL,
    webhook_id        TEXT NOT NULL,
    status            TEXT NOT NULL,
    test              BOOLEAN NOT NULL DEFAULT FALSE,
    attempt_count     INTEGER NOT NULL DEFAULT 0,
    schedule_base     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT,
    leased_until      BIGINT,
    last_status_code  INTEGER,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    delivered_at      BIGINT,
    ordering_key      TEXT
);
CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, seq)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_by_event ON deliveries (event_seq);
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, seq);
CREATE INDEX deliveries_ordered ON deliveries (webhook_id, ordering_key, seq)
    WHERE ordering_key IS NOT NULL AND status IN ('pending', 'retrying', 'delivering');
-- The sweep for leases of nodes that died.
CREATE INDEX deliveries_leased ON deliveries (leased_until) WHERE status = 'delivering';

CREATE TABLE attempts (
    seq               BIGSERIAL PRIMARY KEY,
    id                TEXT NOT NULL,
    delivery_seq      BIGINT NOT NULL,
    tenant_id         TEXT NOT NULL,
    number            INTEGER NOT NULL,
    started_at        BIGINT NOT NULL,
    duration_ms       BIGINT NOT NULL,
    status_code       INTEGER,
    outcome           TEXT NOT NULL,
    error_category    TEXT,
    error_message     TEXT,
    request_headers   TEXT NOT NULL,
    response_headers  TEXT,
    response_body     TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_seq, number);

CREATE TABLE api_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    key_hash    BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

CREATE TABLE audit_log (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    tenant_id      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    before         TEXT,
    after          TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);

-- Which node works each webhook's deliveries (node_id NULL: nobody), until
-- when, and the time before which its next holder must not send (the rate
-- budget and back-pressure pause the last holder left).
CREATE TABLE lane_leases (
    webhook_id    TEXT PRIMARY KEY,
    node_id       TEXT,
    token         BIGINT NOT NULL DEFAULT 0,
    leased_until  BIGINT NOT NULL DEFAULT 0,
    quiet_until   BIGINT
);
CREATE INDEX lane_leases_by_node ON lane_leases (node_id) WHERE node_id IS NOT NULL;
"#];

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
    let current: Option<i32> = sqlx::query_scalar("SELECT MAX(version) FROM herald_schema")
        .fetch_one(&mut *tx)
        .await?;
    let current = current.unwrap_or(0) as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO herald_schema (version) VALUES ($1)")
            .bind(i as i32 + 1)
            .execute(&mut *tx)
            .await?;
        tracing::info!(version = i + 1, "database migrated");
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
