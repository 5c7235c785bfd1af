//! Console sessions and portal links on SQLite. Every write goes through
//! the one writer thread, so a redemption's `UPDATE … RETURNING` cannot
//! interleave with another.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::audit;
use crate::types::{
    CONSOLE_SESSION_COLUMNS, PORTAL_LINK_COLUMNS, features_from_json, features_to_json,
};
use crate::{AuditEntry, ConsoleSessionRow, ConsoleStore, PortalLinkRow, Result};

/// A session's columns as SQLite hands them over; the feature list is
/// parsed after, outside rusqlite's row callback.
type SessionColumns = (ConsoleSessionRow, Option<String>);
type LinkColumns = (PortalLinkRow, Option<String>);

fn read_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionColumns> {
    Ok((
        ConsoleSessionRow {
            token_hash: r.get(0)?,
            tenant_id: r.get(1)?,
            actor: r.get(2)?,
            read_only: r.get::<_, i64>(3)? != 0,
            features: None,
            csrf_token: r.get(5)?,
            portal: r.get::<_, i64>(6)? != 0,
            created_at_ms: r.get(7)?,
            expires_at_ms: r.get(8)?,
        },
        r.get(4)?,
    ))
}

fn read_link(r: &rusqlite::Row<'_>) -> rusqlite::Result<LinkColumns> {
    Ok((
        PortalLinkRow {
            token_hash: r.get(0)?,
            tenant_id: r.get(1)?,
            read_only: r.get::<_, i64>(2)? != 0,
            features: None,
            session_ttl_ms: r.get(4)?,
            created_at_ms: r.get(5)?,
            expires_at_ms: r.get(6)?,
        },
        r.get(3)?,
    ))
}

fn session((mut row, features): SessionColumns) -> Result<ConsoleSessionRow> {
    row.features = features_from_json(features)?;
    Ok(row)
}

fn link((mut row, features): LinkColumns) -> Result<PortalLinkRow> {
    row.features = features_from_json(features)?;
    Ok(row)
}

impl ConsoleStore for SqliteStore {
    async fn insert_console_session(&self, row: ConsoleSessionRow) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO console_sessions ({CONSOLE_SESSION_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))?
            .execute(params![
                row.token_hash,
                row.tenant_id,
                row.actor,
                row.read_only as i64,
                features_to_json(&row.features),
                row.csrf_token,
                row.portal as i64,
                row.created_at_ms,
                row.expires_at_ms,
            ])?;
            Ok(())
        })
        .await
    }

    async fn find_console_session(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<ConsoleSessionRow>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {CONSOLE_SESSION_COLUMNS} FROM console_sessions
                 WHERE token_hash = ?1 AND expires_at > ?2"
            ))?
            .query_row(params![token_hash, now_ms], read_session)
            .optional()?
            .map(session)
            .transpose()
        })
        .await
    }

    async fn delete_console_session(&self, token_hash: Vec<u8>) -> Result<bool> {
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM console_sessions WHERE token_hash = ?1")?
                .execute([&token_hash])?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn insert_portal_link(&self, row: PortalLinkRow, audit: AuditEntry) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO portal_links ({PORTAL_LINK_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                row.token_hash,
                row.tenant_id,
                row.read_only as i64,
                features_to_json(&row.features),
                row.session_ttl_ms,
                row.created_at_ms,
                row.expires_at_ms,
            ])?;
            audit::record(conn, &audit)
        })
        .await
    }

    async fn redeem_portal_link(
        &self,
        token_hash: Vec<u8>,
        now_ms: i64,
    ) -> Result<Option<PortalLinkRow>> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "UPDATE portal_links SET used_at = ?2
                 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                 RETURNING {PORTAL_LINK_COLUMNS}"
            ))?
            .query_row(params![token_hash, now_ms], read_link)
            .optional()?
            .map(link)
            .transpose()
        })
        .await
    }

    async fn prune_console(&self, now_ms: i64) -> Result<usize> {
        self.write(move |conn| {
            let sessions = conn
                .prepare_cached("DELETE FROM console_sessions WHERE expires_at <= ?1")?
                .execute([now_ms])?;
            let links = conn
                .prepare_cached("DELETE FROM portal_links WHERE expires_at <= ?1")?
                .execute([now_ms])?;
            Ok(sessions + links)
        })
        .await
    }
}
