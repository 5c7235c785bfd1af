//! Opening the database and running work on it: one group-committing writer
//! thread and a pool of reader threads.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::{Result, StoreError, schema};

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

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    pub readers: usize,
}

impl StoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::Full,
            readers: 4,
        }
    }
}

/// Sent back to a waiting caller once the transaction holding its write has
/// committed (or failed).
type Reply = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// A write: runs inside the shared transaction, says whether it succeeded
/// (a failed write is rolled back alone) and how to answer its caller.
type WriteJob = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// Most writes one transaction gathers; bounds commit latency under load.
const MAX_GROUP: usize = 512;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: flume::Sender<WriteJob>,
    readers: flume::Sender<ReadJob>,
}

impl Store {
    /// Opens (creating if needed) the database, runs migrations and starts
    /// the writer and reader threads.
    pub fn open(options: StoreOptions) -> Result<Store> {
        let conn = open_connection(&options.path, false, options.synchronous)?;
        schema::migrate(&conn)?;

        let (writer, write_rx) = flume::bounded::<WriteJob>(16 * 1024);
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
        Ok(Store {
            inner: Arc::new(Inner { writer, readers }),
        })
    }

    /// Runs `f` inside the writer's current transaction and returns its
    /// result once that transaction has committed: an `Ok` here is durable.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: WriteJob = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |commit_error| {
                let _ = tx.send(match commit_error {
                    Some(e) => Err(e.clone()),
                    None => result,
                });
            });
            (ok, reply)
        });
        self.inner
            .writer
            .send_async(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
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

    /// True when the database answers a query.
    pub async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
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

/// The writer loop: take every queued write (up to `MAX_GROUP`), run them in
/// one transaction, each inside its own savepoint so one failure does not
/// undo the others, commit once, then answer every caller.
fn run_writer(conn: Connection, jobs: flume::Receiver<WriteJob>) {
    let mut batch: Vec<WriteJob> = Vec::with_capacity(MAX_GROUP);
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let err = StoreError::from(e);
            for job in batch.drain(..) {
                drop(job); // the caller sees the store as closed for this write
            }
            tracing::error!(error = %err, "cannot begin a write transaction");
            continue;
        }
        for job in batch.drain(..) {
            let _ = conn.execute_batch("SAVEPOINT job");
            match catch_unwind(AssertUnwindSafe(|| job(&conn))) {
                Ok((true, reply)) => {
                    let _ = conn.execute_batch("RELEASE job");
                    replies.push(reply);
                }
                Ok((false, reply)) => {
                    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                    replies.push(reply);
                }
                Err(_) => {
                    tracing::error!("a database write panicked; it was rolled back");
                    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                }
            }
        }
        let commit_error = conn.execute_batch("COMMIT").err().map(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            let err = StoreError::from(e);
            tracing::error!(error = %err, "commit failed");
            err
        });
        for reply in replies.drain(..) {
            reply(commit_error.as_ref());
        }
    }
}
