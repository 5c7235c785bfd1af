//! The delivery queue (claim, record, recover, re-queue) and the delivery log.

use std::collections::HashMap;
use std::sync::Arc;

use herald_core::delivery::{AttemptOutcome, DeliveryStatus, ErrorCategory};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, audit, rollups};
use crate::breaker::{Count, Disabling};
use crate::leases::{INTERRUPTED_TEST, REQUEUED_STATUS};
use crate::queue_stats;
use crate::recording::{self, AttemptText, DeliveryUpdate};
use crate::rollups::{AnalyticsQuery, AnalyticsRow, WebhookStats};
pub(super) use crate::types::DELIVERY_SELECT;
use crate::{
    AttemptRecord, AttemptRow, Claim, ClaimedDelivery, DeadLetter, DeliveryFilter, DeliveryLog,
    DeliveryQueue, DeliveryRow, QueueStats, RecordOutcome, Requeue, Result, StoreError,
};

pub(crate) fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<DeliveryRow>> {
    let status: String = r.get(5)?;
    let Ok(status) = status.parse::<DeliveryStatus>() else {
        return Ok(Err(StoreError::Corrupt(format!(
            "delivery status `{status}`"
        ))));
    };
    Ok(Ok(DeliveryRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        event_id: r.get(2)?,
        event_type: r.get(3)?,
        webhook_id: r.get(4)?,
        status,
        test: r.get(6)?,
        attempt_count: r.get(7)?,
        next_attempt_at_ms: r.get(8)?,
        last_status_code: r.get(9)?,
        last_error: r.get(10)?,
        created_at_ms: r.get(11)?,
        updated_at_ms: r.get(12)?,
        delivered_at_ms: r.get(13)?,
    }))
}

impl DeliveryQueue for SqliteStore {
    async fn claim(
        &self,
        webhook_id: &str,
        now_ms: i64,
        limit: usize,
        leased_until_ms: i64,
        ordered: bool,
    ) -> Result<Claim> {
        let webhook_id = webhook_id.to_string();
        self.write(move |conn| {
            let deliveries = claim(conn, &webhook_id, now_ms, limit, leased_until_ms, ordered)?;
            let next_due_ms = if deliveries.len() < limit {
                next_due(conn, &webhook_id, ordered)?
            } else {
                Some(now_ms)
            };
            Ok(Claim {
                deliveries,
                next_due_ms,
            })
        })
        .await
    }

