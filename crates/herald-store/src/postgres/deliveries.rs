//! The delivery queue on PostgreSQL (claim, record, recover, re-queue) and
//! the delivery log.

use std::collections::HashMap;
use std::sync::Arc;

use herald_core::delivery::{AttemptOutcome, DeliveryStatus, ErrorCategory};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::{PgStore, audit, notify, rollups, to_u32};
use crate::breaker::{Count, Disabling};
use crate::cluster::{WEBHOOK_CHANNEL, WORK_CHANNEL};
use crate::leases::{INTERRUPTED_TEST, REQUEUED_STATUS};
use crate::queue_stats;
use crate::recording::{self, AttemptText, DeliveryUpdate};
use crate::rollups::{AnalyticsQuery, AnalyticsRow, WebhookStats};
pub(super) use crate::types::DELIVERY_SELECT;
use crate::{
    AttemptRecord, AttemptRow, Claim, ClaimedDelivery, DeadLetter, DeliveryFilter, DeliveryLog,
    DeliveryQueue, DeliveryRow, NextStep, QueueStats, RecordOutcome, Requeue, Result, StoreError,
};

pub(super) fn delivery_row(r: &PgRow) -> Result<DeliveryRow> {
    let status: String = r.try_get(5)?;
    let status = status
        .parse::<DeliveryStatus>()
        .map_err(|_| StoreError::Corrupt(format!("delivery status `{status}`")))?;
    Ok(DeliveryRow {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        event_id: r.try_get(2)?,
        event_type: r.try_get(3)?,
        webhook_id: r.try_get(4)?,
        status,
        test: r.try_get(6)?,
        attempt_count: to_u32(r.try_get(7)?),
        next_attempt_at_ms: r.try_get(8)?,
        last_status_code: r.try_get::<Option<i32>, _>(9)?.map(|c| c as u16),
        last_error: r.try_get(10)?,
        created_at_ms: r.try_get(11)?,
        updated_at_ms: r.try_get(12)?,
        delivered_at_ms: r.try_get(13)?,
    })
}

/// The oldest unfinished delivery of each ordering key of a webhook: the
/// only ones an ordered webhook may send.
const ORDERED_HEADS: &str = "SELECT MIN(seq) FROM deliveries
     WHERE webhook_id = $1 AND ordering_key IS NOT NULL
       AND status IN ('pending', 'retrying', 'delivering')
     GROUP BY ordering_key";

