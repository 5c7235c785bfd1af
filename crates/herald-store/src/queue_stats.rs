//! The queue's figures for the metrics, the same query on both engines.

use crate::types::QueueStats;

/// Waiting and leased deliveries by state and by whether their webhook is
/// active, with the oldest queue time of each group. Only rows in the
/// queue's partial indexes are read (`deliveries_queue`,
/// `deliveries_leased`), so finished deliveries cost nothing.
pub(crate) const QUERY: &str = "
SELECT d.status,
       CASE WHEN w.status = 'active' THEN 1 ELSE 0 END AS active,
       COUNT(*),
       MIN(d.created_at)
FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
WHERE d.status IN ('pending', 'retrying', 'delivering', 'scheduled')
GROUP BY d.status, CASE WHEN w.status = 'active' THEN 1 ELSE 0 END";

/// When one tenant's oldest waiting delivery was queued: what
/// [`QueueStats::oldest_pending_at_ms`] is for the whole queue (pending or
/// retrying, of an active webhook; not scheduled, not held), for the
/// tenant in `$1`. The status list repeats the predicate of the partial
/// index `deliveries_queue` word for word, which is what lets SQLite read
/// only the queue through it; the second term then leaves out the
/// scheduled rows that index also holds. The tenant is taken from the
/// webhook (a webhook's deliveries are its tenant's): a condition on
/// `d.tenant_id` would have SQLite walk every delivery of the tenant
/// instead.
pub(crate) const OLDEST_WAITING_OF_TENANT: &str = "
SELECT MIN(d.created_at)
FROM webhooks w JOIN deliveries d ON d.webhook_id = w.id
WHERE w.tenant_id = $1 AND w.status = 'active'
  AND d.status IN ('pending', 'retrying', 'scheduled')
  AND d.status <> 'scheduled'";

/// One row of [`QUERY`].
pub(crate) struct Row {
    pub(crate) status: String,
    pub(crate) active: bool,
    pub(crate) count: i64,
    pub(crate) oldest_at_ms: Option<i64>,
}

/// Adds the groups up: waiting deliveries of a paused or disabled webhook
/// are `held`, whatever their state; leased ones are `delivering`.
pub(crate) fn fold(rows: impl IntoIterator<Item = Row>) -> QueueStats {
    let mut stats = QueueStats::default();
    for row in rows {
        let count = u64::try_from(row.count).unwrap_or(0);
        match (row.status.as_str(), row.active) {
            ("delivering", _) => stats.delivering += count,
            ("scheduled", _) => stats.scheduled += count,
            (_, false) => stats.held += count,
            (waiting, true) => {
                if waiting == "pending" {
                    stats.pending += count;
                } else {
                    stats.retrying += count;
                }
                stats.oldest_pending_at_ms = match (stats.oldest_pending_at_ms, row.oldest_at_ms) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
    }
    stats
}