    async fn release(&self, seqs: Vec<i64>) -> Result<()> {
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "UPDATE deliveries SET status = {REQUEUED_STATUS}, leased_until = NULL
                 WHERE seq = ?1 AND status = 'delivering'"
            ))?;
            for seq in &seqs {
                stmt.execute([seq])?;
            }
            Ok(())
        })
        .await
    }

    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> Result<RecordOutcome> {
        // One write per record: they share the writer's transaction, and
        // one that cannot be written fails alone (see `WriteJob`).
        let records = Arc::new(records);
        let writes = (0..records.len())
            .map(|i| {
                let records = records.clone();
                move |conn: &Connection| {
                    let mut outcome = RecordOutcome::default();
                    record_attempt(conn, &records[i], &mut outcome)?;
                    Ok(outcome)
                }
            })
            .collect();
        let results = self.write_each(writes).await;
        recording::merge(&records, results)
    }

    async fn next_due(&self, webhook_id: &str) -> Result<Option<i64>> {
        let webhook_id = webhook_id.to_string();
        self.read(move |conn| next_due(conn, &webhook_id, false))
            .await
    }

    async fn webhooks_with_queued_deliveries(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT webhook_id FROM deliveries
                 WHERE status IN ('pending', 'retrying', 'scheduled')",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.map(|r| r.map_err(Into::into)).collect()
        })
        .await
    }

    async fn queue_stats(&self) -> Result<QueueStats> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(queue_stats::QUERY)?;
            let rows = stmt.query_map([], |r| {
                Ok(queue_stats::Row {
                    status: r.get(0)?,
                    active: r.get::<_, i64>(1)? != 0,
                    count: r.get(2)?,
                    oldest_at_ms: r.get(3)?,
                })
            })?;
            let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(queue_stats::fold(rows))
        })
        .await
    }

    async fn oldest_waiting_at(&self, tenant_id: &str) -> Result<Option<i64>> {
        let tenant_id = tenant_id.to_string();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(queue_stats::OLDEST_WAITING_OF_TENANT)?
                .query_row([tenant_id], |r| r.get(0))?)
        })
        .await
    }

    async fn recover_interrupted(&self, now_ms: i64) -> Result<usize> {
        let held = serde_json::to_string(&self.held_lanes()).expect("ids serialize");
        self.write(move |conn| {
            let failed_tests = conn
                .prepare_cached(
                    "UPDATE deliveries SET status = 'failed', leased_until = NULL, updated_at = ?1,
                            last_error = ?2
                     WHERE status = 'delivering' AND test = 1 AND leased_until < ?1",
                )?
                .execute(params![now_ms, INTERRUPTED_TEST])?;
            let requeued = conn
                .prepare_cached(&format!(
                    "UPDATE deliveries
                     SET status = {REQUEUED_STATUS},
                         next_attempt_at = ?1, leased_until = NULL, updated_at = ?1
                     WHERE status = 'delivering' AND test = 0 AND leased_until < ?1
                       AND webhook_id NOT IN (SELECT value FROM json_each(?2))"
                ))?
                .execute(params![now_ms, held])?;
            Ok(failed_tests + requeued)
        })
        .await
    }

    async fn recover_at_start(&self, now_ms: i64) -> Result<usize> {
        // This process is the only one using the file, and it has just
        // started: every lease is from a previous run, however long it had
        // left.
        self.write(move |conn| {
            let failed_tests = conn.execute(
                "UPDATE deliveries SET status = 'failed', leased_until = NULL, updated_at = ?1,
                        last_error = ?2
                 WHERE status = 'delivering' AND test = 1",
                params![now_ms, INTERRUPTED_TEST],
            )?;
            let requeued = conn.execute(
                &format!(
                    "UPDATE deliveries
                     SET status = {REQUEUED_STATUS},
                         next_attempt_at = ?1, leased_until = NULL, updated_at = ?1
                     WHERE status = 'delivering'"
                ),
                [now_ms],
            )?;
            Ok(failed_tests + requeued)
        })
        .await
    }

    async fn requeue_failed(&self, tenant_id: &str, id: &str, now_ms: i64) -> Result<Requeue> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        self.write(move |conn| {
            let row: Option<(String, String)> = conn
                .prepare_cached(
                    "SELECT status, webhook_id FROM deliveries WHERE id = ?1 AND tenant_id = ?2",
                )?
                .query_row(params![id, tenant_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((status, webhook_id)) = row else {
                return Ok(Requeue::NotFound);
            };
            let status: DeliveryStatus = status.parse().map_err(StoreError::Corrupt)?;
            if status != DeliveryStatus::Failed {
                return Ok(Requeue::NotFailed(status));
            }
            conn.prepare_cached(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2,
                        schedule_base = attempt_count, updated_at = ?2
                 WHERE id = ?1",
            )?
            .execute(params![id, now_ms])?;
            Ok(Requeue::Requeued { webhook_id })
        })
        .await
    }

    async fn requeue_failed_between(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        since_ms: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<u64> {
        let (tenant_id, webhook_id) = (tenant_id.to_string(), webhook_id.to_string());
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE deliveries SET status = 'pending', next_attempt_at = ?5,
                            schedule_base = attempt_count, updated_at = ?5
                     WHERE webhook_id = ?1 AND tenant_id = ?2 AND status = 'failed'
                       AND updated_at BETWEEN ?3 AND ?4",
                )?
                .execute(params![webhook_id, tenant_id, since_ms, until_ms, now_ms])?;
            Ok(n as u64)
        })
        .await
    }
}