impl DeliveryQueue for PgStore {
    async fn claim(
        &self,
        webhook_id: &str,
        now_ms: i64,
        limit: usize,
        leased_until_ms: i64,
        ordered: bool,
    ) -> Result<Claim> {
        let eligible = if ordered {
            format!(
                "SELECT d.seq FROM deliveries d
                 WHERE d.seq IN ({ORDERED_HEADS})
                   AND d.status IN ('pending', 'retrying', 'scheduled') AND d.next_attempt_at <= $2
                 ORDER BY d.seq LIMIT $4 FOR UPDATE SKIP LOCKED"
            )
        } else {
            "SELECT seq FROM deliveries
             WHERE webhook_id = $1 AND status IN ('pending', 'retrying', 'scheduled') AND next_attempt_at <= $2
             ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED"
                .to_string()
        };
        let mut rows =
            sqlx::query_as::<_, (i64, i64, String, String, i64, i32, i32, bool, i64)>(&format!(
                "UPDATE deliveries d SET status = 'delivering', leased_until = $3, updated_at = $2
                 FROM ({eligible}) c WHERE d.seq = c.seq
                 RETURNING d.next_attempt_at, d.seq, d.id, d.tenant_id, d.event_seq,
                           d.attempt_count, d.schedule_base, d.test, d.created_at"
            ))
            .bind(webhook_id)
            .bind(now_ms)
            .bind(leased_until_ms)
            .bind(limit as i64)
            .fetch_all(self.pool())
            .await?;
        // RETURNING does not keep the subquery's order.
        rows.sort_by_key(|r| (r.0, r.1));

        let event_seqs: Vec<i64> = rows.iter().map(|r| r.4).collect();
        type ClaimedEvent = (String, String, Arc<str>, Option<String>);
        let events: HashMap<i64, ClaimedEvent> =
            sqlx::query_as::<_, (i64, String, String, String, Option<String>)>(
                "SELECT seq, id, type, body, traceparent FROM events WHERE seq = ANY($1)",
            )
            .bind(&event_seqs)
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|(seq, id, kind, body, trace)| (seq, (id, kind, Arc::from(body), trace)))
            .collect();
        let mut deliveries = Vec::with_capacity(rows.len());
        for (_, seq, id, tenant_id, event_seq, attempt_count, schedule_base, test, queued_at_ms) in
            rows
        {
            let (event_id, event_type, body, traceparent) = events
                .get(&event_seq)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("delivery {id} has no event")))?;
            deliveries.push(ClaimedDelivery {
                seq,
                id,
                tenant_id,
                webhook_id: webhook_id.to_string(),
                event_id,
                event_type,
                body,
                attempt_count: to_u32(attempt_count),
                schedule_base: to_u32(schedule_base),
                test,
                queued_at_ms,
                traceparent,
            });
        }
        let next_due_ms = if deliveries.len() < limit {
            next_due_of(self.pool(), webhook_id, ordered).await?
        } else {
            Some(now_ms)
        };
        Ok(Claim {
            deliveries,
            next_due_ms,
        })
    }

    async fn release(&self, seqs: Vec<i64>) -> Result<()> {
        sqlx::query(&format!(
            "UPDATE deliveries SET status = {REQUEUED_STATUS}, leased_until = NULL
             WHERE seq = ANY($1) AND status = 'delivering'"
        ))
        .bind(&seqs)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> Result<RecordOutcome> {
        match self.record_batch(&records).await {
            Ok(outcome) => Ok(outcome),
            // The database itself failed: one at a time would fail alike,
            // each after waiting for a connection.
            Err(e) if e.is_unavailable() || records.len() == 1 => Err(e),
            // One record cannot be written (say, text PostgreSQL refuses):
            // each in its own transaction, so only that one fails.
            Err(e) => {
                tracing::warn!(error = %e, records = records.len(), "a batch of attempt records failed; writing them one by one");
                let mut results = Vec::with_capacity(records.len());
                for record in &records {
                    results.push(self.record_batch(std::slice::from_ref(record)).await);
                }
                recording::merge(&records, results)
            }
        }
    }

    async fn next_due(&self, webhook_id: &str) -> Result<Option<i64>> {
        next_due_of(self.pool(), webhook_id, false).await
    }

    async fn webhooks_with_queued_deliveries(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT webhook_id FROM deliveries WHERE status IN ('pending', 'retrying', 'scheduled')",
        )
        .fetch_all(self.pool())
        .await?)
    }

    async fn queue_stats(&self) -> Result<QueueStats> {
        let rows = sqlx::query_as::<_, (String, i32, i64, Option<i64>)>(queue_stats::QUERY)
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|(status, active, count, oldest_at_ms)| queue_stats::Row {
                status,
                active: active != 0,
                count,
                oldest_at_ms,
            });
        Ok(queue_stats::fold(rows))
    }

    async fn oldest_waiting_at(&self, tenant_id: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(queue_stats::OLDEST_WAITING_OF_TENANT)
            .bind(tenant_id)
            .fetch_one(self.pool())
            .await?)
    }

    async fn recover_interrupted(&self, now_ms: i64) -> Result<usize> {
        // A lane that is held may keep leased deliveries waiting (during a
        // back-pressure pause, say): only leases of lanes nobody holds are
        // taken back, so any node may run this at any time.
        let mut tx = self.begin().await?;
        let failed_tests = sqlx::query(
            "UPDATE deliveries SET status = 'failed', leased_until = NULL, updated_at = $1,
                    last_error = $2
             WHERE status = 'delivering' AND test AND leased_until < $1",
        )
        .bind(now_ms)
        .bind(INTERRUPTED_TEST)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let mut webhooks: Vec<String> = sqlx::query_scalar(&format!(
            "UPDATE deliveries d
             SET status = {REQUEUED_STATUS},
                 next_attempt_at = $1, leased_until = NULL, updated_at = $1
             WHERE status = 'delivering' AND NOT test AND leased_until < $1
               AND NOT EXISTS (SELECT 1 FROM lane_leases l WHERE l.webhook_id = d.webhook_id
                               AND l.node_id IS NOT NULL AND l.leased_until >= $1)
             RETURNING webhook_id"
        ))
        .bind(now_ms)
        .fetch_all(&mut *tx)
        .await?;
        let requeued = webhooks.len();
        webhooks.sort_unstable();
        webhooks.dedup();
        notify(&mut tx, WORK_CHANNEL, &webhooks).await?;
        tx.commit().await?;
        Ok(failed_tests as usize + requeued)
    }

    async fn recover_at_start(&self, now_ms: i64) -> Result<usize> {
        // Other nodes' leases are live: the start of this one changes
        // nothing about them.
        self.recover_interrupted(now_ms).await
    }

    async fn requeue_failed(&self, tenant_id: &str, id: &str, now_ms: i64) -> Result<Requeue> {
        let mut tx = self.begin().await?;
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT status, webhook_id FROM deliveries WHERE id = $1 AND tenant_id = $2
             FOR UPDATE",
        )
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status, webhook_id)) = row else {
            return Ok(Requeue::NotFound);
        };
        let status: DeliveryStatus = status.parse().map_err(StoreError::Corrupt)?;
        if status != DeliveryStatus::Failed {
            // Roll back now: a dropped transaction's ROLLBACK is only sent
            // when its connection is next used, and until then the row
            // lock would hide the delivery from claims (SKIP LOCKED).
            tx.rollback().await?;
            return Ok(Requeue::NotFailed(status));
        }
        sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $2,
                    schedule_base = attempt_count, updated_at = $2
             WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        notify(&mut tx, WORK_CHANNEL, std::slice::from_ref(&webhook_id)).await?;
        tx.commit().await?;
        Ok(Requeue::Requeued { webhook_id })
    }

    async fn requeue_failed_between(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        since_ms: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $5,
                    schedule_base = attempt_count, updated_at = $5
             WHERE webhook_id = $1 AND tenant_id = $2 AND status = 'failed'
               AND updated_at BETWEEN $3 AND $4",
        )
        .bind(webhook_id)
        .bind(tenant_id)
        .bind(since_ms)
        .bind(until_ms)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            notify(&mut tx, WORK_CHANNEL, &[webhook_id.to_string()]).await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

