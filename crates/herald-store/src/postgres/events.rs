//! Events on PostgreSQL: ingest (events plus their deliveries, atomically,
//! idempotently, a whole request in a few statements) and reads.

use std::collections::HashMap;
use std::sync::Arc;

use herald_core::ids;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::{PgStore, notify, to_u32};
use crate::cluster::WORK_CHANNEL;
use crate::leases::TEST_SEND_LEASE_MS;
use crate::{
    ClaimedDelivery, DeliveryRow, EventRow, EventStore, Ingest, Ingested, NewEvent, Result,
    StoreError,
};

impl EventStore for PgStore {
    async fn prune(&self, before_ms: i64, limit: usize) -> Result<usize> {
        let mut tx = self.begin().await?;
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM events e
             WHERE created_at < $1
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq
                               AND d.status IN ('pending', 'delivering', 'retrying', 'scheduled'))
             ORDER BY seq LIMIT $2",
        )
        .bind(before_ms)
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM attempts WHERE delivery_seq IN
               (SELECT seq FROM deliveries WHERE event_seq = ANY($1))",
            "DELETE FROM deliveries WHERE event_seq = ANY($1)",
            "DELETE FROM events WHERE seq = ANY($1)",
        ] {
            sqlx::query(sql).bind(&seqs).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(seqs.len())
    }

    async fn cancel_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        // One statement: a lane claiming the delivery at the same moment
        // either took it first (it is no longer `scheduled`) or finds it
        // cancelled.
        let found: Option<i64> = sqlx::query_scalar(
            "WITH event AS (SELECT seq FROM events WHERE tenant_id = $1 AND id = $2),
             cancelled AS (
                 UPDATE deliveries
                 SET status = 'cancelled', next_attempt_at = NULL, updated_at = $3,
                     last_error = 'cancelled before it was due'
                 WHERE event_seq = (SELECT seq FROM event) AND status = 'scheduled'
                 RETURNING 1
             )
             SELECT (SELECT count(*) FROM cancelled) FROM event",
        )
        .bind(tenant_id)
        .bind(event_id)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.map(|n| n as u64))
    }

    async fn replay_event(
        &self,
        tenant_id: &str,
        event_id: &str,
        webhook_ids: Vec<(String, Option<String>)>,
        now_ms: i64,
    ) -> Result<Option<u32>> {
        let mut tx = self.begin().await?;
        let event_seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM events WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(event_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(event_seq) = event_seq else {
            return Ok(None);
        };
        let (webhooks, keys): (Vec<String>, Vec<Option<String>>) = webhook_ids.into_iter().unzip();
        let count = webhooks.len();
        let new = NewDeliveries {
            event_seqs: vec![event_seq; count],
            webhook_ids: webhooks,
            ordering_keys: keys,
            created_at_ms: vec![now_ms; count],
            statuses: vec!["pending"; count],
            due_at_ms: vec![now_ms; count],
        };
        insert_deliveries(&mut tx, tenant_id, new).await?;
        sqlx::query("UPDATE events SET delivery_count = delivery_count + $2 WHERE seq = $1")
            .bind(event_seq)
            .bind(count as i32)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(count as u32))
    }

    async fn ingest(
        &self,
        tenant_id: &str,
        registry_version: i64,
        events: Vec<NewEvent>,
    ) -> Result<Ingest> {
        // With every other ingest request of the moment (group_commit).
        self.inner
            .ingest
            .ingest(tenant_id, registry_version, events)
            .await
    }

    async fn insert_test_delivery(
        &self,
        tenant_id: &str,
        event: NewEvent,
        webhook_id: &str,
    ) -> Result<ClaimedDelivery> {
        let mut tx = self.begin().await?;
        let event_seq = insert_events(&mut tx, tenant_id, &[&event], true, None)
            .await?
            .0
            .get(event.id.as_str())
            .copied()
            .expect("a fresh test event id never conflicts");
        let id = ids::new_id(ids::DELIVERY);
        let now = event.created_at_ms;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO deliveries (id, tenant_id, event_seq, webhook_id, status, test,
                                     leased_until, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'delivering', TRUE, $5, $6, $6)
             RETURNING seq",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(event_seq)
        .bind(webhook_id)
        .bind(now + TEST_SEND_LEASE_MS)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ClaimedDelivery {
            seq,
            id,
            tenant_id: tenant_id.to_string(),
            webhook_id: webhook_id.to_string(),
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            body: Arc::from(event.body.as_str()),
            attempt_count: 0,
            schedule_base: 0,
            test: true,
            queued_at_ms: now,
            traceparent: event.traceparent.clone(),
        })
    }

    async fn get_event(&self, tenant_id: &str, id: &str) -> Result<Option<EventRow>> {
        let row = sqlx::query(
            "SELECT seq, id, type, source, body, created_at, deliver_at, schema_errors FROM events
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(event_row).transpose()
    }

    async fn list_events(
        &self,
        tenant_id: &str,
        event_type: Option<String>,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT seq, id, type, source, body, created_at, deliver_at, schema_errors FROM events
             WHERE tenant_id = $1 AND seq < $2 AND ($3::text IS NULL OR type = $3) AND NOT test
             ORDER BY seq DESC LIMIT $4",
        )
        .bind(tenant_id)
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(event_type)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_row).collect()
    }

    async fn event_deliveries(&self, event_seq: i64) -> Result<Vec<DeliveryRow>> {
        let rows = sqlx::query(&format!(
            "{} WHERE d.event_seq = $1 ORDER BY d.seq",
            super::deliveries::DELIVERY_SELECT
        ))
        .bind(event_seq)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(super::deliveries::delivery_row).collect()
    }
}