/// The oldest unfinished delivery of each ordering key of a webhook: the
/// only ones an ordered webhook may send.
const ORDERED_HEADS: &str = "SELECT MIN(seq) AS seq FROM deliveries
     WHERE webhook_id = ?1 AND ordering_key IS NOT NULL
       AND status IN ('pending', 'retrying', 'delivering')
     GROUP BY ordering_key";

fn next_due(conn: &Connection, webhook_id: &str, ordered: bool) -> Result<Option<i64>> {
    let sql = if ordered {
        format!(
            "SELECT MIN(d.next_attempt_at) FROM ({ORDERED_HEADS}) h JOIN deliveries d ON d.seq = h.seq
             WHERE d.status IN ('pending', 'retrying', 'scheduled')"
        )
    } else {
        "SELECT MIN(next_attempt_at) FROM deliveries
         WHERE webhook_id = ?1 AND status IN ('pending', 'retrying', 'scheduled')"
            .to_string()
    };
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([webhook_id], |r| r.get::<_, Option<i64>>(0))?)
}

fn claim(
    conn: &Connection,
    webhook_id: &str,
    now_ms: i64,
    limit: usize,
    leased_until_ms: i64,
    ordered: bool,
) -> Result<Vec<ClaimedDelivery>> {
    let eligible = if ordered {
        format!(
            "SELECT d.seq FROM ({}) h JOIN deliveries d ON d.seq = h.seq
             WHERE d.status IN ('pending', 'retrying', 'scheduled') AND d.next_attempt_at <= ?2
             ORDER BY d.seq LIMIT ?4",
            ORDERED_HEADS.replace("?1", "?3")
        )
    } else {
        "SELECT seq FROM deliveries
         WHERE webhook_id = ?3 AND status IN ('pending', 'retrying', 'scheduled') AND next_attempt_at <= ?2
         ORDER BY next_attempt_at, seq LIMIT ?4"
            .to_string()
    };
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE deliveries SET status = 'delivering', leased_until = ?1, updated_at = ?2
         WHERE seq IN ({eligible})
         RETURNING seq, id, tenant_id, event_seq, attempt_count, schedule_base, test,
                   next_attempt_at, created_at"
    ))?;
    let mut rows = stmt
        .query_map(
            params![leased_until_ms, now_ms, webhook_id, limit as i64],
            |r| {
                Ok((
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, u32>(4)?,
                    r.get::<_, u32>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, i64>(8)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // RETURNING does not keep the subquery's order.
    rows.sort_by_key(|r| (r.0, r.1));

    let mut event_stmt =
        conn.prepare_cached("SELECT id, type, body, traceparent FROM events WHERE seq = ?1")?;
    let mut events: HashMap<i64, ClaimedEvent> = HashMap::new();
    let mut claimed = Vec::with_capacity(rows.len());
    for (_, seq, id, tenant_id, event_seq, attempt_count, schedule_base, test, queued_at_ms) in rows
    {
        let (event_id, event_type, body, traceparent) = match events.get(&event_seq) {
            Some(e) => e.clone(),
            None => {
                let e = event_stmt.query_row([event_seq], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        Arc::from(r.get::<_, String>(2)?),
                        r.get(3)?,
                    ))
                })?;
                events.insert(event_seq, e.clone());
                e
            }
        };
        claimed.push(ClaimedDelivery {
            seq,
            id,
            tenant_id,
            webhook_id: webhook_id.to_string(),
            event_id,
            event_type,
            body,
            attempt_count,
            schedule_base,
            test,
            queued_at_ms,
            traceparent,
        });
    }
    Ok(claimed)
}

/// What a claim reads of a delivery's event: id, type, body, trace.
type ClaimedEvent = (String, String, Arc<str>, Option<String>);

