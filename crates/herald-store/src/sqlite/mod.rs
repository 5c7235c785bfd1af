//! The embedded backend: SQLite in WAL mode behind one writer thread that
//! group-commits (many requests' writes share one transaction, which is how
//! ingest reaches tens of thousands of rows per second with durability),
//! and a pool of read-only connections on their own threads.

mod audit;
mod checkpoint;
mod console;
mod deliveries;
mod event_types;
mod events;
mod lanes;
mod rollups;
mod schedules;
mod schema;
mod tenants;
mod webhooks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::sealing::Sealer;
use crate::{Result, Storage, StoreError};

/// How hard SQLite works to make each commit survive a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync the WAL on every commit: a commit survives power loss.
    #[default]
    Full,
    /// fsync only at checkpoints: a commit survives a crash of Herald
    /// (`kill -9`) but the last commits may be lost if the machine loses power.
    Normal,
}

/// Where the SQLite database is and how it is opened.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    pub readers: usize,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::Full,
            readers: 4,
        }
    }
}

/// A write waiting for the writer thread.
///
/// It may run twice: writes share one transaction with no savepoints
/// (sub-journalling every page they touch is costly), so when one fails the
/// whole transaction is rolled back and each write is run again alone, and
/// only the failing one sees its error.
trait WriteJob: Send {
    /// Runs the write; false when it failed.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the outcome of its transaction is known.
    fn reply(self: Box<Self>, commit_error: Option<&StoreError>);
}

struct Job<F, T> {
    f: F,
    result: Option<Result<T>>,
    tx: oneshot::Sender<Result<T>>,
}

impl<F, T> WriteJob for Job<F, T>
where
    F: FnMut(&Connection) -> Result<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let result = (self.f)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn reply(self: Box<Self>, commit_error: Option<&StoreError>) {
        let Job { f, result, tx } = *self;
        // What the write holds is let go before its caller hears, so the
        // caller may take back what it lent (see ingest).
        drop(f);
        let answer = match (commit_error, result) {
            (Some(e), _) => Err(e.clone()),
            (None, Some(result)) => result,
            (None, None) => Err(StoreError::Closed),
        };
        let _ = tx.send(answer);
    }
}

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// Most writes one transaction gathers; bounds commit latency under load.
const MAX_GROUP: usize = 512;

/// Handle to the SQLite database; cheap to clone.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: flume::Sender<Box<dyn WriteJob>>,
    readers: flume::Sender<ReadJob>,
    sealer: Arc<Sealer>,
    /// The lanes this process works now (see [`lanes`]).
    lanes: lanes::Held,
    /// When a write last failed for lack of room (or a read-only file),
    /// in ms since the epoch; 0: never. A write check that fits in what
    /// room is left must not call a disk ready that refuses real writes.
    unwritable_at_ms: AtomicI64,
    /// Whether the disk is too short of room for new events.
    room: Arc<checkpoint::Room>,
    /// Dropped with the store, which stops the checkpointer.
    _checkpointer: flume::Sender<()>,
}

/// How long after a write failed for lack of room the store still counts
/// as unable to take writes.
const UNWRITABLE_FOR_MS: i64 = 5_000;

