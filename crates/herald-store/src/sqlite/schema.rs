//! The schema and its migrations, tracked by `PRAGMA user_version`.

use rusqlite::Connection;

use crate::Result;

/// Each entry upgrades the schema by one version; never edit a shipped one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO tenants (id, name, created_at) VALUES ('tnt_default', 'default', 0);

CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, id);

CREATE TABLE events (
    seq              INTEGER PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    type             TEXT NOT NULL,
    source           TEXT,
    idempotency_key  TEXT,
    body             TEXT NOT NULL,
    delivery_count   INTEGER NOT NULL,
    test             INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_by_id ON events (tenant_id, id);
CREATE UNIQUE INDEX events_by_idempotency_key ON events (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE deliveries (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    tenant_id         TEXT NOT NULL,
    event_seq         INTEGER NOT NULL,
    webhook_id        TEXT NOT NULL,
    status            TEXT NOT NULL,
    test              INTEGER NOT NULL DEFAULT 0,
    attempt_count     INTEGER NOT NULL DEFAULT 0,
    schedule_base     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER,
    leased_until      INTEGER,
    last_status_code  INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    delivered_at      INTEGER
);
-- The queue: only waiting deliveries are in this index, in the order a
-- webhook's worker claims them.
CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, seq)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_by_event ON deliveries (event_seq);
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, seq);

CREATE TABLE attempts (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL,
    delivery_seq      INTEGER NOT NULL,
    tenant_id         TEXT NOT NULL,
    number            INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    status_code       INTEGER,
    outcome           TEXT NOT NULL,
    error_category    TEXT,
    error_message     TEXT,
    request_headers   TEXT NOT NULL,
    response_headers  TEXT,
    response_body     TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_seq, number);
"#,
    r#"
-- The circuit breaker's count: failed deliveries since the last delivered
-- one, kept in the database so it survives restarts.
ALTER TABLE webhooks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Ordered delivery: deliveries of an ordered webhook carry the key they are
-- ordered by ('' when the whole webhook is one sequence); only the oldest
-- unfinished delivery of each key may be sent.
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
CREATE INDEX deliveries_ordered ON deliveries (webhook_id, ordering_key, seq)
    WHERE ordering_key IS NOT NULL AND status IN ('pending', 'retrying', 'delivering');
"#,
    r#"
-- Webhook rows are sealed with the master key from now on (the store seals
-- rows written before at start), so what SQL must change on its own moves
-- out of the JSON: the circuit breaker's reason and time.
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
ALTER TABLE webhooks ADD COLUMN disabled_at TEXT;
UPDATE webhooks SET disabled_reason = json_extract(spec, '$.disabled_reason'),
                    disabled_at = json_extract(spec, '$.disabled_at')
    WHERE spec LIKE '{%';

-- Tenant API keys: only a SHA-256 of each key is kept.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    key_hash    BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

-- Who changed what: kept when the tenant it belongs to is deleted.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    tenant_id      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    before         TEXT,
    after          TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);
"#,
];

pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    let current: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database migrated");
    }
    Ok(())
}
