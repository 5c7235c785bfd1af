//! Group commit of ingest on PostgreSQL: concurrent ingest requests share
//! one transaction, so they share its statements and its WAL flush.
//!
//! Each request queues a job and waits for its answer, which comes only
//! after the transaction holding it has committed: a 202 still means on
//! disk. A few committers take turns: one takes every job queued at that
//! moment (up to [`MAX_EVENTS`]), stores them in one transaction (the
//! events of consecutive jobs of one tenant in one insert, their
//! deliveries in one more), commits, and answers each job; meanwhile the
//! next committer gathers what arrived during that flush. Nothing waits on
//! a timer: at light load a job is alone in its transaction and goes at
//! once, under load the batches grow by themselves.
//!
//! A transaction that fails on its rows is tried again one job per
//! transaction, so a request whose rows the database refuses fails alone
//! and never sinks its neighbours; one that fails because the database is
//! unavailable (down, full, read-only) fails every job of it at once.

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::events::{NewDeliveries, insert_deliveries, insert_events, original_answer};
use super::planner_stats::PlannerStats;
use crate::{Ingest, Ingested, NewEvent, Result, StoreError};

/// Transactions that may be committing at once.
const COMMITTERS: usize = 2;
/// Events one transaction takes at most; a job is never split.
const MAX_EVENTS: usize = 4096;
/// Jobs that may wait to be taken before a request waits to queue.
const QUEUE_DEPTH: usize = 16_384;

/// One ingest request waiting for its transaction.
struct Job {
    tenant_id: String,
    registry_version: i64,
    events: Vec<NewEvent>,
    answer: oneshot::Sender<Result<Ingest>>,
}

/// Where ingest requests queue; dropping it stops the committers once they
/// have answered what they took.
pub(super) struct IngestQueue {
    jobs: mpsc::Sender<Job>,
}

impl IngestQueue {
    /// Starts the committers on `pool`; they tell `stats` how many
    /// deliveries they inserted.
    pub(super) fn start(pool: PgPool, stats: Arc<PlannerStats>) -> IngestQueue {
        let (jobs, queued) = mpsc::channel(QUEUE_DEPTH);
        let queued = Arc::new(Mutex::new(queued));
        for _ in 0..COMMITTERS {
            tokio::spawn(commit_forever(pool.clone(), queued.clone(), stats.clone()));
        }
        IngestQueue { jobs }
    }

    /// Stores `events` for `tenant_id` with the next transaction; answers
    /// once it has committed.
    pub(super) async fn ingest(
        &self,
        tenant_id: &str,
        registry_version: i64,
        events: Vec<NewEvent>,
    ) -> Result<Ingest> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            tenant_id: tenant_id.to_string(),
            registry_version,
            events,
            answer,
        };
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

