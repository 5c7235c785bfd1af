//! The rules for delivery leases, the same on every engine. A claimed
//! delivery is `delivering` until `leased_until`; a lease that runs out
//! without its attempt being recorded, while no lane holds its webhook,
//! was interrupted (its sender stopped or died, or the record was lost),
//! and the delivery goes back to the queue, due at once, keeping its
//! attempt count. A test send is failed instead: the caller that waited
//! for it has gone.

/// How long a test send may take before it counts as interrupted.
pub(crate) const TEST_SEND_LEASE_MS: i64 = 10 * 60 * 1000;

/// What an interrupted test send is failed with.
pub(crate) const INTERRUPTED_TEST: &str = "interrupted: Herald stopped during the test send";

/// The status a delivery taken back from its lease returns to (plain SQL,
/// the same on either engine).
pub(crate) const REQUEUED_STATUS: &str =
    "CASE WHEN attempt_count = 0 THEN 'pending' ELSE 'retrying' END";
