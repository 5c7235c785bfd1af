//! Writes attempt records in batches: every attempt finished while the
//! previous batch was committing goes into the next one, so recording costs
//! one transaction per batch, not per attempt.

use std::collections::BTreeSet;
use std::sync::Weak;

use herald_store::prelude::*;
use herald_store::{AttemptRecord, NextStep, Store};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Inner, ops};

/// The webhooks that get a retry from these records.
fn webhooks_with_retries(records: &[AttemptRecord]) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| matches!(r.next, NextStep::RetryAt(_)))
        .map(|r| r.webhook_id.clone())
        .collect()
}

/// Webhooks with real (not test) attempts among the records.
pub(super) fn webhooks_attempted(records: &[AttemptRecord]) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| !r.test)
        .map(|r| r.webhook_id.clone())
        .collect()
}

/// Most records one batch carries.
const MAX_BATCH: usize = 1024;

#[derive(Clone)]
pub(crate) struct Recorder {
    tx: mpsc::Sender<AttemptRecord>,
    closed: CancellationToken,
}

impl Recorder {
    /// Starts the writing task; it ends after [`Recorder::close`], once
    /// everything queued before is written.
    /// What the records change beyond the deliveries (a webhook disabled, a
    /// dead letter) is handed to `ops` once written.
    pub(super) fn start(store: Store, dispatcher: Weak<Inner>) -> (Recorder, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<AttemptRecord>(16 * 1024);
        let closed = CancellationToken::new();
        let stop = closed.clone();
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            loop {
                let last = tokio::select! {
                    n = rx.recv_many(&mut batch, MAX_BATCH) => n == 0,
                    _ = stop.cancelled() => {
                        while let Ok(record) = rx.try_recv() {
                            batch.push(record);
                        }
                        true
                    }
                };
                if !batch.is_empty() {
                    let records = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                    let n = records.len();
                    let retrying = webhooks_with_retries(&records);
                    let attempted = webhooks_attempted(&records);
                    match store.record_attempts(records).await {
                        Ok(outcome) => {
                            // The rest of the batch was written; these stay
                            // leased until their lease runs out.
                            for failed in &outcome.failed {
                                tracing::error!(
                                    error = %failed.error,
                                    webhook_id = %failed.webhook_id,
                                    delivery_seq = failed.delivery_seq,
                                    "cannot record an attempt; it will be retried"
                                );
                            }
                            if let Some(inner) = dispatcher.upgrade() {
                                // A lane that looked for its retry before
                                // this commit found the delivery still under
                                // way and may have gone idle: the retry is
                                // in the queue only now.
                                for webhook_id in &retrying {
                                    super::wake(&inner, webhook_id);
                                }
                                ops::after_recording(&inner, outcome).await;
                                super::alerting::attempted(&inner, attempted);
                            }
                        }
                        // The deliveries stay leased in the store and are
                        // re-queued at the next start: at least once holds.
                        Err(e) => {
                            tracing::error!(error = %e, records = n, "cannot record attempts");
                        }
                    }
                }
                if last {
                    break;
                }
            }
        });
        (Recorder { tx, closed }, task)
    }

    /// Asks the task to write what is queued and stop.
    pub(crate) fn close(&self) {
        self.closed.cancel();
    }

    /// Queues a record; waits only if the writer is far behind.
    pub(crate) async fn record(&self, record: AttemptRecord) {
        if self.tx.send(record).await.is_err() {
            tracing::error!("attempt recorder has stopped; the attempt will be retried");
        }
    }
}
