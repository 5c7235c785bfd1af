//! What can go wrong in the store, by kind: the engines' own error codes
//! (SQLite result codes, PostgreSQL SQLSTATEs, I/O errors) are mapped here
//! once, so a caller can tell "try again later" from "this is a bug" from
//! "the data is damaged" without reading messages.

use std::io;

/// A failure of the store itself (never a client mistake). Every kind
/// carries the engine's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A row with the same key exists (a duplicate id, say).
    #[error("duplicate key: {0}")]
    UniqueViolation(String),
    /// The database cannot be reached: the connection was refused or lost,
    /// the server is shutting down, or its files cannot be read or written.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database is too busy to answer now (locked, out of connections,
    /// a deadlock or serialization failure was broken): the same call may
    /// succeed when tried again.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// The disk (or the database's size limit) is full.
    #[error("the database storage is full: {0}")]
    StorageFull(String),
    /// The database accepts reads only (a read-only file or mount, a hot
    /// standby, `default_transaction_read_only`).
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
    /// Stored data cannot be read back as written.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Another writer changed the row since it was read: read it again and
    /// redo the change.
    #[error("conflicting change: {0}")]
    Conflict(String),
    /// The database was set up with another master key.
    #[error("{0}")]
    KeyMismatch(String),
    /// The store is shut down.
    #[error("the store is shut down")]
    Closed,
    /// Anything else.
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    /// True when the failure is the database's state, not the request:
    /// full, unreachable, busy, read-only or shut down. Such a request may
    /// succeed later unchanged (an API answers 503 with `Retry-After`).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::StorageFull(_)
                | StoreError::Unavailable(_)
                | StoreError::Busy(_)
                | StoreError::ReadOnly(_)
                | StoreError::Closed
        )
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as Code;
        let message = e.to_string();
        match &e {
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                Code::ConstraintViolation
                    if matches!(
                        failure.extended_code,
                        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    ) =>
                {
                    StoreError::UniqueViolation(message)
                }
                Code::DatabaseBusy | Code::DatabaseLocked => StoreError::Busy(message),
                Code::DiskFull => StoreError::StorageFull(message),
                Code::ReadOnly => StoreError::ReadOnly(message),
                Code::DatabaseCorrupt | Code::NotADatabase => StoreError::Corrupt(message),
                Code::CannotOpen
                | Code::SystemIoFailure
                | Code::PermissionDenied
                | Code::FileLockingProtocolFailed => StoreError::Unavailable(message),
                _ => StoreError::Database(message),
            },
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::Utf8Error(_)
            | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(message),
            _ => StoreError::Database(message),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let message = e.to_string();
        match &e {
            sqlx::Error::Database(db) => from_sqlstate(db.code().as_deref(), message),
            sqlx::Error::Io(io) => from_io(io, message),
            sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed => StoreError::Unavailable(message),
            sqlx::Error::PoolClosed => StoreError::Closed,
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(message)
            }
            _ => StoreError::Database(message),
        }
    }
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        let message = e.to_string();
        from_io(&e, message)
    }
}

/// A PostgreSQL error by its SQLSTATE (appendix A of the PostgreSQL docs).
fn from_sqlstate(code: Option<&str>, message: String) -> StoreError {
    let Some(code) = code else {
        return StoreError::Database(message);
    };
    match code {
        "23505" => StoreError::UniqueViolation(message),
        // disk_full; 53000 insufficient_resources, 53200 out_of_memory
        // pass once the server has room again.
        "53100" => StoreError::StorageFull(message),
        "53000" | "53200" | "53300" | "55P03" | "40001" | "40P01" | "57014" => {
            StoreError::Busy(message)
        }
        // read_only_sql_transaction: a standby, or a read-only default.
        "25006" => StoreError::ReadOnly(message),
        // admin_shutdown, crash_shutdown, cannot_connect_now,
        // database_dropped, and every connection exception (class 08).
        "57P01" | "57P02" | "57P03" | "57P04" => StoreError::Unavailable(message),
        c if c.starts_with("08") => StoreError::Unavailable(message),
        // io_error, undefined_file, duplicate_file (class 58 system errors).
        c if c.starts_with("58") => StoreError::Unavailable(message),
        "XX001" | "XX002" => StoreError::Corrupt(message),
        _ => StoreError::Database(message),
    }
}