fn event_row(r: &PgRow) -> Result<EventRow> {
    Ok(EventRow {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        event_type: r.try_get(2)?,
        source: r.try_get(3)?,
        body: r.try_get(4)?,
        created_at_ms: r.try_get(5)?,
        deliver_at_ms: r.try_get(6)?,
        schema_errors: r.try_get(7)?,
    })
}

/// Inserts events in one statement; answers the sequence number of each id
/// that got a new row (an id or idempotency key that exists gets none) and
/// the registry version. With `registry_version`, nothing is inserted
/// unless the stored version is that one: the check rides on the insert,
/// in the same snapshot, at no extra round trip.
pub(super) async fn insert_events(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: &str,
    events: &[&NewEvent],
    test: bool,
    registry_version: Option<i64>,
) -> Result<(HashMap<String, i64>, i64)> {
    // Columns borrow from the events: bodies are not copied to be sent.
    let text = |f: fn(&NewEvent) -> &str| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let optional =
        |f: fn(&NewEvent) -> Option<&str>| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    // The inserted rows, then one row without an id: the version.
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
        "WITH registry AS (SELECT version FROM herald_registry),
         inserted AS (
             INSERT INTO events (tenant_id, id, type, source, idempotency_key, body,
                                 delivery_count, test, created_at, traceparent, deliver_at,
                                 schema_errors)
             SELECT $1, e.id, e.type, e.source, e.key, e.body, e.count, $8, e.created_at,
                    e.traceparent, e.deliver_at, e.schema_errors
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::int[], $9::bigint[], $11::text[], $12::bigint[], $13::text[])
                  WITH ORDINALITY AS e(id, type, source, key, body, count, created_at,
                                       traceparent, deliver_at, schema_errors, n)
             WHERE $10::bigint IS NULL OR $10 = (SELECT version FROM registry)
             ORDER BY e.n
             ON CONFLICT DO NOTHING
             RETURNING id, seq
         )
         SELECT id, seq FROM inserted
         UNION ALL
         SELECT NULL, version FROM registry",
    )
    .bind(tenant_id)
    .bind(text(|e| &e.id))
    .bind(text(|e| &e.event_type))
    .bind(optional(|e| e.source.as_deref()))
    .bind(optional(|e| e.idempotency_key.as_deref()))
    .bind(text(|e| &e.body))
    .bind(
        events
            .iter()
            .map(|e| if test { 1 } else { e.webhook_ids.len() as i32 })
            .collect::<Vec<_>>(),
    )
    .bind(test)
    .bind(events.iter().map(|e| e.created_at_ms).collect::<Vec<_>>())
    .bind(registry_version)
    .bind(optional(|e| e.traceparent.as_deref()))
    .bind(events.iter().map(|e| e.deliver_at_ms).collect::<Vec<_>>())
    .bind(optional(|e| e.schema_errors.as_deref()))
    .fetch_all(&mut **tx)
    .await?;
    let mut inserted = HashMap::with_capacity(rows.len());
    let mut version = None;
    for (id, seq) in rows {
        match id {
            Some(id) => {
                inserted.insert(id, seq);
            }
            None => version = Some(seq),
        }
    }
    let version =
        version.ok_or_else(|| StoreError::Corrupt("herald_registry has no row".to_string()))?;
    Ok((inserted, version))
}

