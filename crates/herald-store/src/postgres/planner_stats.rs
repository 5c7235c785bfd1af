//! Fresh planner statistics while the hot tables first grow.
//!
//! PostgreSQL keeps a connection's plan for a prepared statement once it
//! has run it a few times, and plans made while `deliveries` and `events`
//! held a few hundred rows scan them whole (a hash join over a sequential
//! scan is the cheapest way through a tiny table). Those plans stay until
//! the tables are analyzed, which autovacuum does only at its next round,
//! a minute or more later: meanwhile every attempt record and every claim
//! reads the whole queue, a cost that grows with it (measured at 500
//! events/s on a new database: 1,800 rows read per event, 2 ms of
//! PostgreSQL CPU per event). So this node analyzes the hot tables itself
//! each time the deliveries it inserted pass a power of ten from 1,000 on:
//! a handful of `ANALYZE`s in a database's life, each of which also makes
//! every connection plan its statements again.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;

/// The first count of inserted deliveries that triggers an `ANALYZE`;
/// then every tenfold.
const FIRST: u64 = 1_000;
/// Past this the tables are large and autovacuum keeps up by itself.
const LAST: u64 = 10_000_000;

/// Counts the deliveries this node inserted.
pub(super) struct PlannerStats {
    pool: PgPool,
    inserted: AtomicU64,
}

impl PlannerStats {
    pub(super) fn new(pool: PgPool) -> PlannerStats {
        PlannerStats {
            pool,
            inserted: AtomicU64::new(0),
        }
    }

    /// `rows` more deliveries were inserted (and committed).
    pub(super) fn grew(&self, rows: u64) {
        if rows == 0 {
            return;
        }
        let before = self.inserted.fetch_add(rows, Ordering::Relaxed);
        if let Some(mark) = crossed(before, before + rows) {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                // ANALYZE takes a lock that lets reads and writes go on.
                match sqlx::raw_sql("ANALYZE deliveries, events, attempts")
                    .execute(&pool)
                    .await
                {
                    Ok(_) => tracing::debug!(deliveries = mark, "hot tables analyzed"),
                    Err(e) => tracing::warn!(error = %e, "could not analyze the hot tables"),
                }
            });
        }
    }
}

/// The power of ten (from [`FIRST`] to [`LAST`]) that a count going from
/// `before` to `after` passed, if any.
fn crossed(before: u64, after: u64) -> Option<u64> {
    let mut mark = FIRST;
    while mark <= LAST {
        if before < mark && after >= mark {
            return Some(mark);
        }
        mark *= 10;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::crossed;

    #[test]
    fn each_power_of_ten_is_passed_once() {
        assert_eq!(crossed(0, 999), None);
        assert_eq!(crossed(999, 1_000), Some(1_000));
        assert_eq!(crossed(1_000, 9_999), None);
        assert_eq!(crossed(9_990, 10_100), Some(10_000));
        assert_eq!(crossed(99_999_999, 100_000_000), None);
    }
}
