//! Prefixed, time-sortable identifiers (`wh_01JD…`, `evt_…`, `dlv_…`).
//!
//! A ULID from one monotonic generator per process, so ids made in the same
//! millisecond still sort in creation order: list pagination and "newest
//! first" rely on id order matching insertion order.

use std::sync::Mutex;

pub const WEBHOOK: &str = "wh";
pub const EVENT: &str = "evt";
pub const DELIVERY: &str = "dlv";
pub const ATTEMPT: &str = "att";
pub const TENANT: &str = "tnt";
pub const API_KEY: &str = "key";
pub const AUDIT: &str = "aud";
pub const SCHEDULE: &str = "sch";

/// The tenant every row belongs to until tenants can be created.
pub const DEFAULT_TENANT: &str = "tnt_default";

static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new id with the given prefix, greater than every id made before it by
/// this process.
pub fn new_id(prefix: &str) -> String {
    let ulid = {
        let mut guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
        let generator = guard.get_or_insert_with(ulid::Generator::new);
        // Overflow needs 2^80 ids in one millisecond; fall back to a fresh
        // random ULID rather than fail.
        generator.generate().unwrap_or_else(|_| ulid::Ulid::new())
    };
    format!("{prefix}_{ulid}")
}

/// True when `id` looks like an id with this prefix (used to validate cursors).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 27
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && ulid::Ulid::from_string(&id[prefix.len() + 1..]).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_increasing() {
        let a = new_id(EVENT);
        let b = new_id(EVENT);
        assert!(a.starts_with("evt_"));
        assert!(b > a, "{b} should sort after {a}");
        assert!(has_prefix(&a, EVENT));
        assert!(!has_prefix(&a, WEBHOOK));
        assert!(!has_prefix("evt_nope", EVENT));
    }
}
