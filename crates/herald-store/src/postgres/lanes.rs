//! Lane leases: which node works each webhook's deliveries. One holder at
//! a time is what makes a webhook's rate limit, `max_in_flight`, order,
//! back-pressure and batching hold across nodes without a database round
//! trip per send. A holder renews its leases every second or so; a node
//! that dies stops renewing, and after the lease runs out another node
//! takes the lane over and re-queues what the dead one had leased.

use rand::Rng;

use super::{PgStore, notify};
use crate::cluster::{LaneClaim, WORK_CHANNEL};
use crate::leases::{INTERRUPTED_TEST, REQUEUED_STATUS};
use crate::{Lanes, Result};

impl Lanes for PgStore {
    async fn acquire_lane(&self, webhook_id: &str, now_ms: i64, ttl_ms: i64) -> Result<LaneClaim> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO lane_leases (webhook_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(webhook_id)
            .execute(&mut *tx)
            .await?;
        let (holder, leased_until, quiet_until): (Option<String>, i64, Option<i64>) =
            sqlx::query_as(
                "SELECT node_id, leased_until, quiet_until FROM lane_leases
                 WHERE webhook_id = $1 FOR UPDATE",
            )
            .bind(webhook_id)
            .fetch_one(&mut *tx)
            .await?;
        let live = leased_until >= now_ms;
        match holder.as_deref() {
            Some(node) if node != self.node_id() && live => {
                // Release the row lock at once rather than when the
                // connection is next used (see `requeue_failed`).
                tx.rollback().await?;
                return Ok(LaneClaim::Taken {
                    until_ms: leased_until,
                });
            }
            _ => {}
        }
        // A holder whose lease ran out died (or stalled): what it had leased
        // goes back to the queue. A released lane (no holder) or one this
        // node still holds has nothing of a dead node's.
        let dead_holder = holder.is_some() && !live;
        let token: i64 = rand::rng().random_range(1..i64::MAX);
        sqlx::query(
            "UPDATE lane_leases SET node_id = $2, token = $3, leased_until = $4
             WHERE webhook_id = $1",
        )
        .bind(webhook_id)
        .bind(self.node_id())
        .bind(token)
        .bind(now_ms + ttl_ms)
        .execute(&mut *tx)
        .await?;
        let mut recovered = 0;
        if dead_holder {
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', leased_until = NULL, updated_at = $2,
                        last_error = $3
                 WHERE webhook_id = $1 AND status = 'delivering' AND test",
            )
            .bind(webhook_id)
            .bind(now_ms)
            .bind(INTERRUPTED_TEST)
            .execute(&mut *tx)
            .await?;
            recovered = sqlx::query(&format!(
                "UPDATE deliveries
                 SET status = {REQUEUED_STATUS},
                     next_attempt_at = $2, leased_until = NULL, updated_at = $2
                 WHERE webhook_id = $1 AND status = 'delivering' AND NOT test"
            ))
            .bind(webhook_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(LaneClaim::Granted {
            token,
            quiet_until_ms: quiet_until.filter(|q| *q > now_ms),
            recovered,
        })
    }

    async fn renew_lanes(&self, now_ms: i64, ttl_ms: i64) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "UPDATE lane_leases SET leased_until = $2 WHERE node_id = $1
             RETURNING webhook_id, token",
        )
        .bind(self.node_id())
        .bind(now_ms + ttl_ms)
        .fetch_all(self.pool())
        .await?)
    }

    async fn release_lane(
        &self,
        webhook_id: &str,
        token: i64,
        quiet_until_ms: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let released = sqlx::query(
            "UPDATE lane_leases SET node_id = NULL, leased_until = 0, quiet_until = $4
             WHERE webhook_id = $1 AND node_id = $2 AND token = $3",
        )
        .bind(webhook_id)
        .bind(self.node_id())
        .bind(token)
        .bind(quiet_until_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Work stored while the lane was being given up must not wait for
        // the next event: whichever node hears this takes the lane.
        let waiting: Option<i64> = sqlx::query_scalar(
            "SELECT 1::bigint FROM deliveries
             WHERE webhook_id = $1 AND status IN ('pending', 'retrying', 'scheduled') LIMIT 1",
        )
        .bind(webhook_id)
        .fetch_optional(&mut *tx)
        .await?;
        if released == 1 && waiting.is_some() {
            notify(&mut tx, WORK_CHANNEL, &[webhook_id.to_string()]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn hold_lane(&self, webhook_id: &str, token: i64, until_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE lane_leases SET quiet_until = GREATEST(COALESCE(quiet_until, 0), $4)
             WHERE webhook_id = $1 AND node_id = $2 AND token = $3",
        )
        .bind(webhook_id)
        .bind(self.node_id())
        .bind(token)
        .bind(until_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn orphaned_lanes(&self, now_ms: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT webhook_id FROM lane_leases WHERE node_id IS NOT NULL AND leased_until < $1",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?)
    }
}