impl SqliteStore {
    /// Opens (creating if needed) the database, runs migrations and starts
    /// the writer and reader threads.
    pub(crate) fn open(options: &SqliteOptions, sealer: Arc<Sealer>) -> Result<SqliteStore> {
        let conn = open_connection(&options.path, false, options.synchronous)?;
        rollups::register_functions(&conn)?;
        schema::migrate(&conn)?;
        webhooks::check_key(&conn, &sealer)?;
        webhooks::seal_plain_rows(&conn, &sealer)?;

        let (writer, write_rx) = flume::bounded::<Box<dyn WriteJob>>(16 * 1024);
        std::thread::Builder::new()
            .name("herald-db-writer".into())
            .spawn(move || run_writer(conn, write_rx))
            .map_err(|e| StoreError::Database(format!("cannot start writer thread: {e}")))?;

        let (readers, read_rx) = flume::unbounded::<ReadJob>();
        for i in 0..options.readers.max(1) {
            let conn = open_connection(&options.path, true, options.synchronous)?;
            let rx = read_rx.clone();
            std::thread::Builder::new()
                .name(format!("herald-db-reader-{i}"))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        // A panicking read only loses its own answer.
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&conn)));
                    }
                })
                .map_err(|e| StoreError::Database(format!("cannot start reader thread: {e}")))?;
        }
        let (checkpointer, stop) = flume::bounded::<()>(1);
        let conn = open_connection(&options.path, false, options.synchronous)?;
        let room = Arc::new(checkpoint::Room::default());
        std::thread::Builder::new()
            .name("herald-db-checkpoint".into())
            .spawn({
                let path = options.path.clone();
                let room = room.clone();
                move || checkpoint::run(conn, path, room, stop)
            })
            .map_err(|e| StoreError::Database(format!("cannot start checkpointer: {e}")))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer,
                readers,
                sealer,
                lanes: lanes::Held::default(),
                unwritable_at_ms: AtomicI64::new(0),
                room,
                _checkpointer: checkpointer,
            }),
        })
    }

    /// Runs `f` inside the writer's current transaction and returns its
    /// result once that transaction has committed: an `Ok` here is durable.
    /// `f` may run more than once (see [`WriteJob`]); only the last run's
    /// effects are kept.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Box::new(Job {
            f,
            result: None,
            tx,
        });
        self.inner
            .writer
            .send_async(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        let answer = rx.await.map_err(|_| StoreError::Closed)?;
        self.note(&answer);
        answer
    }

    /// Remembers a write that failed for lack of room.
    fn note<T>(&self, answer: &Result<T>) {
        if let Err(StoreError::StorageFull(_) | StoreError::ReadOnly(_)) = answer {
            self.inner
                .unwritable_at_ms
                .store(crate::now_ms(), Ordering::SeqCst);
        }
    }

    /// Runs each of `writes` as its own write (see [`SqliteStore::write`]):
    /// queued together, so they usually share a transaction, yet one that
    /// fails does so alone. Answers in order.
    pub(crate) async fn write_each<T, F>(&self, writes: Vec<F>) -> Vec<Result<T>>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T> + Send + 'static,
    {
        let mut replies = Vec::with_capacity(writes.len());
        for f in writes {
            let (tx, rx) = oneshot::channel();
            let job = Box::new(Job {
                f,
                result: None,
                tx,
            });
            let sent = self.inner.writer.send_async(job).await;
            replies.push(sent.map(|()| rx));
        }
        let mut answers = Vec::with_capacity(replies.len());
        for reply in replies {
            let answer = match reply {
                Ok(rx) => rx.await.unwrap_or(Err(StoreError::Closed)),
                Err(_) => Err(StoreError::Closed),
            };
            self.note(&answer);
            answers.push(answer);
        }
        answers
    }

    /// Refuses new work (events, replays) while the disk is short of room,
    /// keeping what room there is for delivering what was accepted.
    fn room_for_new_work(&self) -> Result<()> {
        if !self.inner.room.is_short() {
            return Ok(());
        }
        let refused = Err(StoreError::StorageFull(
            "too little disk room for new events; accepted ones are still delivered".into(),
        ));
        self.note(&refused);
        refused
    }

    fn held_lanes(&self) -> Vec<String> {
        self.inner.lanes.webhooks()
    }

    fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// The sealer, for work that runs on another thread.
    fn sealer_handle(&self) -> Arc<Sealer> {
        self.inner.sealer.clone()
    }

    /// Runs `f` on a read-only connection.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.inner
            .readers
            .send_async(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

impl Storage for SqliteStore {
    async fn schema_version(&self) -> Result<u32> {
        self.read(|conn| Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .await
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    async fn check_writes(&self) -> Result<()> {
        let since = crate::now_ms() - self.inner.unwritable_at_ms.load(Ordering::SeqCst);
        if since < UNWRITABLE_FOR_MS {
            return Err(StoreError::StorageFull(format!(
                "a write failed for lack of room {since} ms ago"
            )));
        }
        self.write(|conn| {
            conn.prepare_cached(crate::contract::WRITE_CHECK)?
                .execute([crate::now_ms().to_string()])?;
            Ok(())
        })
        .await
    }

    async fn set_flag(&self, name: &str, raised: bool) -> Result<bool> {
        use crate::contract::{FLAG_CHANGE, FLAG_RAISE, flag_value};
        let name = name.to_string();
        self.write(move |conn| {
            // `?N` binds by number; SQLite numbers `$N` by first use.
            let mut changed = conn
                .prepare_cached(&FLAG_CHANGE.replace('$', "?"))?
                .execute(rusqlite::params![name, flag_value(raised)])?;
            if changed == 0 && raised {
                changed = conn
                    .prepare_cached(&FLAG_RAISE.replace('$', "?"))?
                    .execute([&name])?;
            }
            Ok(changed == 1)
        })
        .await
    }
}

fn open_connection(path: &Path, read_only: bool, sync: Synchronous) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    let synchronous = match sync {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA busy_timeout = 10000;
         PRAGMA synchronous = {synchronous};
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16384;"
    ))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Checkpoints run on their own thread (see `checkpoint`), not
        // inside whichever commit happens to cross the threshold.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(
            None,
            "journal_size_limit",
            checkpoint::WAL_RESTART_BYTES as i64,
        )?;
    }
    // Plans must not depend on bound values: otherwise SQLite re-prepares
    // the queue statements on every execution (a large share of the
    // writer's time), because their parameters touch a partial index.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The writer loop: take every queued write (up to `MAX_GROUP`), run them