/// One committer: takes a batch, stores it, answers it, again.
async fn commit_forever(
    pool: PgPool,
    queued: Arc<Mutex<mpsc::Receiver<Job>>>,
    stats: Arc<PlannerStats>,
) {
    loop {
        let batch = {
            let mut queued = queued.lock().await;
            let Some(first) = queued.recv().await else {
                return;
            };
            let mut events = first.events.len();
            let mut batch = vec![first];
            while events < MAX_EVENTS {
                match queued.try_recv() {
                    Ok(job) => {
                        events += job.events.len();
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            batch
        };
        commit(&pool, &stats, batch).await;
    }
}

/// Stores a batch in one transaction, or one job at a time if that fails.
async fn commit(pool: &PgPool, stats: &PlannerStats, batch: Vec<Job>) {
    let together = store(pool, stats, &batch).await;
    match together {
        Ok(answers) => {
            for (job, answer) in batch.into_iter().zip(answers) {
                let _ = job.answer.send(Ok(answer.into_ingest(job.events)));
            }
        }
        Err(e) if batch.len() == 1 || e.is_unavailable() => {
            // The database's state, not a request's rows: every job gets
            // it now (one by one, each would wait for the database again).
            for job in batch {
                let _ = job.answer.send(Err(e.clone()));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, jobs = batch.len(), "a group commit failed; storing its jobs one by one");
            for job in batch {
                let alone = store(pool, stats, std::slice::from_ref(&job)).await;
                let answer = alone.map(|mut a| a.remove(0).into_ingest(job.events));
                let _ = job.answer.send(answer);
            }
        }
    }
}

/// A job's outcome before its events are handed back (stale) or dropped.
enum Outcome {
    Stored(Vec<Ingested>),
    Stale { current: i64 },
}

impl Outcome {
    fn into_ingest(self, events: Vec<NewEvent>) -> Ingest {
        match self {
            Outcome::Stored(answers) => Ingest::Stored(answers),
            Outcome::Stale { current } => Ingest::Stale { current, events },
        }
    }
}

/// Stores `jobs` in one transaction: an answer per job, in order.
async fn store(pool: &PgPool, stats: &PlannerStats, jobs: &[Job]) -> Result<Vec<Outcome>> {
    let mut tx = pool.begin().await?;
    match store_in(&mut tx, jobs).await {
        Ok((outcomes, deliveries)) => {
            tx.commit().await?;
            stats.grew(deliveries as u64);
            Ok(outcomes)
        }
        Err(e) => {
            // At once, not when the connection is next used: the rows it
            // inserted hold locks the jobs' retries would wait on.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// The statements of [`store`], in its transaction: the answers, and how
/// many deliveries were inserted.
async fn store_in(
    tx: &mut Transaction<'static, Postgres>,
    jobs: &[Job],
) -> Result<(Vec<Outcome>, usize)> {
    let mut outcomes = Vec::with_capacity(jobs.len());
    // Deliveries go in once per tenant, after every event is in.
    let mut deliveries: Vec<(&str, NewDeliveries)> = Vec::new();
    let mut start = 0;
    while start < jobs.len() {
        // Consecutive jobs of one tenant, matched against one registry
        // version, share their events' insert.
        let (tenant, version) = (&jobs[start].tenant_id, jobs[start].registry_version);
        let end = start
            + jobs[start..]
                .iter()
                .take_while(|j| j.tenant_id == *tenant && j.registry_version == version)
                .count();
        let group = &jobs[start..end];
        let new = match deliveries.iter_mut().find(|(t, _)| *t == tenant.as_str()) {
            Some((_, new)) => new,
            None => {
                deliveries.push((tenant.as_str(), NewDeliveries::default()));
                &mut deliveries.last_mut().expect("just pushed").1
            }
        };
        store_group(tx, tenant, version, group, new, &mut outcomes).await?;
        start = end;
    }
    let mut inserted = 0;
    for (tenant, new) in deliveries {
        inserted += new.len();
        insert_deliveries(tx, tenant, new).await?;
    }
    Ok((outcomes, inserted))
}

/// Inserts one group's events together and works out each job's answer;
/// their deliveries are added to `new`.
async fn store_group(
    tx: &mut Transaction<'static, Postgres>,
    tenant_id: &str,
    registry_version: i64,
    group: &[Job],
    new: &mut NewDeliveries,
    outcomes: &mut Vec<Outcome>,
) -> Result<()> {
    let events: Vec<&NewEvent> = group.iter().flat_map(|j| &j.events).collect();
    let (inserted, current) =
        insert_events(tx, tenant_id, &events, false, Some(registry_version)).await?;
    if current != registry_version {
        // Nothing of the group was inserted: each job is matched again.
        outcomes.extend(group.iter().map(|_| Outcome::Stale { current }));
        return Ok(());
    }
    // The first occurrence of an id got the row; a later one (in this
    // job, a job before it, or an event stored before) is a replay.
    let mut taken: HashSet<&str> = HashSet::new();
    for job in group {
        let mut answers = Vec::with_capacity(job.events.len());
        for event in &job.events {
            let fresh = inserted
                .get(event.id.as_str())
                .filter(|_| taken.insert(event.id.as_str()));
            let Some(&seq) = fresh else {
                answers.push(original_answer(tx, tenant_id, event).await?);
                continue;
            };
            new.add(seq, event);
            answers.push(Ingested {
                id: event.id.clone(),
                deliveries: event.webhook_ids.len() as u32,
                replayed: false,
            });
        }
        outcomes.push(Outcome::Stored(answers));
    }
    Ok(())
}
