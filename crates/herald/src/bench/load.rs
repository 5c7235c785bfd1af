//! The load generator: clients posting events over keep-alive HTTP, either
//! as fast as the server answers (closed loop) or at a fixed rate (open
//! loop, for latency without saturation).
//!
//! Requests go to the nodes in turn, each on a keep-alive HTTP/1.1
//! connection borrowed from that node's pool and driven by hyper directly:
//! the generator shares the server's cores, so every microsecond it spends
//! per request (a pooled client's URL and proxy handling, say) is taken
//! from the server it measures.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::sync::Semaphore;

use super::receiver::Clock;
use super::server::TOKEN;

/// Keep-alive connections to the server, reused one request at a time.
pub(crate) struct Connections {
    addr: SocketAddr,
    host: HeaderValue,
    auth: HeaderValue,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl Connections {
    pub(crate) fn new(addr: SocketAddr) -> anyhow::Result<Connections> {
        Ok(Connections {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            auth: HeaderValue::from_str(&format!("Bearer {TOKEN}"))?,
            idle: Mutex::new(Vec::new()),
        })
    }

    async fn take(&self) -> Result<SendRequest<Full<Bytes>>, ()> {
        let idle = self.idle.lock().expect("connections lock").pop();
        if let Some(sender) = idle.filter(|s| !s.is_closed()) {
            return Ok(sender);
        }
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|_| ())?;
        stream.set_nodelay(true).map_err(|_| ())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ())?;
        tokio::spawn(connection);
        Ok(sender)
    }

    fn give_back(&self, sender: SendRequest<Full<Bytes>>) {
        self.idle.lock().expect("connections lock").push(sender);
    }

    /// POSTs `body` to `path`; true when the answer is 202.
    async fn post(&self, path: &'static str, body: String) -> Result<bool, ()> {
        let mut sender = self.take().await?;
        let mut request = hyper::Request::post(path)
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| ())?;
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(AUTHORIZATION, self.auth.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        sender.ready().await.map_err(|_| ())?;
        let response = sender.send_request(request).await.map_err(|_| ())?;
        let accepted = response.status() == hyper::StatusCode::ACCEPTED;
        response.into_body().collect().await.map_err(|_| ())?;
        self.give_back(sender);
        Ok(accepted)
    }
}

pub(crate) struct Load {
    /// One set of connections per node.
    pub(crate) nodes: Vec<Connections>,
    /// Round-robin position over `nodes`.
    pub(crate) turn: AtomicUsize,
    pub(crate) batch: usize,
    pub(crate) events: usize,
    pub(crate) deadline: Option<Instant>,
    pub(crate) clock: Arc<Clock>,
}

/// What the clients achieved.
#[derive(Debug, Default)]
pub(crate) struct LoadResult {
    pub(crate) accepted: u64,
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
}

/// One event body; `n` makes the id (`b<n>`) the receiver matches on.
pub(crate) fn event_json(n: usize) -> String {
    format!(
        r#"{{"type":"bench.event","id":"b{n}","source":"bench","data":{{"experiment":"resnet34","step":{n},"accuracy":0.968,"loss":0.0712,"dashboard_url":"https://example.com/runs/{n}"}}}}"#
    )
}

fn batch_json(first: usize, count: usize) -> String {
    let events: Vec<String> = (first..first + count).map(event_json).collect();
    format!(r#"{{"events":[{}]}}"#, events.join(","))
}

impl Load {
    /// Claims the next `size` event numbers, or `None` when done.
    fn next(&self, counter: &AtomicUsize, size: usize) -> Option<(usize, usize)> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let first = counter.fetch_add(size, Ordering::Relaxed);
        if first >= self.events {
            return None;
        }
        Some((first, size.min(self.events - first)))
    }

    /// Posts one request holding events `first..first+count`; returns how
    /// many were acknowledged with 202.
    async fn post(&self, first: usize, count: usize) -> Result<u64, ()> {
        let (path, body) = if self.batch > 1 {
            ("/api/v1/events/batch", batch_json(first, count))
        } else {
            ("/api/v1/events", event_json(first))
        };
        let sent = self.clock.now_ns();
        for n in first..first + count {
            self.clock.mark_sent(n, sent);
        }
        let node = &self.nodes[self.turn.fetch_add(1, Ordering::Relaxed) % self.nodes.len()];
        match node.post(path, body).await? {
            true => Ok(count as u64),
            false => Err(()),
        }
    }

    /// `concurrency` clients, each posting its next request as soon as the
    /// previous one is answered.
    pub(crate) async fn closed_loop(self: Arc<Self>, concurrency: usize) -> LoadResult {
        let counter = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (load, counter, accepted, errors) = (
                self.clone(),
                counter.clone(),
                accepted.clone(),
                errors.clone(),
            );
            tasks.spawn(async move {
                while let Some((first, count)) = load.next(&counter, load.batch) {
                    match load.post(first, count).await {
                        Ok(n) => accepted.fetch_add(n, Ordering::Relaxed),
                        Err(()) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        LoadResult {
            accepted: accepted.load(Ordering::Relaxed),
            errors: errors.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
        }
    }

    /// Requests started at a fixed rate, whatever the answers' speed (at
    /// most `concurrency` outstanding, so an overloaded server shows as
    /// latency, not as unbounded memory here).
    pub(crate) async fn open_loop(self: Arc<Self>, rate: f64, concurrency: usize) -> LoadResult {
        let counter = AtomicUsize::new(0);
        let accepted = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let slots = Arc::new(Semaphore::new(concurrency));
        let started = Instant::now();
        let per_request = Duration::from_secs_f64(self.batch as f64 / rate);
        let mut ticker = tokio::time::interval(per_request);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            ticker.tick().await;
            let Some((first, count)) = self.next(&counter, self.batch) else {
                break;
            };
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let (load, accepted, errors) = (self.clone(), accepted.clone(), errors.clone());
            tasks.spawn(async move {
                match load.post(first, count).await {
                    Ok(n) => accepted.fetch_add(n, Ordering::Relaxed),
                    Err(()) => errors.fetch_add(1, Ordering::Relaxed),
                };
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        LoadResult {
            accepted: accepted.load(Ordering::Relaxed),
            errors: errors.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
        }
    }
}
