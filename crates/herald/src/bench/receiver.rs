//! The benchmark's destination: answers 200 at once and records when each
//! delivery arrived, matched to when its event was sent.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use tokio::sync::Notify;

/// Send and arrival times, in nanoseconds since the run's start.
pub(crate) struct Clock {
    start: Instant,
    /// Send time of event `n` (the number in its id `b<n>`), 0 = not sent.
    sent: Vec<AtomicU64>,
    latencies_ns: Mutex<Vec<u64>>,
    arrivals: AtomicU64,
    pub(crate) arrived: Notify,
}

impl Clock {
    pub(crate) fn new(events: usize) -> Arc<Clock> {
        Arc::new(Clock {
            start: Instant::now(),
            sent: (0..events).map(|_| AtomicU64::new(0)).collect(),
            latencies_ns: Mutex::new(Vec::with_capacity(events)),
            arrivals: AtomicU64::new(0),
            arrived: Notify::new(),
        })
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    pub(crate) fn mark_sent(&self, event: usize, at_ns: u64) {
        if let Some(slot) = self.sent.get(event) {
            slot.store(at_ns.max(1), Ordering::Relaxed);
        }
    }

    fn mark_arrived(&self, event: usize) {
        let now = self.now_ns();
        if let Some(sent) = self.sent.get(event).map(|s| s.load(Ordering::Relaxed))
            && sent > 0
        {
            self.latencies_ns
                .lock()
                .expect("latency lock")
                .push(now.saturating_sub(sent));
        }
        self.arrivals.fetch_add(1, Ordering::Relaxed);
        self.arrived.notify_waiters();
    }

    pub(crate) fn arrivals(&self) -> u64 {
        self.arrivals.load(Ordering::Relaxed)
    }

    pub(crate) fn take_latencies(&self) -> Vec<u64> {
        std::mem::take(&mut *self.latencies_ns.lock().expect("latency lock"))
    }
}

async fn receive(State(clock): State<Arc<Clock>>, headers: HeaderMap) -> &'static str {
    let event = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|id| id.strip_prefix('b'))
        .and_then(|n| n.parse::<usize>().ok());
    if let Some(n) = event {
        clock.mark_arrived(n);
    }
    "ok"
}

/// Serves on a free loopback port until the returned handle is dropped.
pub(crate) async fn start(
    clock: Arc<Clock>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().fallback(receive).with_state(clock);
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, handle))
}