impl PgStore {
    /// Records a batch in one transaction: the deliveries' new state in one
    /// statement, the attempts in another, then the circuit breaker.
    /// Webhooks with a retry scheduled are told to every node, so whichever
    /// holds the lane sleeps until it falls due.
    async fn record_batch(&self, records: &[AttemptRecord]) -> Result<RecordOutcome> {
        let mut tx = self.begin().await?;
        let recorded = update_deliveries(&mut tx, records).await?;
        let records: Vec<&AttemptRecord> = records
            .iter()
            .filter(|r| recorded.contains(&r.delivery_seq))
            .collect();
        insert_attempts(&mut tx, &records).await?;
        rollups::record(&mut tx, &records).await?;

        let mut outcome = RecordOutcome::default();
        // Successes reset the breaker's count in one statement at the end,
        // except where a failure follows them in this batch: order matters.
        let mut delivered: Vec<String> = Vec::new();
        let mut retrying: Vec<String> = Vec::new();
        for record in &records {
            if let NextStep::RetryAt(_) = record.next {
                retrying.push(record.webhook_id.clone());
            }
            match Count::of(record) {
                Count::Reset => delivered.push(record.webhook_id.clone()),
                Count::Failure => {
                    if delivered.contains(&record.webhook_id) {
                        delivered.retain(|w| *w != record.webhook_id);
                        reset_failures(&mut tx, std::slice::from_ref(&record.webhook_id)).await?;
                    }
                    count_failure(&mut tx, record, &mut outcome).await?;
                }
                Count::Unchanged => {}
            }
        }
        delivered.sort_unstable();
        delivered.dedup();
        reset_failures(&mut tx, &delivered).await?;
        retrying.sort_unstable();
        retrying.dedup();
        notify(&mut tx, WORK_CHANNEL, &retrying).await?;
        let disabled: Vec<String> = outcome
            .disabled
            .iter()
            .map(|d| d.webhook_id.clone())
            .collect();
        // A disabled webhook still receives (and holds) what it subscribes
        // to: routing is unchanged, so the registry version is too.
        notify(&mut tx, WEBHOOK_CHANNEL, &disabled).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

impl DeliveryLog for PgStore {
    async fn list_deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>> {
        // Planned afresh with each call's values (an unnamed statement, not
        // one kept on the connection): a kept statement switches, after a
        // few selective calls, to a generic plan that cannot tell which
        // `$n IS NULL OR …` filters are off, and that plan scans every
        // event and sorts for each plain page. With the values known, an
        // unfiltered or lightly filtered page walks the sequence backward
        // and stops at the limit.
        let rows = sqlx::query(&format!(
            "{DELIVERY_SELECT}
             WHERE d.tenant_id = $1 AND d.seq < $2
               AND ($3::text IS NULL OR d.webhook_id = $3)
               AND ($4::text IS NULL OR e.id = $4)
               AND ($5::text IS NULL OR d.status = $5)
               AND ($6::text IS NULL OR e.type = $6)
               AND ($7::bigint IS NULL OR d.created_at >= $7)
               AND ($8::bigint IS NULL OR d.created_at < $8)
             ORDER BY d.seq DESC LIMIT $9"
        ))
        .bind(&filter.tenant_id)
        .bind(filter.before_seq.unwrap_or(i64::MAX))
        .bind(&filter.webhook_id)
        .bind(&filter.event_id)
        .bind(filter.status.map(|s| s.as_str()))
        .bind(&filter.event_type)
        .bind(filter.created_from_ms)
        .bind(filter.created_before_ms)
        .bind(filter.limit as i64)
        .persistent(false)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(delivery_row).collect()
    }

    async fn get_delivery(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>> {
        let row = sqlx::query(&format!(
            "{DELIVERY_SELECT} WHERE d.id = $1 AND d.tenant_id = $2"
        ))
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row.as_ref().map(delivery_row).transpose()? else {
            return Ok(None);
        };
        let attempts = sqlx::query(
            "SELECT id, number, started_at, duration_ms, status_code, outcome, error_category,
                    error_message, request_headers, response_headers, response_body
             FROM attempts WHERE delivery_seq = $1 ORDER BY number, seq",
        )
        .bind(row.seq)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(attempt_row)
        .collect::<Result<_>>()?;
        Ok(Some((row, attempts)))
    }

    async fn delivery_counts(&self, tenant_id: &str) -> Result<Vec<(DeliveryStatus, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM deliveries WHERE tenant_id = $1 GROUP BY status",
        )
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(status, n)| Ok((status.parse().map_err(StoreError::Corrupt)?, n as u64)))
            .collect()
    }

    async fn analytics(&self, query: AnalyticsQuery) -> Result<Vec<AnalyticsRow>> {
        self.analytics_rows(query).await
    }

    async fn webhook_stats(
        &self,
        tenant_id: &str,
        webhook_ids: Vec<String>,
    ) -> Result<Vec<WebhookStats>> {
        self.stats_of(tenant_id, webhook_ids).await
    }

    async fn prune_rollups(&self, now_ms: i64) -> Result<usize> {
        rollups::prune(self.pool(), now_ms).await
    }

    async fn set_degraded_alert(&self, webhook_id: &str, raised: bool) -> Result<bool> {
        self.set_alert(webhook_id, raised).await
    }
}

async fn next_due_of(pool: &PgPool, webhook_id: &str, ordered: bool) -> Result<Option<i64>> {
    let sql = if ordered {
        format!(
            "SELECT MIN(next_attempt_at) FROM deliveries
             WHERE seq IN ({ORDERED_HEADS}) AND status IN ('pending', 'retrying', 'scheduled')"
        )
    } else {
        "SELECT MIN(next_attempt_at) FROM deliveries
         WHERE webhook_id = $1 AND status IN ('pending', 'retrying', 'scheduled')"
            .to_string()
    };
    Ok(sqlx::query_scalar(&sql)
        .bind(webhook_id)
        .fetch_one(pool)
        .await?)
}

fn attempt_row(r: &PgRow) -> Result<AttemptRow> {
    let outcome: String = r.try_get(5)?;
    let category: Option<String> = r.try_get(6)?;
    Ok(AttemptRow {
        id: r.try_get(0)?,
        number: to_u32(r.try_get(1)?),
        started_at_ms: r.try_get(2)?,
        duration_ms: r.try_get::<i64, _>(3)? as u64,
        status_code: r.try_get::<Option<i32>, _>(4)?.map(|c| c as u16),
        outcome: AttemptOutcome::parse(&outcome).unwrap_or(AttemptOutcome::Failed),
        error_category: category.as_deref().and_then(ErrorCategory::parse),
        error_message: r.try_get(7)?,
        request_headers: r.try_get(8)?,
        response_headers: r.try_get(9)?,
        response_body: r.try_get(10)?,
    })
}

/// Moves each delivery to its next state; returns the sequence numbers of
/// those that still existed.
async fn update_deliveries(
    tx: &mut Transaction<'_, Postgres>,
    records: &[AttemptRecord],
) -> Result<std::collections::HashSet<i64>> {
    let mut seqs = Vec::with_capacity(records.len());
    let mut statuses = Vec::with_capacity(records.len());
    let mut numbers = Vec::with_capacity(records.len());
    let mut next_at: Vec<Option<i64>> = Vec::with_capacity(records.len());
    let mut codes: Vec<Option<i32>> = Vec::with_capacity(records.len());
    let mut errors: Vec<Option<String>> = Vec::with_capacity(records.len());
    let mut ended_at = Vec::with_capacity(records.len());
    let mut delivered_at: Vec<Option<i64>> = Vec::with_capacity(records.len());
    for r in records {
        let change = DeliveryUpdate::of(r);
        seqs.push(r.delivery_seq);
        statuses.push(change.status);
        numbers.push(r.number as i32);
        next_at.push(change.next_attempt_at);
        codes.push(r.status_code.map(i32::from));
        errors.push(change.last_error);
        ended_at.push(change.updated_at);
        delivered_at.push(change.delivered_at);
    }
    let updated: Vec<i64> = sqlx::query_scalar(
        "UPDATE deliveries d
         SET status = v.status, attempt_count = v.number, next_attempt_at = v.next_at,
             leased_until = NULL, last_status_code = v.code, last_error = v.error,
             updated_at = v.ended_at, delivered_at = COALESCE(v.delivered_at, d.delivered_at)
         FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::int[], $6::text[],
                     $7::bigint[], $8::bigint[])
              AS v(seq, status, number, next_at, code, error, ended_at, delivered_at)
         WHERE d.seq = v.seq
         RETURNING d.seq",
    )
    .bind(&seqs)
    .bind(&statuses)
    .bind(&numbers)
    .bind(&next_at)
    .bind(&codes)
    .bind(&errors)
    .bind(&ended_at)
    .bind(&delivered_at)
    .fetch_all(&mut **tx)
    .await?;
    Ok(updated.into_iter().collect())
}