/// Pending deliveries to insert, column by column.
#[derive(Default)]
pub(super) struct NewDeliveries {
    event_seqs: Vec<i64>,
    webhook_ids: Vec<String>,
    ordering_keys: Vec<Option<String>>,
    /// When each was created.
    created_at_ms: Vec<i64>,
    /// The state each starts in (`pending`, or `scheduled` until due).
    statuses: Vec<&'static str>,
    /// When each falls due.
    due_at_ms: Vec<i64>,
}

impl NewDeliveries {
    /// How many deliveries there are to insert.
    pub(super) fn len(&self) -> usize {
        self.webhook_ids.len()
    }

    /// One delivery per subscriber of a freshly stored event (`seq`).
    pub(super) fn add(&mut self, seq: i64, event: &NewEvent) {
        for (i, webhook_id) in event.webhook_ids.iter().enumerate() {
            let (status, due_ms) = event.first_due(i);
            self.event_seqs.push(seq);
            self.webhook_ids.push(webhook_id.clone());
            self.ordering_keys
                .push(event.ordering_keys.get(i).cloned().flatten());
            self.created_at_ms.push(event.created_at_ms);
            self.statuses.push(status);
            self.due_at_ms.push(due_ms);
        }
    }
}

/// Inserts pending deliveries, due at once, in one statement and tells the
/// nodes their webhooks have work.
pub(super) async fn insert_deliveries(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: &str,
    new: NewDeliveries,
) -> Result<()> {
    if new.webhook_ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = (0..new.webhook_ids.len())
        .map(|_| ids::new_id(ids::DELIVERY))
        .collect();
    sqlx::query(
        "INSERT INTO deliveries (id, tenant_id, event_seq, webhook_id, status,
                                 next_attempt_at, created_at, updated_at, ordering_key)
         SELECT d.id, $1, d.event_seq, d.webhook_id, d.status, d.due, d.at, d.at, d.key
         FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[],
                     $7::text[], $8::bigint[])
              WITH ORDINALITY AS d(id, event_seq, webhook_id, at, key, status, due, n)
         ORDER BY d.n",
    )
    .bind(tenant_id)
    .bind(&ids)
    .bind(&new.event_seqs)
    .bind(&new.webhook_ids)
    .bind(&new.created_at_ms)
    .bind(&new.ordering_keys)
    .bind(&new.statuses)
    .bind(&new.due_at_ms)
    .execute(&mut **tx)
    .await?;
    let mut webhooks = new.webhook_ids;
    webhooks.sort_unstable();
    webhooks.dedup();
    notify(tx, WORK_CHANNEL, &webhooks).await
}

/// The answer first given for an event that is being posted again. The
/// idempotency key wins over the id: it is what the client retried with.
pub(super) async fn original_answer(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: &str,
    event: &NewEvent,
) -> Result<Ingested> {
    let by_key = match &event.idempotency_key {
        Some(key) => sqlx::query_as::<_, (String, i32)>(
            "SELECT id, delivery_count FROM events WHERE tenant_id = $1 AND idempotency_key = $2",
        )
        .bind(tenant_id)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?,
        None => None,
    };
    let (id, deliveries) = match by_key {
        Some(found) => found,
        None => {
            sqlx::query_as::<_, (String, i32)>(
                "SELECT id, delivery_count FROM events WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(&event.id)
            .fetch_one(&mut **tx)
            .await?
        }
    };
    Ok(Ingested {
        id,
        deliveries: to_u32(deliveries),
        replayed: true,
    })
}