fn record_attempt(conn: &Connection, r: &AttemptRecord, outcome: &mut RecordOutcome) -> Result<()> {
    let change = DeliveryUpdate::of(r);
    let updated = conn
        .prepare_cached(
            "UPDATE deliveries SET status = ?2, attempt_count = ?3, next_attempt_at = ?4,
                    leased_until = NULL, last_status_code = ?5, last_error = ?6,
                    updated_at = ?7, delivered_at = COALESCE(?8, delivered_at)
             WHERE seq = ?1",
        )?
        .execute(params![
            r.delivery_seq,
            change.status,
            r.number,
            change.next_attempt_at,
            r.status_code,
            change.last_error,
            change.updated_at,
            change.delivered_at,
        ])?;
    if updated == 0 {
        return Ok(());
    }
    let text = AttemptText::of(r);
    conn.prepare_cached(
        "INSERT INTO attempts (id, delivery_seq, number, started_at, duration_ms, status_code,
                               outcome, error_category, error_message, request_headers,
                               response_headers, response_body, tenant_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        r.id,
        r.delivery_seq,
        r.number,
        r.started_at_ms,
        r.duration_ms as i64,
        r.status_code,
        r.outcome.as_str(),
        r.error_category.map(|c| c.as_str()),
        text.error_message,
        text.request_headers,
        text.response_headers,
        r.response_body,
        r.tenant_id,
    ])?;
    match Count::of(r) {
        Count::Reset => {
            conn.prepare_cached(
                "UPDATE webhooks SET consecutive_failures = 0
                 WHERE id = ?1 AND consecutive_failures != 0",
            )?
            .execute([&r.webhook_id])?;
        }
        Count::Failure => count_failure(conn, r, change.last_error.as_deref(), outcome)?,
        Count::Unchanged => {}
    }
    // Last, once nothing above can fail: the rollups of this transaction.
    rollups::stage(r);
    Ok(())
}

/// A delivery failed for good: a dead letter, one more for the circuit
/// breaker, and the webhook disabled if that reaches its threshold.
fn count_failure(
    conn: &Connection,
    r: &AttemptRecord,
    last_error: Option<&str>,
    outcome: &mut RecordOutcome,
) -> Result<()> {
    let (delivery_id, event_id, event_type): (String, String, String) = conn
        .prepare_cached(
            "SELECT d.id, e.id, e.type FROM deliveries d JOIN events e ON e.seq = d.event_seq
             WHERE d.seq = ?1",
        )?
        .query_row([r.delivery_seq], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    outcome.dead_letters.push(DeadLetter {
        tenant_id: r.tenant_id.clone(),
        webhook_id: r.webhook_id.clone(),
        delivery_id,
        event_id,
        event_type,
        attempts: r.number,
        last_error: last_error.map(str::to_string),
    });
    let failures: Option<u32> = conn
        .prepare_cached(
            "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1
             WHERE id = ?1 RETURNING consecutive_failures",
        )?
        .query_row([&r.webhook_id], |row| row.get(0))
        .optional()?;
    let Some(disabling) = failures.and_then(|f| Disabling::after(r, f, last_error)) else {
        return Ok(());
    };
    let changed = conn
        .prepare_cached(
            "UPDATE webhooks SET status = 'disabled', updated_at = ?2,
                    disabled_reason = ?3, disabled_at = ?4, version = version + 1
             WHERE id = ?1 AND status = 'active'",
        )?
        .execute(params![
            r.webhook_id,
            disabling.at_ms,
            disabling.reason,
            disabling.disabled_at
        ])?;
    // A disabled webhook still receives (and holds) what it subscribes to:
    // routing is unchanged, so the registry version is too.
    if changed == 1 {
        audit::record(conn, &disabling.audit(r))?;
        outcome.disabled.push(disabling.announced(r));
    }
    Ok(())
}

fn attempts_of(conn: &Connection, delivery_seq: i64) -> Result<Vec<AttemptRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, number, started_at, duration_ms, status_code, outcome, error_category,
                error_message, request_headers, response_headers, response_body
         FROM attempts WHERE delivery_seq = ?1 ORDER BY number, seq",
    )?;
    let rows = stmt.query_map([delivery_seq], |r| {
        let outcome: String = r.get(5)?;
        let category: Option<String> = r.get(6)?;
        Ok(AttemptRow {
            id: r.get(0)?,
            number: r.get(1)?,
            started_at_ms: r.get(2)?,
            duration_ms: r.get::<_, i64>(3)? as u64,
            status_code: r.get(4)?,
            outcome: AttemptOutcome::parse(&outcome).unwrap_or(AttemptOutcome::Failed),
            error_category: category.as_deref().and_then(ErrorCategory::parse),
            error_message: r.get(7)?,
            request_headers: r.get(8)?,
            response_headers: r.get(9)?,
            response_body: r.get(10)?,
        })
    })?;
    rows.map(|r| r.map_err(Into::into)).collect()
}