async fn insert_attempts(
    tx: &mut Transaction<'_, Postgres>,
    records: &[&AttemptRecord],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    // Columns borrow from the records: headers and bodies are not copied
    // (only text with a NUL in it is, to be made storable).
    let text = |f: fn(&AttemptRecord) -> &str| records.iter().map(|r| f(r)).collect::<Vec<_>>();
    let optional =
        |f: fn(&AttemptRecord) -> Option<&str>| records.iter().map(|r| f(r)).collect::<Vec<_>>();
    let storable: Vec<AttemptText<'_>> = records.iter().map(|r| AttemptText::of(r)).collect();
    sqlx::query(
        "INSERT INTO attempts (id, delivery_seq, number, started_at, duration_ms, status_code,
                               outcome, error_category, error_message, request_headers,
                               response_headers, response_body, tenant_id)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[], $5::bigint[],
                              $6::int[], $7::text[], $8::text[], $9::text[], $10::text[],
                              $11::text[], $12::bytea[], $13::text[])",
    )
    .bind(text(|r| &r.id))
    .bind(records.iter().map(|r| r.delivery_seq).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.number as i32).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.started_at_ms).collect::<Vec<_>>())
    .bind(
        records
            .iter()
            .map(|r| r.duration_ms as i64)
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.status_code.map(i32::from))
            .collect::<Vec<_>>(),
    )
    .bind(text(|r| r.outcome.as_str()))
    .bind(optional(|r| r.error_category.map(|c| c.as_str())))
    .bind(
        storable
            .iter()
            .map(|t| t.error_message.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(
        storable
            .iter()
            .map(|t| t.request_headers.as_ref())
            .collect::<Vec<_>>(),
    )
    .bind(
        storable
            .iter()
            .map(|t| t.response_headers.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.response_body.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(text(|r| &r.tenant_id))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A delivery of each webhook succeeded: the breaker's count starts over.
async fn reset_failures(tx: &mut Transaction<'_, Postgres>, webhook_ids: &[String]) -> Result<()> {
    if !webhook_ids.is_empty() {
        sqlx::query(
            "UPDATE webhooks SET consecutive_failures = 0
             WHERE id = ANY($1) AND consecutive_failures != 0",
        )
        .bind(webhook_ids)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A delivery failed for good: a dead letter, one more for the circuit
/// breaker, and the webhook disabled if that reaches its threshold.
async fn count_failure(
    tx: &mut Transaction<'_, Postgres>,
    r: &AttemptRecord,
    outcome: &mut RecordOutcome,
) -> Result<()> {
    let last_error = crate::recording::last_error(r);
    let (delivery_id, event_id, event_type): (String, String, String) = sqlx::query_as(
        "SELECT d.id, e.id, e.type FROM deliveries d JOIN events e ON e.seq = d.event_seq
         WHERE d.seq = $1",
    )
    .bind(r.delivery_seq)
    .fetch_one(&mut **tx)
    .await?;
    outcome.dead_letters.push(DeadLetter {
        tenant_id: r.tenant_id.clone(),
        webhook_id: r.webhook_id.clone(),
        delivery_id,
        event_id,
        event_type,
        attempts: r.number,
        last_error: last_error.clone(),
    });
    let failures: Option<i32> = sqlx::query_scalar(
        "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1
         WHERE id = $1 RETURNING consecutive_failures",
    )
    .bind(&r.webhook_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(disabling) =
        failures.and_then(|f| Disabling::after(r, to_u32(f), last_error.as_deref()))
    else {
        return Ok(());
    };
    let changed = sqlx::query(
        "UPDATE webhooks SET status = 'disabled', updated_at = $2,
                disabled_reason = $3, disabled_at = $4, version = version + 1
         WHERE id = $1 AND status = 'active'",
    )
    .bind(&r.webhook_id)
    .bind(disabling.at_ms)
    .bind(&disabling.reason)
    .bind(&disabling.disabled_at)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed == 1 {
        audit::record(tx, &disabling.audit(r)).await?;
        outcome.disabled.push(disabling.announced(r));
    }
    Ok(())
}