fn from_io(e: &io::Error, message: String) -> StoreError {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            StoreError::StorageFull(message)
        }
        io::ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly(message),
        _ => StoreError::Unavailable(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: std::ffi::c_int) -> StoreError {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None).into()
    }

    fn kind(e: &StoreError) -> &'static str {
        match e {
            StoreError::UniqueViolation(_) => "unique",
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Busy(_) => "busy",
            StoreError::StorageFull(_) => "full",
            StoreError::ReadOnly(_) => "read-only",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::Conflict(_) => "conflict",
            StoreError::KeyMismatch(_) => "key",
            StoreError::Closed => "closed",
            StoreError::Database(_) => "database",
        }
    }

    #[test]
    fn sqlite_result_codes_keep_their_kind() {
        use rusqlite::ffi;
        for (code, expected) in [
            (ffi::SQLITE_CONSTRAINT_UNIQUE, "unique"),
            (ffi::SQLITE_CONSTRAINT_PRIMARYKEY, "unique"),
            (ffi::SQLITE_CONSTRAINT_NOTNULL, "database"),
            (ffi::SQLITE_BUSY, "busy"),
            (ffi::SQLITE_LOCKED, "busy"),
            (ffi::SQLITE_FULL, "full"),
            (ffi::SQLITE_READONLY, "read-only"),
            (ffi::SQLITE_CORRUPT, "corrupt"),
            (ffi::SQLITE_NOTADB, "corrupt"),
            (ffi::SQLITE_CANTOPEN, "unavailable"),
            (ffi::SQLITE_IOERR_WRITE, "unavailable"),
            (ffi::SQLITE_ERROR, "database"),
        ] {
            let e = sqlite(code);
            assert_eq!(kind(&e), expected, "SQLite code {code}: {e}");
            assert!(!e.to_string().is_empty());
        }
        let e: StoreError = rusqlite::Error::QueryReturnedNoRows.into();
        assert_eq!(kind(&e), "database");
    }

    /// A PostgreSQL error as the server reports it, for the mapping.
    #[derive(Debug)]
    struct PgError(&'static str);

    impl std::fmt::Display for PgError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "server error {}", self.0)
        }
    }

    impl std::error::Error for PgError {}

    impl sqlx::error::DatabaseError for PgError {
        fn message(&self) -> &str {
            "server error"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn postgres_sqlstates_keep_their_kind() {
        for (code, expected) in [
            ("23505", "unique"),
            ("23502", "database"),
            ("53100", "full"),
            ("53300", "busy"),
            ("40P01", "busy"),
            ("40001", "busy"),
            ("25006", "read-only"),
            ("57P01", "unavailable"),
            ("08006", "unavailable"),
            ("58030", "unavailable"),
            ("XX001", "corrupt"),
            ("22021", "database"),
        ] {
            let e: StoreError = sqlx::Error::Database(Box::new(PgError(code))).into();
            assert_eq!(kind(&e), expected, "SQLSTATE {code}: {e}");
            assert!(e.to_string().contains(code), "{e}");
        }
    }

    #[test]
    fn connection_and_disk_errors_keep_their_kind() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let e: StoreError = sqlx::Error::Io(refused).into();
        assert_eq!(kind(&e), "unavailable");
        let e: StoreError = io::Error::from_raw_os_error(28).into(); // ENOSPC
        assert_eq!(kind(&e), "full", "{e}");
        assert_eq!(kind(&sqlx::Error::PoolTimedOut.into()), "unavailable");
        assert_eq!(kind(&sqlx::Error::PoolClosed.into()), "closed");
        assert_eq!(kind(&sqlx::Error::RowNotFound.into()), "database");
    }

    #[test]
    fn unavailable_means_the_database_not_the_request() {
        let unavailable = [
            StoreError::StorageFull("x".into()),
            StoreError::Unavailable("x".into()),
            StoreError::Busy("x".into()),
            StoreError::ReadOnly("x".into()),
            StoreError::Closed,
        ];
        assert!(unavailable.iter().all(StoreError::is_unavailable));
        let not = [
            StoreError::UniqueViolation("x".into()),
            StoreError::Corrupt("x".into()),
            StoreError::Conflict("x".into()),
            StoreError::KeyMismatch("x".into()),
            StoreError::Database("x".into()),
        ];
        assert!(!not.iter().any(StoreError::is_unavailable));
    }
}
