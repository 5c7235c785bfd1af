//! The schema's history: one logical list for both engines. Version N
//! is the same schema on SQLite and on PostgreSQL; each step is written in
//! both dialects. SQLite records the version in `PRAGMA user_version`,
//! PostgreSQL in the `herald_schema` table. Never edit a shipped step: add
//! one.

/// One step of the schema.
pub(crate) struct Migration {
    pub(crate) version: u32,
    /// What the step adds, for the log.
    pub(crate) summary: &'static str,
    pub(crate) sqlite: &'static str,
    pub(crate) postgres: &'static str,
}

/// Every step, oldest first; versions count up from 1 without gaps.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        summary: "tenants, webhooks, events, deliveries and attempts",
        sqlite: r#"
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
        postgres: r#"
-- Ids sort byte by byte (COLLATE "C"), as on SQLite: lists page by id.
CREATE TABLE tenants (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO tenants (id, name, created_at) VALUES ('tnt_default', 'default', 0);

CREATE TABLE webhooks (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
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
    delivered_at      BIGINT
);
CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, seq)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_by_event ON deliveries (event_seq);
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, seq);

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
"#,
    },
    Migration {
        version: 2,
        summary: "the circuit breaker's count of failed deliveries in a row",
        sqlite: r#"
-- The circuit breaker's count: failed deliveries since the last delivered
-- one, kept in the database so it survives restarts.
ALTER TABLE webhooks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
"#,
        postgres: r#"
-- The circuit breaker's count: failed deliveries since the last delivered
-- one, kept in the database so it survives restarts.
ALTER TABLE webhooks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
"#,
    },
    Migration {
        version: 3,
        summary: "ordering keys for ordered webhooks",
        sqlite: r#"
-- Ordered delivery: deliveries of an ordered webhook carry the key they are
-- ordered by ('' when the whole webhook is one sequence); only the oldest
-- unfinished delivery of each key may be sent.
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
CREATE INDEX deliveries_ordered ON deliveries (webhook_id, ordering_key, seq)
    WHERE ordering_key IS NOT NULL AND status IN ('pending', 'retrying', 'delivering');
"#,
        postgres: r#"
-- Ordered delivery: deliveries of an ordered webhook carry the key they are
-- ordered by ('' when the whole webhook is one sequence); only the oldest
-- unfinished delivery of each key may be sent.
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
CREATE INDEX deliveries_ordered ON deliveries (webhook_id, ordering_key, seq)
    WHERE ordering_key IS NOT NULL AND status IN ('pending', 'retrying', 'delivering');
"#,
    },
    Migration {
        version: 4,
        summary: "sealed webhook rows (the breaker's reason and time in plain columns), tenant API keys, the audit log",
        sqlite: r#"
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
        postgres: r#"
-- The circuit breaker's reason and time, beside the sealed row.
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
ALTER TABLE webhooks ADD COLUMN disabled_at TEXT;

-- Tenant API keys: only a SHA-256 of each key is kept.
CREATE TABLE api_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    key_hash    BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

-- Who changed what: kept when the tenant it belongs to is deleted.
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

-- PostgreSQL only, for several nodes on one database. Which node works
-- each webhook's deliveries (node_id NULL: nobody), until when, and the
-- time before which its next holder must not send (the rate budget and
-- back-pressure pause the last holder left).
CREATE TABLE lane_leases (
    webhook_id    TEXT PRIMARY KEY,
    node_id       TEXT,
    token         BIGINT NOT NULL DEFAULT 0,
    leased_until  BIGINT NOT NULL DEFAULT 0,
    quiet_until   BIGINT
);
CREATE INDEX lane_leases_by_node ON lane_leases (node_id) WHERE node_id IS NOT NULL;
-- The sweep for leases of nodes that died.
CREATE INDEX deliveries_leased ON deliveries (leased_until) WHERE status = 'delivering';
"#,
    },
    Migration {
        version: 5,
        summary: "an index of leased deliveries, for taking back leases that ran out",
        // PostgreSQL has had it since version 4; SQLite now sweeps while
        // running too.
        sqlite: SWEEP_INDEX,
        postgres: SWEEP_INDEX,
    },
    Migration {
        version: 6,
        summary: "facts about the database itself: the master key check",
        sqlite: META,
        postgres: META,
    },
    Migration {
        version: 7,
        summary: "webhook versions, so a change based on an older read is refused",
        sqlite: WEBHOOK_VERSION,
        postgres: WEBHOOK_VERSION,
    },
    Migration {
        version: 8,
        summary: "the registry version, moved on by every webhook change",
        sqlite: REGISTRY,
        postgres: REGISTRY,
    },
    Migration {
        version: 9,
        summary: "response bodies as bytes, stored exactly as received",
        // SQLite cannot change a column's type in place: a new column takes
        // the bytes of the old one, then its name.
        sqlite: "
ALTER TABLE attempts ADD COLUMN response_body_bytes BLOB;
UPDATE attempts SET response_body_bytes = CAST(response_body AS BLOB)
    WHERE response_body IS NOT NULL;
ALTER TABLE attempts DROP COLUMN response_body;
ALTER TABLE attempts RENAME COLUMN response_body_bytes TO response_body;
",
        postgres: "
ALTER TABLE attempts ALTER COLUMN response_body TYPE BYTEA
    USING convert_to(response_body, 'UTF8');
",
    },
    Migration {
        version: 10,
        summary: "what routes each webhook, so only changes to it move the registry on",
        // Rows from before hold '': their first change moves it on once.
        sqlite: "ALTER TABLE webhooks ADD COLUMN routing TEXT NOT NULL DEFAULT '';",
        postgres: "ALTER TABLE webhooks ADD COLUMN routing TEXT NOT NULL DEFAULT '';",
    },
    Migration {
        version: 11,
        summary: "delivery analytics: attempt rollups by minute, hour and day, and webhook stats",
        sqlite: ROLLUPS_SQLITE,
        postgres: ROLLUPS_POSTGRES,
    },
    Migration {
        version: 12,
        summary: "the trace context an event was posted with",
        sqlite: "ALTER TABLE events ADD COLUMN traceparent TEXT;",
        postgres: "ALTER TABLE events ADD COLUMN traceparent TEXT;",
    },
    Migration {
        version: 13,
        summary: "five-minute rollups, summed from the minute rollups already there",
        sqlite: FIVE_MINUTES_SQLITE,
        postgres: FIVE_MINUTES_POSTGRES,
    },
    Migration {
        version: 14,
        summary: "scheduled events (deliver_at, a `scheduled` state in the queue) and cron schedules",
        sqlite: SCHEDULES,
        postgres: SCHEDULES,
    },
    Migration {
        version: 15,
        summary: "the event type registry, per-tenant schema validation and the errors an event was stored with",
        sqlite: EVENT_TYPES,
        postgres: EVENT_TYPES,
    },
    Migration {
        version: 16,
        summary: "console sign-in sessions and one-time tenant portal links",
        sqlite: CONSOLE_SQLITE,
        postgres: CONSOLE_POSTGRES,
    },
];

