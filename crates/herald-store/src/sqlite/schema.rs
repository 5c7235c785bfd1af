//! Brings a SQLite database to the current schema (the steps are in
//! [`crate::migrations`]); the version is `PRAGMA user_version`.

use rusqlite::Connection;

use crate::Result;
use crate::migrations::MIGRATIONS;

pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for step in MIGRATIONS.iter().filter(|m| m.version > current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(step.sqlite)?;
        tx.pragma_update(None, "user_version", step.version)?;
        tx.commit()?;
        tracing::info!(
            version = step.version,
            summary = step.summary,
            "database migrated"
        );
    }
    Ok(())
}
