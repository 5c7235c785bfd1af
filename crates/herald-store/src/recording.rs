//! What recording an attempt writes, the same on every engine: the
//! delivery's columns its [`NextStep`] sets, the error text kept, and text a
//! destination wrote made storable.

use std::borrow::Cow;

use crate::{AttemptRecord, FailedRecord, NextStep, RecordOutcome, Result};

/// Text a destination can put anything into (an error message quoting its
/// answer, a header value) with every NUL replaced by U+FFFD at the store
/// boundary: a PostgreSQL `text` cannot hold NUL, and one such value would
/// fail the whole multi-row write it is part of. SQLite gets the same text,
/// so both engines answer alike. Response bodies are stored as bytes
/// instead, exactly as received.
pub(crate) fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{fffd}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The attempt's text columns, made storable.
pub(crate) struct AttemptText<'a> {
    pub(crate) error_message: Option<Cow<'a, str>>,
    pub(crate) request_headers: Cow<'a, str>,
    pub(crate) response_headers: Option<Cow<'a, str>>,
}

impl<'a> AttemptText<'a> {
    pub(crate) fn of(r: &'a AttemptRecord) -> AttemptText<'a> {
        AttemptText {
            error_message: r.error_message.as_deref().map(storable),
            request_headers: storable(&r.request_headers),
            response_headers: r.response_headers.as_deref().map(storable),
        }
    }
}

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

/// The error text kept on a delivery (and in a breaker's reason, a dead
/// letter): category and message, made storable.
pub(crate) fn last_error(r: &AttemptRecord) -> Option<String> {
    let message = r.error_message.as_deref().map(storable);
    match (&r.error_category, message) {
        (Some(c), Some(m)) => Some(format!("{}: {m}", c.as_str())),
        (Some(c), None) => Some(c.as_str().to_string()),
        (None, m) => m.map(Cow::into_owned),
    }
}

/// Puts together what recording each record of a batch on its own came
/// to: one outcome, in the records' order, with the records that could not
/// be written in `failed`. When none could, the first error: nothing of the
/// batch was recorded.
pub(crate) fn merge(
    records: &[AttemptRecord],
    results: Vec<Result<RecordOutcome>>,
) -> Result<RecordOutcome> {
    let mut merged = RecordOutcome::default();
    let mut first_error = None;
    let mut recorded = 0;
    for (record, result) in records.iter().zip(results) {
        match result {
            Ok(outcome) => {
                recorded += 1;
                merged.disabled.extend(outcome.disabled);
                merged.dead_letters.extend(outcome.dead_letters);
            }
            Err(error) => {
                first_error.get_or_insert_with(|| error.clone());
                merged.failed.push(FailedRecord {
                    delivery_seq: record.delivery_seq,
                    webhook_id: record.webhook_id.clone(),
                    error,
                });
            }
        }
    }
    match first_error {
        Some(error) if recorded == 0 => Err(error),
        _ => Ok(merged),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nul_is_replaced() {
        assert!(matches!(storable("plain, é ✓"), Cow::Borrowed(_)));
        assert_eq!(storable("a\0b\0"), "a\u{fffd}b\u{fffd}");
    }
}