/// in one transaction, commit once, then answer every caller.
fn run_writer(conn: Connection, jobs: flume::Receiver<Box<dyn WriteJob>>) {
    let mut batch: Vec<Box<dyn WriteJob>> = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = run_together(&conn, &mut batch);
        match outcome {
            Ok(()) => batch.drain(..).for_each(|job| job.reply(None)),
            Err(Failure::Commit(e)) => batch.drain(..).for_each(|job| job.reply(Some(&e))),
            // One write failed: give each its own transaction.
            Err(Failure::Write) => {
                for mut job in batch.drain(..) {
                    let error = run_alone(&conn, job.as_mut()).err();
                    job.reply(error.as_ref());
                }
            }
        }
    }
}

enum Failure {
    /// A write returned an error; nothing was kept.
    Write,
    /// The transaction itself failed; nothing was kept.
    Commit(StoreError),
}

fn run_together(conn: &Connection, batch: &mut [Box<dyn WriteJob>]) -> Result<(), Failure> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| Failure::Commit(e.into()))?;
    for job in batch.iter_mut() {
        let ok = catch_unwind(AssertUnwindSafe(|| job.run(conn))).unwrap_or(false);
        if !ok {
            rollback(conn);
            return Err(Failure::Write);
        }
    }
    if let Err(e) = rollups::flush(conn) {
        tracing::error!(error = %e, "writing the rollups failed");
        rollback(conn);
        return Err(Failure::Write);
    }
    conn.execute_batch("COMMIT").map_err(|e| {
        rollback(conn);
        let err = StoreError::from(e);
        tracing::error!(error = %err, "commit failed");
        Failure::Commit(err)
    })
}

/// Runs one write in its own transaction. A write that fails (or panics)
/// is rolled back; its own error reaches its caller through `reply`.
fn run_alone(conn: &Connection, job: &mut dyn WriteJob) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let ok = catch_unwind(AssertUnwindSafe(|| job.run(conn))).unwrap_or(false);
    if !ok {
        rollups::discard();
        conn.execute_batch("ROLLBACK")?;
        return Ok(());
    }
    if let Err(e) = rollups::flush(conn) {
        rollback(conn);
        return Err(e);
    }
    conn.execute_batch("COMMIT")
        .inspect_err(|_| rollback(conn))?;
    Ok(())
}

/// Ends a failed transaction, and forgets the rollups it staged.
fn rollback(conn: &Connection) {
    rollups::discard();
    let _ = conn.execute_batch("ROLLBACK");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes that share a transaction with a failing one are still
    /// committed; only the failing one reports an error.
    #[tokio::test]
    async fn one_failing_write_does_not_sink_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Arc::new(Sealer::new(&crate::MasterKey::generate()));
        let store =
            SqliteStore::open(&SqliteOptions::new(dir.path().join("t.db")), sealer).unwrap();
        store
            .write(|conn| Ok(conn.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();
        // Hold the writer busy so the next writes queue up and share one
        // transaction.
        let blocker = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(|_| {
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        Ok(())
                    })
                    .await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let writes: Vec<_> = (0..50)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .write(move |conn| {
                            conn.execute("INSERT INTO t (x) VALUES (?1)", [i])?;
                            if i == 25 {
                                return Err(StoreError::Database("refused".into()));
                            }
                            Ok(i)
                        })
                        .await
                })
            })
            .collect();
        blocker.await.unwrap().unwrap();
        for (i, write) in writes.into_iter().enumerate() {
            let result = write.await.unwrap();
            assert_eq!(result.is_err(), i == 25, "write {i}: {result:?}");
        }
        let count = |sql: &'static str| {
            let store = store.clone();
            async move {
                store
                    .read(move |conn| Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))?))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(count("SELECT COUNT(*) FROM t WHERE x != 25").await, 49);
        assert_eq!(count("SELECT COUNT(*) FROM t WHERE x = 25").await, 0);
    }
}
