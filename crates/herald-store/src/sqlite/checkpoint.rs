//! Checkpoints: copying the WAL back into the database file, on a thread
//! of their own so the writer never stalls on one.
//!
//! Two rules keep a nearly full disk from stopping Herald:
//!
//! - A checkpoint grows the database file to the size of the newest
//!   commit. Started without that much room, it only takes what room there
//!   is, fails, and leaves every write failing with it (the WAL can be
//!   reset only after a checkpoint completes): this is why, after a full
//!   disk, freeing a few megabytes and restarting still left small events
//!   refused. So a checkpoint waits until the room it needs is free:
//!   exactly the growth, the database's page count times its page size
//!   less the file's length, not the WAL's whole size (most of a WAL is
//!   pages rewritten in place; waiting for the WAL's size kept a restarted
//!   server from ever checkpointing, until the WAL had taken the room
//!   made and every write failed for good). When room is tight, the
//!   checkpoint also truncates the WAL, giving its room back at once.
//! - Room is kept for delivering what was accepted: while free room is
//!   less than the checkpoint needs plus [`DELIVERY_RESERVE_BYTES`], new
//!   events are refused (see [`Room`]) and deliveries go on, so a disk
//!   filling with ingest never leaves accepted events without the room to
//!   record their attempts.
//! - Under steady load passive checkpoints never catch up, and the WAL
//!   grows without bound (seen: 20 MiB of WAL beside 9 MiB of data). Past
//!   [`WAL_RESTART_BYTES`] a checkpoint waits for readers and briefly holds
//!   the writer back so the WAL starts over, and the file is cut back to
//!   [`WAL_RESTART_BYTES`] (`journal_size_limit`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use crate::Result;

/// How often the WAL is copied back into the database file.
const EVERY: Duration = Duration::from_millis(250);

/// A WAL larger than this is checkpointed to the end and started over, and
/// its file is cut back to this size after it starts over.
pub(super) const WAL_RESTART_BYTES: u64 = 64 << 20;

/// Room kept free beyond what a checkpoint needs, for the file system's
/// own blocks. Small on purpose: a checkpoint on a tight disk truncates,
/// which holds writers back while it runs, so nothing else takes room
/// meanwhile; a larger margin only left a restarted server waiting for
/// room it did not need while its writes used up what there was.
const MARGIN_BYTES: u64 = 256 << 10;

/// Room kept for recording deliveries once new events are refused.
const DELIVERY_RESERVE_BYTES: u64 = 2 << 20;

/// Whether the disk has room for new work, as the checkpointer last saw
/// it (every [`EVERY`]); shared with the store, which refuses new events
/// while it is short.
#[derive(Default)]
pub(super) struct Room {
    short: AtomicBool,
}

impl Room {
    pub(super) fn is_short(&self) -> bool {
        self.short.load(Ordering::Relaxed)
    }

    /// Records what the checkpointer measured; says so in the log when it
    /// changes.
    fn set_short(&self, short: bool, free: u64, needed: u64) {
        if self.short.swap(short, Ordering::Relaxed) == short {
            return;
        }
        if short {
            tracing::warn!(
                free_bytes = free,
                needed_bytes = needed,
                "disk room is short: new events are refused; accepted ones are still delivered"
            );
        } else {
            tracing::info!(
                free_bytes = free,
                "disk room is back: new events are accepted"
            );
        }
    }
}

