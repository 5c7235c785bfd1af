//! Checkpoints: copying the WAL back into the database file, on a thread
//! of their own so the writer never stalls on one.
//!
//! Two rules keep a nearly full disk from stopping Herald:
//!
//! - A checkpoint may grow the database file by as much as the WAL holds.
//!   Started without that much room, it only takes what room there is,
//!   fails, and leaves every write failing with it (the WAL can be reset
//!   only after a checkpoint completes): this is why, after a full disk,
//!   freeing a few megabytes and restarting still left small events
//!   refused. So a checkpoint waits until the room it may need is free;
//!   meanwhile writes go on into the WAL, into whatever room was made.
//! - Under steady load passive checkpoints never catch up, and the WAL
//!   grows without bound (seen: 20 MiB of WAL beside 9 MiB of data). Past
//!   [`WAL_RESTART_BYTES`] a checkpoint waits for readers and briefly holds
//!   the writer back so the WAL starts over, and the file is cut back to
//!   [`WAL_RESTART_BYTES`] (`journal_size_limit`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::Result;

/// How often the WAL is copied back into the database file.
const EVERY: Duration = Duration::from_millis(250);

/// A WAL larger than this is checkpointed to the end and started over, and
/// its file is cut back to this size after it starts over.
pub(super) const WAL_RESTART_BYTES: u64 = 64 << 20;

/// Room kept free beyond what a checkpoint may need.
const MARGIN_BYTES: u64 = 1 << 20;

/// Runs until `stop` is dropped, then checkpoints one last time so a clean
/// stop leaves a small WAL.
pub(super) fn run(conn: Connection, database: PathBuf, stop: flume::Receiver<()>) {
    let wal = PathBuf::from(format!("{}-wal", database.display()));
    let mut waiting_for_room = false;
    while let Err(flume::RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
        let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
        if wal_bytes == 0 {
            continue;
        }
        match room(&database) {
            Some(free) if free < wal_bytes + MARGIN_BYTES => {
                if !waiting_for_room {
                    tracing::warn!(
                        free_bytes = free,
                        wal_bytes,
                        "too little disk room to checkpoint the WAL; writes go on into it \
                         until there is more"
                    );
                    waiting_for_room = true;
                }
                continue;
            }
            _ => waiting_for_room = false,
        }
        let mode = if wal_bytes > WAL_RESTART_BYTES {
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
}
