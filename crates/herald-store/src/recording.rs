//! What recording an attempt writes to its delivery, the same on every
//! engine: the columns its [`NextStep`] sets and the error text kept.

use crate::{AttemptRecord, NextStep};

/// The delivery's columns after an attempt (besides the attempt count and
/// status code, copied as they are, and the lease, which always ends).
pub(crate) struct DeliveryUpdate {
    pub(crate) status: &'static str,
    pub(crate) next_attempt_at: Option<i64>,
    /// Set only by a success; an earlier one is kept otherwise.
    pub(crate) delivered_at: Option<i64>,
    pub(crate) last_error: Option<String>,
    /// When the attempt ended.
    pub(crate) updated_at: i64,
}

impl DeliveryUpdate {
    pub(crate) fn of(r: &AttemptRecord) -> DeliveryUpdate {
        let ended = r.started_at_ms + r.duration_ms as i64;
        let (status, next_attempt_at, delivered_at) = match r.next {
            NextStep::Delivered => ("delivered", None, Some(ended)),
            NextStep::RetryAt(at) => ("retrying", Some(at), None),
            NextStep::Failed => ("failed", None, None),
            NextStep::Skipped => ("skipped", None, None),
        };
        DeliveryUpdate {
            status,
            next_attempt_at,
            delivered_at,
            last_error: last_error(r),
            updated_at: ended,
        }
    }
}

/// The error text kept on a delivery: category and message.
pub(crate) fn last_error(r: &AttemptRecord) -> Option<String> {
    match (&r.error_category, &r.error_message) {
        (Some(c), Some(m)) => Some(format!("{}: {m}", c.as_str())),
        (Some(c), None) => Some(c.as_str().to_string()),
        (None, m) => m.clone(),
    }
}
