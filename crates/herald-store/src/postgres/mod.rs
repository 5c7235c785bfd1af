//! The shared backend: PostgreSQL, for several Herald nodes on one
//! database.
//!
//! Ingest requests of the same moment share one transaction
//! ([`group_commit`]); every other write is one transaction on a pooled
//! connection. What nodes must agree on lives in the database: the
//! queue (claims take rows with `FOR UPDATE SKIP LOCKED` and lease them),
//! lane leases (one node works a webhook at a time, see [`lanes`]), the
//! circuit breaker's count, idempotency, the audit log. Nodes hear of each
//! other's work through LISTEN/NOTIFY ([`listener`]).

mod audit;
mod console;
mod deliveries;
mod event_types;
mod events;
mod group_commit;
mod lanes;
mod listener;
mod planner_stats;
mod rollups;
mod schedules;
mod schema;
mod tenants;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::broadcast;

use crate::cluster::Change;
use crate::sealing::Sealer;
use crate::{Result, Storage, StoreError};

/// Where the PostgreSQL database is and how many connections to keep.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// `postgres://user:password@host:5432/database?sslmode=require`.
    pub url: SecretString,
    /// Most connections this node opens (the listener takes one more).
    pub max_connections: u32,
}

impl PostgresOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretString::from(url.into()),
            max_connections: 16,
        }
    }
}

/// Handle to the PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub(crate) struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    sealer: Arc<Sealer>,
    /// Names this process in lane leases.
    node_id: String,
    changes: broadcast::Sender<Change>,
    /// Ingest requests, committed together (see [`group_commit`]).
    ingest: group_commit::IngestQueue,
    /// Dropped with the store, which stops the listener.
    _stop_listener: tokio::sync::oneshot::Sender<()>,
}

/// How many notifications a slow node may fall behind by before it is told
/// to look at everything again.
const CHANGE_BACKLOG: usize = 8192;

impl PgStore {
    /// Connects, brings the schema up to date (one node at a time) and
    /// starts listening for other nodes' notifications.
    pub(crate) async fn open(options: &PostgresOptions, sealer: Arc<Sealer>) -> Result<PgStore> {
        let connect: PgConnectOptions = options
            .url
            .expose_secret()
            .parse()
            .map_err(|e| StoreError::Database(format!("invalid database URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect.application_name("herald"))
            .await?;
        schema::migrate(&pool).await?;
        webhooks::check_key(&pool, &sealer).await?;
        let (changes, _) = broadcast::channel(CHANGE_BACKLOG);
        let (stop_listener, stopped) = tokio::sync::oneshot::channel();
        listener::start(pool.clone(), changes.clone(), stopped).await?;
        let stats = Arc::new(planner_stats::PlannerStats::new(pool.clone()));
        let ingest = group_commit::IngestQueue::start(pool.clone(), stats);
        Ok(PgStore {
            inner: Arc::new(Inner {
                ingest,
                pool,
                sealer,
                node_id: herald_core::ids::new_id("node"),
                changes,
                _stop_listener: stop_listener,
            }),
        })
    }

    fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.inner.pool.begin().await?)
    }

    pub(crate) fn changes(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }
}

impl Storage for PgStore {
    async fn schema_version(&self) -> Result<u32> {
        schema::version(self.pool()).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    async fn check_writes(&self) -> Result<()> {
        sqlx::query(crate::contract::WRITE_CHECK)
            .bind(crate::now_ms().to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn set_flag(&self, name: &str, raised: bool) -> Result<bool> {
        use crate::contract::{FLAG_CHANGE, FLAG_RAISE, flag_value};
        let mut tx = self.begin().await?;
        let mut changed = sqlx::query(FLAG_CHANGE)
            .bind(name)
            .bind(flag_value(raised))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 && raised {
            changed = sqlx::query(FLAG_RAISE)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(changed == 1)
    }
}

/// Tells every node (this one included) that `ids` changed, on `channel`,
/// when `tx` commits. PostgreSQL folds repeats within one transaction.
async fn notify(tx: &mut Transaction<'_, Postgres>, channel: &str, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id")
        .bind(channel)
        .bind(ids)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `u32` columns are stored as `integer`.
fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}