impl DeliveryLog for SqliteStore {
    async fn list_deliveries(&self, filter: DeliveryFilter) -> Result<Vec<DeliveryRow>> {
        self.read(move |conn| {
            let sql = format!(
                "{DELIVERY_SELECT}
                 WHERE d.tenant_id = ?1 AND d.seq < ?2
                   AND (?3 IS NULL OR d.webhook_id = ?3)
                   AND (?4 IS NULL OR e.id = ?4)
                   AND (?5 IS NULL OR d.status = ?5)
                   AND (?6 IS NULL OR e.type = ?6)
                   AND (?7 IS NULL OR d.created_at >= ?7)
                   AND (?8 IS NULL OR d.created_at < ?8)
                 ORDER BY d.seq DESC LIMIT ?9"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    filter.tenant_id,
                    filter.before_seq.unwrap_or(i64::MAX),
                    filter.webhook_id,
                    filter.event_id,
                    filter.status.map(|s| s.as_str()),
                    filter.event_type,
                    filter.created_from_ms,
                    filter.created_before_ms,
                    filter.limit as i64,
                ],
                delivery_row,
            )?;
            rows.map(|r| r?).collect()
        })
        .await
    }

    async fn get_delivery(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<(DeliveryRow, Vec<AttemptRow>)>> {
        let (tenant_id, id) = (tenant_id.to_string(), id.to_string());
        self.read(move |conn| {
            let row = conn
                .prepare_cached(&format!(
                    "{DELIVERY_SELECT} WHERE d.id = ?1 AND d.tenant_id = ?2"
                ))?
                .query_row(params![id, tenant_id], delivery_row)
                .optional()?
                .transpose()?;
            let Some(row) = row else { return Ok(None) };
            let attempts = attempts_of(conn, row.seq)?;
            Ok(Some((row, attempts)))
        })
        .await
    }

    async fn delivery_counts(&self, tenant_id: &str) -> Result<Vec<(DeliveryStatus, u64)>> {
        let tenant_id = tenant_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT status, COUNT(*) FROM deliveries WHERE tenant_id = ?1 GROUP BY status",
            )?;
            let rows = stmt.query_map([tenant_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            let mut counts = Vec::new();
            for row in rows {
                let (status, n) = row?;
                let status = status.parse().map_err(StoreError::Corrupt)?;
                counts.push((status, n as u64));
            }
            Ok(counts)
        })
        .await
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
        self.write(move |conn| rollups::prune(conn, now_ms)).await
    }

    async fn set_degraded_alert(&self, webhook_id: &str, raised: bool) -> Result<bool> {
        let webhook_id = webhook_id.to_string();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE webhook_stats SET degraded_alert = ?2
                     WHERE webhook_id = ?1 AND degraded_alert != ?2",
                )?
                .execute(params![webhook_id, i64::from(raised)])?;
            Ok(changed == 1)
        })
        .await
    }
}