/// The web console's state, kept in the database so that a session works
/// on every node, a sign-out ends it everywhere, and a portal link is
/// refused the second time whichever node it reaches. Only a SHA-256 of
/// each token is kept, as for API keys. A link's `used_at` is set by the
/// one redemption that wins. No index beyond the keys: every request looks
/// a session up by its hash, and the rest (the prune, a tenant deleted, a
/// key revoked) is rare work on tables the prune keeps down to their
/// unexpired rows. Only the bytes type differs between the engines.
macro_rules! console_schema {
    ($bytes:literal) => {
        concat!(
            "
CREATE TABLE console_sessions (
    token_hash  ",
            $bytes,
            " PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    read_only   BIGINT NOT NULL DEFAULT 0,
    features    TEXT,
    csrf_token  TEXT NOT NULL,
    portal      BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE TABLE portal_links (
    token_hash      ",
            $bytes,
            " PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    read_only       BIGINT NOT NULL DEFAULT 0,
    features        TEXT,
    session_ttl_ms  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
"
        )
    };
}

const CONSOLE_SQLITE: &str = console_schema!("BLOB");
const CONSOLE_POSTGRES: &str = console_schema!("BYTEA");

/// Event types a tenant describes (a JSON Schema for their `data`,
/// examples, deprecated and archived flags), how strictly the tenant's
/// ingest holds events to those schemas, and the schema errors an event
/// accepted in `warn` mode was stored with (a JSON array, NULL when none).
/// `version` counts a type's changes, so a write based on an older read
/// is refused and compiled schemas can be cached by it.
const EVENT_TYPES: &str = "
CREATE TABLE event_types (
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    schema       TEXT,
    examples     TEXT NOT NULL,
    deprecated   BIGINT NOT NULL DEFAULT 0,
    archived     BIGINT NOT NULL DEFAULT 0,
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
ALTER TABLE tenants ADD COLUMN schema_validation TEXT NOT NULL DEFAULT 'off';
ALTER TABLE events ADD COLUMN schema_errors TEXT;
";

/// Events held until a time (their deliveries wait as `scheduled`, in the
/// queue's index so a lane finds them when due), and recurring schedules.
/// A schedule's `next_run_at` is the oldest tick not yet emitted: the
/// node that emits it moves it on with a compare-and-set, and the event
/// of a tick carries an idempotency key made of the schedule and the
/// tick, so two nodes emitting the same tick store it once.
const SCHEDULES: &str = "
ALTER TABLE events ADD COLUMN deliver_at BIGINT;
DROP INDEX deliveries_queue;
CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, seq)
    WHERE status IN ('pending', 'retrying', 'scheduled');

CREATE TABLE schedules (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    cron         TEXT NOT NULL,
    timezone     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    event_data   TEXT NOT NULL,
    paused       BIGINT NOT NULL DEFAULT 0,
    next_run_at  BIGINT,
    last_run_at  BIGINT,
    runs         BIGINT NOT NULL DEFAULT 0,
    skipped      BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX schedules_by_name ON schedules (tenant_id, name);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE paused = 0;
";

/// The five-minute rows of the minutes recorded before that granularity
/// was written. A row's `duration_min_ms` counts only when it had
/// attempts (see `RollupFigures::add_stored`); every stored row has.
const FIVE_MINUTES_SQLITE: &str = "
INSERT INTO attempt_rollups
  (tenant_id, granularity, bucket_start, webhook_id, provider, event_type, outcome,
   status_code, attempts, successes, first_attempts, retries, delivered, failed,
   duration_sum_ms, duration_min_ms, duration_max_ms, histogram)
SELECT tenant_id, 300000, bucket_start / 300000 * 300000, webhook_id, provider, event_type,
       outcome, status_code, sum(attempts), sum(successes), sum(first_attempts), sum(retries),
       sum(delivered), sum(failed), sum(duration_sum_ms), min(duration_min_ms),
       max(duration_max_ms), herald_histogram_sum(histogram)
FROM attempt_rollups WHERE granularity = 60000
GROUP BY tenant_id, bucket_start / 300000, webhook_id, provider, event_type, outcome,
         status_code;
";

/// As [`FIVE_MINUTES_SQLITE`]; the histograms (arrays, trailing empty
/// buckets left off) are summed position by position.
const FIVE_MINUTES_POSTGRES: &str = "
WITH figures AS (
  SELECT tenant_id, bucket_start / 300000 * 300000 AS five, webhook_id, provider, event_type,
         outcome, status_code, sum(attempts) AS a, sum(successes) AS su,
         sum(first_attempts) AS fa, sum(retries) AS r, sum(delivered) AS d, sum(failed) AS f,
         sum(duration_sum_ms) AS ds, min(duration_min_ms) AS mn, max(duration_max_ms) AS mx
  FROM attempt_rollups WHERE granularity = 60000
  GROUP BY 1, 2, 3, 4, 5, 6, 7
), counts AS (
  SELECT tenant_id, bucket_start / 300000 * 300000 AS five, webhook_id, provider, event_type,
         outcome, status_code, h.i, sum(h.c) AS c
  FROM attempt_rollups, unnest(histogram) WITH ORDINALITY AS h(c, i)
  WHERE granularity = 60000
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), histograms AS (
  SELECT tenant_id, five, webhook_id, provider, event_type, outcome, status_code,
         array_agg(c ORDER BY i)::bigint[] AS h
  FROM counts GROUP BY 1, 2, 3, 4, 5, 6, 7
)
INSERT INTO attempt_rollups
  (tenant_id, granularity, bucket_start, webhook_id, provider, event_type, outcome,
   status_code, attempts, successes, first_attempts, retries, delivered, failed,
   duration_sum_ms, duration_min_ms, duration_max_ms, histogram)
SELECT tenant_id, 300000, five, webhook_id, provider, event_type, outcome, status_code,
       a, su, fa, r, d, f, ds, mn, mx, COALESCE(h, '{}')
FROM figures LEFT JOIN histograms
     USING (tenant_id, five, webhook_id, provider, event_type, outcome, status_code);
";

/// The rollup and stats tables; only the histogram's type differs (a
/// BLOB of little-endian u64 counts on SQLite, an array on PostgreSQL,
/// where rows are merged in SQL).
macro_rules! rollups_schema {
    ($histogram:literal, $table_options:literal) => {
        concat!(
            "
-- One bucket (a minute, five minutes, an hour or a day: `granularity` is its width in
-- ms) of one tenant's attempts with one combination of dimensions.
CREATE TABLE attempt_rollups (
    tenant_id        TEXT NOT NULL,
    granularity      BIGINT NOT NULL,
    bucket_start     BIGINT NOT NULL,
    webhook_id       TEXT NOT NULL,
    provider         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    status_code      BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    successes        BIGINT NOT NULL,
    first_attempts   BIGINT NOT NULL,
    retries          BIGINT NOT NULL,
    delivered        BIGINT NOT NULL,
    failed           BIGINT NOT NULL,
    duration_sum_ms  BIGINT NOT NULL,
    duration_min_ms  BIGINT NOT NULL,
    duration_max_ms  BIGINT NOT NULL,
    histogram        ",
            $histogram,
            " NOT NULL,
    PRIMARY KEY (tenant_id, granularity, bucket_start, webhook_id, provider, event_type,
                 outcome, status_code)
)",
            $table_options,
            ";
-- No other index: every query names the tenant, the granularity and a
-- range of buckets, the key's prefix, and each write updates one row.
-- What each webhook's attempts say about it lately, for its health.
CREATE TABLE webhook_stats (
    webhook_id         TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    counted_since      BIGINT NOT NULL DEFAULT 0,
    last_attempt_at    BIGINT,
    last_success_at    BIGINT,
    last_failure_at    BIGINT,
    last_error         TEXT,
    failures_in_a_row  BIGINT NOT NULL DEFAULT 0,
    successes_in_a_row BIGINT NOT NULL DEFAULT 0,
    degraded_alert     BIGINT NOT NULL DEFAULT 0
);
"
        )
    };
}

// On SQLite the key is the table (WITHOUT ROWID): one B-tree, rows
// updated in place.
const ROLLUPS_SQLITE: &str = rollups_schema!("BLOB", " WITHOUT ROWID");
const ROLLUPS_POSTGRES: &str = rollups_schema!("BIGINT[]", "");

const REGISTRY: &str = "
-- One row: how many times the set of webhooks changed. Ingest compares it
-- with the version its events were matched against.
CREATE TABLE herald_registry (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO herald_registry (id, version) VALUES (1, 1);
";

const WEBHOOK_VERSION: &str = "
-- Bumped by every change of the row (API, breaker): writes name the
-- version they read.
ALTER TABLE webhooks ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
";

const META: &str = "
-- What the database knows about itself, by name: `master_key_check` is a
-- MAC of a fixed label under the master key the database was set up with.
CREATE TABLE herald_meta (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
";

const SWEEP_INDEX: &str = "
CREATE INDEX IF NOT EXISTS deliveries_leased ON deliveries (leased_until)
    WHERE status = 'delivering';
";

/// PostgreSQL databases created before the list was one recorded version 1
/// for what is version 4 here (the same tables, plus `lane_leases`).
pub(crate) const POSTGRES_LEGACY_VERSION: u32 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.summary);
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty());
        }
        assert!(POSTGRES_LEGACY_VERSION as usize <= MIGRATIONS.len());
    }
}
