//! Hostile answers: what a destination sends back (a body, a header, an
//! error text) is stored whatever bytes it holds, and one record that
//! cannot be written fails alone, never the batch it was written with.

use herald_core::delivery::DeliveryStatus;
use herald_store::prelude::*;
use herald_store::{AttemptRecord, NextStep};

use crate::breaker::claimed;
use crate::fixtures::{TENANT, attempt};
use crate::harness::Db;

contract! {
    both: [
        an_answer_with_nul_bytes_is_stored_with_its_batch,
        a_record_that_cannot_be_written_fails_alone,
    ],
}

/// The bytes of a stored or recorded body, whatever type holds them.
fn bytes<B: AsRef<[u8]>>(body: &Option<B>) -> Option<&[u8]> {
    body.as_ref().map(AsRef::as_ref)
}

async fn an_answer_with_nul_bytes_is_stored_with_its_batch(db: &mut Db) {
    let mut records = Vec::new();
    let mut ids = Vec::new();
    for (i, webhook) in ["wh_a", "wh_b", "wh_c"].iter().enumerate() {
        let d = claimed(db, webhook, &format!("e{i}"), 1).await;
        ids.push(d.id.clone());
        records.push(attempt(&d, 10, NextStep::RetryAt(1_000)));
    }
    let hostile: &mut AttemptRecord = &mut records[1];
    hostile.response_body = Some("not\0text \u{1}\0".into());
    hostile.response_headers = Some("{\"x-evil\":\"a\0b\"}".to_string());
    hostile.error_message = Some("HTTP 500: \0boom".to_string());
    db.record_attempts(records).await.unwrap();

    for id in &ids {
        let (row, attempts) = db.get_delivery(TENANT, id).await.unwrap().unwrap();
        assert_eq!(row.status, DeliveryStatus::Retrying, "{id} was recorded");
        assert_eq!(attempts.len(), 1, "{id}");
    }
    let (row, attempts) = db.get_delivery(TENANT, &ids[1]).await.unwrap().unwrap();
    let stored = &attempts[0];
    assert_eq!(
        bytes(&stored.response_body),
        Some("not\0text \u{1}\0".as_bytes()),
        "the body exactly as received"
    );
    assert_eq!(
        stored.error_message.as_deref(),
        Some("HTTP 500: \u{fffd}boom")
    );
    assert_eq!(
        stored.response_headers.as_deref(),
        Some("{\"x-evil\":\"a\u{fffd}b\"}")
    );
    assert_eq!(
        row.last_error.as_deref(),
        Some("http_5xx: HTTP 500: \u{fffd}boom")
    );
}

async fn a_record_that_cannot_be_written_fails_alone(db: &mut Db) {
    let mut deliveries = Vec::new();
    for (i, webhook) in ["wh_a", "wh_b", "wh_c"].iter().enumerate() {
        deliveries.push(claimed(db, webhook, &format!("e{i}"), 1).await);
    }
    // The middle delivery's event is gone (damaged data): its dead letter
    // cannot be read, so its record cannot be written.
    db.execute("DELETE FROM events WHERE id = 'e1'").await;
    let records = vec![
        attempt(&deliveries[0], 10, NextStep::Delivered),
        attempt(&deliveries[1], 10, NextStep::Failed),
        attempt(&deliveries[2], 10, NextStep::Delivered),
    ];
    let outcome = db.record_attempts(records).await.unwrap();
    for (d, recorded) in deliveries.iter().zip([true, false, true]) {
        let status = db
            .texts(&format!(
                "SELECT status FROM deliveries WHERE id = '{}'",
                d.id
            ))
            .await;
        let attempts = db
            .number(&format!(
                "SELECT COUNT(*) FROM attempts WHERE delivery_seq = {}",
                d.seq
            ))
            .await;
        let want = if recorded { "delivered" } else { "delivering" };
        assert_eq!(status, [want], "{}", d.webhook_id);
        assert_eq!(attempts, i64::from(recorded), "{}", d.webhook_id);
    }
    assert_eq!(outcome.failed.len(), 1, "{:?}", outcome.failed);
    assert_eq!(
        (
            outcome.failed[0].delivery_seq,
            outcome.failed[0].webhook_id.as_str()
        ),
        (deliveries[1].seq, "wh_b")
    );
    assert!(outcome.dead_letters.is_empty());

    // A batch of nothing but that record fails as a whole: nothing of it
    // was written.
    let alone = db
        .record_attempts(vec![attempt(&deliveries[1], 20, NextStep::Failed)])
        .await;
    assert!(alone.is_err(), "{alone:?}");
}
