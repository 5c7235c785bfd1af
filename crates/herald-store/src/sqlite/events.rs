//! Events: ingest (event plus its deliveries, atomically, idempotently) and
//! reads.

use std::sync::Arc;

use herald_core::ids;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use crate::leases::TEST_SEND_LEASE_MS;
use crate::registry;
use crate::{
    ClaimedDelivery, DeliveryRow, EventRow, EventStore, Ingest, Ingested, NewEvent, Result,
};

/// The sequence number of a tenant's event, if it exists.
fn event_seq(conn: &Connection, tenant_id: &str, event_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT seq FROM events WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(params![tenant_id, event_id], |r| r.get(0))
        .optional()?)
}

/// See [`crate::contract::EventStore::cancel_event`].
const CANCEL_SCHEDULED_SQLITE: &str = "UPDATE deliveries
     SET status = 'cancelled', next_attempt_at = NULL, updated_at = ?2,
         last_error = 'cancelled before it was due'
     WHERE event_seq = ?1 AND status = 'scheduled'";

impl EventStore for SqliteStore {
    async fn prune(&self, before_ms: i64, limit: usize) -> Result<usize> {
        self.write(move |conn| {
            let seqs: Vec<i64> = conn
                .prepare_cached(
                    "SELECT seq FROM events e
                     WHERE created_at < ?1
                       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq
                                       AND d.status IN ('pending', 'delivering', 'retrying', 'scheduled'))
                     ORDER BY seq LIMIT ?2",
                )?
                .query_map(params![before_ms, limit as i64], |r| r.get(0))?
                .collect::<std::result::Result<_, _>>()?;
            for seq in &seqs {
                conn.prepare_cached(
                    "DELETE FROM attempts WHERE delivery_seq IN
                       (SELECT seq FROM deliveries WHERE event_seq = ?1)",
                )?
                .execute([seq])?;
                conn.prepare_cached("DELETE FROM deliveries WHERE event_seq = ?1")?
                    .execute([seq])?;
                conn.prepare_cached("DELETE FROM events WHERE seq = ?1")?
                    .execute([seq])?;
            }
            Ok(seqs.len())
        })
        .await
    }

    async fn cancel_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        let (tenant_id, event_id) = (tenant_id.to_string(), event_id.to_string());
        self.write(move |conn| {
            let Some(event_seq) = event_seq(conn, &tenant_id, &event_id)? else {
                return Ok(None);
            };
            let cancelled = conn
                .prepare_cached(CANCEL_SCHEDULED_SQLITE)?
                .execute(params![event_seq, now_ms])?;
            Ok(Some(cancelled as u64))
        })
        .await
    }

    async fn replay_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        webhook_ids: Vec<(String, Option<String>)>,
        now_ms: i64,
    ) -> Result<Option<u32>> {
        self.room_for_new_work()?;
        let (tenant_id, event_id) = (tenant_id.to_string(), event_id.to_string());
        self.write(move |conn| {
            let Some(event_seq) = event_seq(conn, &tenant_id, &event_id)? else {
                return Ok(None);
            };
            let mut insert = conn.prepare_cached(
                "INSERT INTO deliveries (id, tenant_id, event_seq, webhook_id, status,
                                         next_attempt_at, created_at, updated_at, ordering_key)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?5, ?6)",
            )?;
            for (webhook_id, ordering_key) in &webhook_ids {
                insert.execute(params![
                    ids::new_id(ids::DELIVERY),
                    tenant_id,
                    event_seq,
                    webhook_id,
                    now_ms,
                    ordering_key,
                ])?;
            }
            conn.prepare_cached(
                "UPDATE events SET delivery_count = delivery_count + ?2 WHERE seq = ?1",
            )?
            .execute(params![event_seq, webhook_ids.len() as i64])?;
            Ok(Some(webhook_ids.len() as u32))
        })
        .await
    }

    async fn ingest(
        &self,
        tenant_id: &str,
        registry_version: i64,
        events: Vec<NewEvent>,
    ) -> Result<Ingest> {
        self.room_for_new_work()?;
        let tenant_id = tenant_id.to_string();
        // Lent to the write, and taken back whole if the events must be
        // matched again (the write lets go of it before answering).
        let events = Arc::new(events);
        let lent = events.clone();
        let answer = self
            .write(move |conn| {
                let current: i64 = conn
                    .prepare_cached(registry::READ)?
                    .query_row([], |r| r.get(0))?;
                if current != registry_version {
                    return Ok(Err(current));
                }
                lent.iter()
                    .map(|event| ingest_one(conn, &tenant_id, event))
                    .collect::<Result<Vec<_>>>()
                    .map(Ok)
            })
            .await?;
        Ok(match answer {
            Ok(answers) => Ingest::Stored(answers),
            Err(current) => Ingest::Stale {
                current,
                events: Arc::unwrap_or_clone(events),
            },
        })
    }

    async fn insert_test_delivery(
        &self,
        tenant_id: &str,
        event: NewEvent,
        webhook_id: &str,
    ) -> Result<ClaimedDelivery> {
        let (tenant_id, webhook_id) = (tenant_id.to_string(), webhook_id.to_string());
        self.write(move |conn| {
            let event_seq = insert_event(conn, &tenant_id, &event, 1, true)?
                .expect("a fresh test event id never conflicts");
            let id = ids::new_id(ids::DELIVERY);
            let now = event.created_at_ms;
            let seq = conn
                .prepare_cached(
                    "INSERT INTO deliveries (id, tenant_id, event_seq, webhook_id, status, test,
                                             leased_until, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 'delivering', 1, ?5, ?6, ?6)",
                )?
                .insert(params![
                    id,
                    tenant_id,
                    event_seq,
                    webhook_id,
                    now + TEST_SEND_LEASE_MS,
                    now
                ])?;
            Ok(ClaimedDelivery {
                seq,
                id,
                tenant_id: tenant_id.clone(),
                webhook_id: webhook_id.clone(),
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                body: Arc::from(event.body.as_str()),
                attempt_count: 0,
                schedule_base: 0,
                test: true,
                queued_at_ms: now,
                traceparent: event.traceparent.clone(),
            })
        })
        .await
    }

    async fn get_event(&self, tenant_id: &str, id: &str) -> Result<Option<EventRow>> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT seq, id, type, source, body, created_at, deliver_at, schema_errors FROM events
                 WHERE tenant_id = ?1 AND id = ?2",
            )?
            .query_row(params![tenant_id, id], event_row)
            .optional()
            .map_err(Into::into)
        })
        .await
    }

    async fn list_events(
        &self,
        tenant_id: &str,
        event_type: Option<String>,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<EventRow>> {
        let tenant_id = tenant_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, id, type, source, body, created_at, deliver_at, schema_errors FROM events
                 WHERE tenant_id = ?1 AND seq < ?2 AND (?3 IS NULL OR type = ?3) AND test = 0
                 ORDER BY seq DESC LIMIT ?4",
            )?;
            let rows = stmt.query_map(
                params![
                    tenant_id,
                    before_seq.unwrap_or(i64::MAX),
                    event_type,
                    limit as i64
                ],
                event_row,
            )?;
            rows.map(|r| r.map_err(Into::into)).collect()
        })
        .await
    }

    async fn event_deliveries(&self, event_seq: i64) -> Result<Vec<DeliveryRow>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "{} WHERE d.event_seq = ?1 ORDER BY d.seq",
                super::deliveries::DELIVERY_SELECT
            ))?;
            let rows = stmt.query_map([event_seq], super::deliveries::delivery_row)?;
            rows.map(|r| r?).collect()
        })
        .await
    }
}

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        event_type: r.get(2)?,
        source: r.get(3)?,
        body: r.get(4)?,
        created_at_ms: r.get(5)?,
        deliver_at_ms: r.get(6)?,
        schema_errors: r.get(7)?,
    })
}

