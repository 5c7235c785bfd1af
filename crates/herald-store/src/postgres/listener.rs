//! Hears other nodes: a LISTEN connection turns each notification into a
//! [`Change`] for the dispatcher. A lost connection may have lost
//! notifications, so it is followed by [`Change::Resync`].

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, oneshot};

use crate::Result;
use crate::cluster::{Change, EVENT_TYPE_CHANNEL, WEBHOOK_CHANNEL, WORK_CHANNEL};

/// Connects and starts listening before returning, so nothing stored after
/// the store opens goes unheard.
pub(super) async fn start(
    pool: PgPool,
    changes: broadcast::Sender<Change>,
    mut stop: oneshot::Receiver<()>,
) -> Result<()> {
    let mut listener = PgListener::connect_with(&pool).await?;
    listener
        .listen_all([WORK_CHANNEL, WEBHOOK_CHANNEL, EVENT_TYPE_CHANNEL])
        .await?;
    tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received,
                _ = &mut stop => return,
            };
            let change = match received {
                Ok(Some(n)) if n.channel() == WORK_CHANNEL => Change::Work(n.payload().into()),
                Ok(Some(n)) if n.channel() == EVENT_TYPE_CHANNEL => {
                    Change::EventTypes(n.payload().into())
                }
                Ok(Some(n)) => Change::Webhook(n.payload().into()),
                // The connection dropped; the next call reconnects.
                Ok(None) => Change::Resync,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the notification connection; reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Change::Resync
                }
            };
            // No receiver yet (or any more) is not an error.
            let _ = changes.send(change);
        }
    });
    Ok(())
}
