//! The master key check, the same on every engine. Nodes started without
//! `HERALD_MASTER_KEY` each make a key of their own; on a shared database
//! they would then write webhooks the others cannot open. So the database
//! keeps a check of the key it was set up with (a MAC of a fixed label,
//! never the key; see [`Sealer::key_check`]) and a store opened with
//! another key refuses to open. The first store to open a database writes
//! the check if it is absent, and every store compares what is stored then,
//! so nodes starting together agree on one key.

use crate::sealing::Sealer;
use crate::{Result, StoreError};

/// The check's name in `herald_meta`.
pub(crate) const NAME: &str = "master_key_check";

/// Compares the stored check with the key in use.
pub(crate) fn compare(sealer: &Sealer, stored: &str) -> Result<()> {
    if stored == sealer.key_check() {
        Ok(())
    } else {
        Err(StoreError::KeyMismatch(
            "this database was set up with another master key than the one in use \
             (HERALD_MASTER_KEY, or the master.key file of the data directory): start Herald \
             with the key this database was created with, and give every node that shares \
             the database that same HERALD_MASTER_KEY"
                .to_string(),
        ))
    }
}

/// A database from before the check: every sealed webhook row must open
/// with the key in use before the check is written for it. `rows` are
/// `(id, spec)` of the sealed rows.
pub(crate) fn rows_open<'a>(
    sealer: &Sealer,
    rows: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<()> {
    let mut failed = 0;
    let mut total = 0;
    for (id, spec) in rows {
        total += 1;
        if sealer.open(id, spec).is_err() {
            failed += 1;
        }
    }
    if failed == 0 {
        return Ok(());
    }
    Err(StoreError::KeyMismatch(format!(
        "{failed} of the {total} webhooks stored in this database do not open with the master \
         key in use (HERALD_MASTER_KEY, or the master.key file of the data directory): start \
         Herald with the key they were written with, and give every node that shares the \
         database that same HERALD_MASTER_KEY"
    )))
}