/// Runs until `stop` is dropped, then checkpoints one last time so a clean
/// stop leaves a small WAL.
pub(super) fn run(
    conn: Connection,
    database: PathBuf,
    room_left: Arc<Room>,
    stop: flume::Receiver<()>,
) {
    let wal = PathBuf::from(format!("{}-wal", database.display()));
    let mut waiting_for_room = false;
    while let Err(flume::RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
        let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
        // Free room and what a checkpoint would take of it (None: the
        // system cannot say, and checkpoints go ahead). The database grows
        // by less than the WAL holds, so with room for the whole WAL the
        // growth need not be read (it takes a read transaction).
        let room = room(&database).map(|free| {
            let growth = if free >= wal_bytes + MARGIN_BYTES + DELIVERY_RESERVE_BYTES {
                0
            } else {
                growth(&conn, &database)
            };
            (free, growth)
        });
        if let Some((free, growth)) = room {
            let needed = growth + MARGIN_BYTES + DELIVERY_RESERVE_BYTES;
            room_left.set_short(free < needed, free, needed);
        }
        if wal_bytes == 0 {
            continue;
        }
        if let Some((free, growth)) = room
            && free < growth + MARGIN_BYTES
        {
            if !waiting_for_room {
                tracing::warn!(
                    free_bytes = free,
                    growth_bytes = growth,
                    wal_bytes,
                    "too little disk room to checkpoint the WAL; writes go on into it \
                     until there is more"
                );
                waiting_for_room = true;
            }
            continue;
        }
        waiting_for_room = false;
        let free = room.map(|(free, _)| free);
        let tight = free.is_some_and(|free| free < wal_bytes + MARGIN_BYTES);
        let mode = if tight {
            "TRUNCATE"
        } else if wal_bytes > WAL_RESTART_BYTES {
            "RESTART"
        } else {
            "PASSIVE"
        };
        if let Err(e) = checkpoint(&conn, mode) {
            tracing::warn!(error = %e, mode, "WAL checkpoint failed; will retry");
        }
    }
    let _ = checkpoint(&conn, "TRUNCATE");
}

fn checkpoint(conn: &Connection, mode: &str) -> Result<()> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))?;
    Ok(())
}

/// Bytes the database file grows by when the WAL is copied into it: the
/// newest commit's size less the file's. When SQLite cannot say, the
/// whole WAL is assumed to be new pages.
fn growth(conn: &Connection, database: &Path) -> u64 {
    let size = conn.query_row(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        [],
        |row| row.get::<_, i64>(0),
    );
    let file = std::fs::metadata(database).map_or(0, |m| m.len());
    match size {
        Ok(size) => u64::try_from(size).unwrap_or(0).saturating_sub(file),
        Err(_) => {
            let wal = PathBuf::from(format!("{}-wal", database.display()));
            std::fs::metadata(wal).map_or(0, |m| m.len())
        }
    }
}

/// Bytes free for this process on the database's file system (`None` when
/// the system cannot say: then checkpoints go ahead).
fn room(database: &Path) -> Option<u64> {
    let dir = database.parent().filter(|d| !d.as_os_str().is_empty())?;
    let stats = rustix::fs::statvfs(dir).ok()?;
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_measured_where_the_database_is() {
        let dir = tempfile::tempdir().unwrap();
        let free = room(&dir.path().join("herald.db")).expect("statvfs answers");
        assert!(free > 0);
        assert_eq!(room(Path::new("herald.db")), None);
    }

    #[test]
    fn growth_is_the_new_pages_only_not_the_whole_wal() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("herald.db");
        let conn = Connection::open(&database).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (v BLOB);",
        )
        .unwrap();
        checkpoint(&conn, "TRUNCATE").unwrap();
        assert_eq!(
            growth(&conn, &database),
            0,
            "nothing new after a checkpoint"
        );

        conn.execute("INSERT INTO t VALUES (zeroblob(1 << 20))", [])
            .unwrap();
        let grown = growth(&conn, &database);
        assert!((1 << 20..2 << 20).contains(&grown), "a new MiB: {grown}");

        checkpoint(&conn, "PASSIVE").unwrap();
        // Rewriting the same pages many times grows the WAL, not the file.
        for _ in 0..20 {
            conn.execute("UPDATE t SET v = randomblob(1 << 20)", [])
                .unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("herald.db-wal"))
            .unwrap()
            .len();
        assert!(wal > 4 << 20, "the WAL holds every rewrite: {wal}");
        assert_eq!(growth(&conn, &database), 0, "rewrites need no room");
    }
}