/// Inserts the event row; `None` when its id or idempotency key exists.
/// (No `RETURNING`: SQLite buffers its rows in a temporary table, which
/// costs more than asking for the last rowid.)
fn insert_event(
    conn: &Connection,
    tenant_id: &str,
    event: &NewEvent,
    delivery_count: u32,
    test: bool,
) -> Result<Option<i64>> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO events (tenant_id, id, type, source, idempotency_key, body,
                                 delivery_count, test, created_at, traceparent, deliver_at,
                                 schema_errors)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            tenant_id,
            event.id,
            event.event_type,
            event.source,
            event.idempotency_key,
            event.body,
            delivery_count,
            test,
            event.created_at_ms,
            event.traceparent,
            event.deliver_at_ms,
            event.schema_errors,
        ])?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

fn ingest_one(conn: &Connection, tenant_id: &str, event: &NewEvent) -> Result<Ingested> {
    let count = event.webhook_ids.len() as u32;
    let Some(event_seq) = insert_event(conn, tenant_id, event, count, false)? else {
        return original_answer(conn, tenant_id, event);
    };
    let mut insert = conn.prepare_cached(
        "INSERT INTO deliveries (id, tenant_id, event_seq, webhook_id, status,
                                 next_attempt_at, created_at, updated_at, ordering_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
    )?;
    for (i, webhook_id) in event.webhook_ids.iter().enumerate() {
        let (status, due_ms) = event.first_due(i);
        let ordering_key = event.ordering_keys.get(i).and_then(Option::as_deref);
        insert.execute(params![
            ids::new_id(ids::DELIVERY),
            tenant_id,
            event_seq,
            webhook_id,
            status,
            due_ms,
            event.created_at_ms,
            ordering_key,
        ])?;
    }
    Ok(Ingested {
        id: event.id.clone(),
        deliveries: count,
        replayed: false,
    })
}

/// The answer first given for an event that is being posted again. The
/// idempotency key wins over the id: it is what the client retried with.
fn original_answer(conn: &Connection, tenant_id: &str, event: &NewEvent) -> Result<Ingested> {
    let by_key = match &event.idempotency_key {
        Some(key) => conn
            .prepare_cached(
                "SELECT id, delivery_count FROM events
                 WHERE tenant_id = ?1 AND idempotency_key = ?2",
            )?
            .query_row(params![tenant_id, key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
        None => None,
    };
    let (id, deliveries) = match by_key {
        Some(found) => found,
        None => conn
            .prepare_cached(
                "SELECT id, delivery_count FROM events WHERE tenant_id = ?1 AND id = ?2",
            )?
            .query_row(params![tenant_id, event.id], |r| Ok((r.get(0)?, r.get(1)?)))?,
    };
    Ok(Ingested {
        id,
        deliveries,
        replayed: true,
    })
}
