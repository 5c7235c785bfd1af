//! Shared harness for Herald's integration tests.
//!
//! Everything here talks real HTTP over loopback: [`TestServer`] runs the real
//! `herald_server::Application` on port 0 with a temporary data directory, and
//! [`Receiver`] is a real axum server standing in for a webhook endpoint.
//! Servers store in SQLite, or in PostgreSQL when `HERALD_TEST_DATABASE`
//! says so (see [`database`]).

pub(crate) mod binary;
pub(crate) mod browser;
pub(crate) mod database;
pub(crate) mod prometheus;
pub(crate) mod python;
pub(crate) mod raw;

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::response::Response;
use herald_server::{Application, Settings};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// Bearer token configured for in-process servers.
pub(crate) const ADMIN_TOKEN: &str = "test-admin-token";

/// Generous upper bound for anything that should happen "soon". Waits return
/// as soon as their condition holds, so this only matters when a test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// How often API state is polled by [`wait_until`] and friends.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A loopback port nothing listens on, for a destination that must refuse
/// connections: bound, noted and released. Never for a server, which binds
/// port 0 itself and says where it listens.
pub(crate) fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find an unused port")
        .port()
}

// ---------------------------------------------------------------------------
// Herald server
// ---------------------------------------------------------------------------

/// A running in-process Herald server with its own temporary data directory.
/// Adjusts a test server's settings before it starts.
type Configure = Arc<dyn Fn(&mut Settings) + Send + Sync>;

pub(crate) struct TestServer {
    dir: TempDir,
    configure: Configure,
    addr: SocketAddr,
    /// The `--metrics-listen` address, when the settings asked for one.
    metrics_addr: Option<SocketAddr>,
    token: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// What [`launch`] started.
struct Launched {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    token: String,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a server in dev mode (so `http://127.0.0.1` destinations are
    /// allowed) on a fresh temporary data directory.
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a dev-mode server whose settings `configure` adjusts first
    /// (and again at every restart).
    pub(crate) async fn start_with(
        configure: impl Fn(&mut Settings) + Send + Sync + 'static,
    ) -> Self {
        let configure: Configure = Arc::new(configure);
        let dir = tempfile::tempdir().expect("create temporary data dir");
        let launched = launch(dir.path(), &configure).await;
        Self {
            dir,
            configure,
            addr: launched.addr,
            metrics_addr: launched.metrics_addr,
            token: launched.token,
            shutdown: Some(launched.shutdown),
            task: Some(launched.task),
        }
    }

    /// The `--metrics-listen` address (set `metrics_listen` to
    /// `127.0.0.1:0` in the settings to get one).
    pub(crate) fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
            .expect("the server was started without metrics_listen")
    }

    pub(crate) fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Absolute URL of `path` on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// An API client carrying the admin bearer token. The server's address
    /// changes on [`TestServer::restart`], so take a new client afterwards.
    pub(crate) fn client(&self) -> ApiClient {
        ApiClient::new(format!("http://{}", self.addr), Some(self.token.clone()))
    }

    /// Asks the server to shut down gracefully and waits for it to finish
    /// draining. Panics if it does not stop in time or stops with an error.
    pub(crate) async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("server did not finish its graceful shutdown within 20s")
                .expect("server task panicked");
        }
    }

    /// Stops the server gracefully, then starts a new `Application` on the
    /// same data directory, as an operator restarting the service would.
    pub(crate) async fn restart(&mut self) {
        self.stop().await;
        let launched = launch(self.dir.path(), &self.configure).await;
        self.addr = launched.addr;
        self.metrics_addr = launched.metrics_addr;
        self.token = launched.token;
        self.shutdown = Some(launched.shutdown);
        self.task = Some(launched.task);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Dropping the sender completes the shutdown future, so a test that
        // panics still lets the server wind down instead of leaking it.
        self.shutdown.take();
    }
}

async fn launch(data_dir: &Path, configure: &Configure) -> Launched {
    let mut settings = Settings::new(data_dir.to_path_buf());
    settings.dev = true;
    // Tests stop servers often; a hanging destination must not hold each
    // stop for the production grace period.
    settings.shutdown_grace = Duration::from_secs(5);
    settings.admin_token = Some(ADMIN_TOKEN.to_string().into());
    settings.database_url = database::database_url_for(data_dir).await.map(Into::into);
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("build the Herald application");
    database::assert_uses_test_database(data_dir).await;
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let token = app.admin_token();
    assert_eq!(token, ADMIN_TOKEN, "the configured admin token is used");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until_stopped(async move {
            let _ = rx.await;
        })
        .await
        .expect("server stopped with an error");
    });
    Launched {
        addr,
        metrics_addr,
        token,
        shutdown: tx,
        task,
    }
}

// ---------------------------------------------------------------------------
// API client
// ---------------------------------------------------------------------------

/// A full answer from the API, for tests that need headers too.
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl ApiResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A thin JSON client for the Herald API.
#[derive(Clone)]
pub(crate) struct ApiClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl ApiClient {
    pub(crate) fn new(base: String, token: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            // A hung request should fail the test, not stall the suite.
            .timeout(Duration::from_secs(15))
            .build()
            .expect("build HTTP client");
        Self { base, token, http }
    }

    /// The same client with a different bearer token, or none at all.
    pub(crate) fn with_token(&self, token: Option<&str>) -> Self {
        Self {
            base: self.base.clone(),
            token: token.map(str::to_string),
            http: self.http.clone(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The bearer token this client sends.
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Sends a request with an optional JSON body and extra headers.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> ApiResponse {
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        into_api_response(req.send().await.expect("send API request")).await
    }

    /// Sends raw bytes as the body, for malformed or oversized payloads.
    pub(crate) async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> ApiResponse {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        into_api_response(req.send().await.expect("send API request")).await
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.send(Method::GET, path, None, &[]).await;
        (r.status, r.body)
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.send(Method::POST, path, Some(&body), &[]).await;
        (r.status, r.body)
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.send(Method::PATCH, path, Some(&body), &[]).await;
        (r.status, r.body)
    }

    pub(crate) async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let r = self.send(Method::DELETE, path, None, &[]).await;
        (r.status, r.body)
    }
}

async fn into_api_response(resp: reqwest::Response) -> ApiResponse {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("read API response body");
    // Empty bodies (204) become null and non-JSON bodies a string, so the
    // caller's assertion shows what actually came back.
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    ApiResponse {
        status,
        headers,
        body,
    }
}

// ---------------------------------------------------------------------------
// API helpers
// ---------------------------------------------------------------------------

/// A minimal valid webhook body pointing at `url`, with `extra` fields merged
/// on top.
pub(crate) fn webhook_body(url: &str, extra: Value) -> Value {
    let mut body = json!({ "name": "test hook", "url": url });
    merge(&mut body, extra);
    body
}

/// The event the integration tests send: the example of the provider docs.
pub(crate) fn training_complete(id: &str) -> Value {
    json!({
        "id": id,
        "type": "training.complete",
        "data": {
            "experiment_name": "ResNet34",
            "accuracy": 0.968,
            "duration": "14m 32s",
            "dashboard_url": "https://ml.example.com/experiments/1234",
        },
    })
}

/// Shallow-merges the fields of `extra` into `target`.
pub(crate) fn merge(target: &mut Value, extra: Value) {
    let target = target.as_object_mut().expect("merge target is an object");
    match extra {
        Value::Object(fields) => target.extend(fields),
        Value::Null => {}
        other => panic!("merge expects an object, got {other}"),
    }
}

/// Creates a webhook and returns its JSON, failing unless the answer is 201.
pub(crate) async fn create_webhook(client: &ApiClient, body: Value) -> Value {
    let (status, created) = client.post("/api/v1/webhooks", body.clone()).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "creating webhook {body} answered {created}"
    );
    created
}

/// Posts one event and returns the answer, failing unless it is 202.
pub(crate) async fn post_event(client: &ApiClient, event: Value) -> Value {
    let (status, answer) = client.post("/api/v1/events", event.clone()).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "posting event {event} answered {answer}"
    );
    answer
}

/// The ids of the deliveries created for one event.
pub(crate) async fn delivery_ids_for_event(client: &ApiClient, event_id: &str) -> Vec<String> {
    let (status, list) = client
        .get(&format!("/api/v1/deliveries?event_id={event_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "listing deliveries answered {list}");
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("delivery list has no data array: {list}"))
        .iter()
        .map(|d| d["id"].as_str().expect("delivery id").to_string())
        .collect()
}

/// The single delivery of an event that matched exactly one webhook.
pub(crate) async fn only_delivery_for_event(client: &ApiClient, event_id: &str) -> String {
    let ids = delivery_ids_for_event(client, event_id).await;
    assert_eq!(ids.len(), 1, "event {event_id} should have one delivery");
    ids.into_iter().next().expect("one delivery id")
}

/// Polls `GET /api/v1/deliveries/{id}` until its status is `status`, and
/// returns that delivery (with its attempts).
pub(crate) async fn wait_for_delivery_status(
    client: &ApiClient,
    delivery_id: &str,
    status: &str,
    timeout: Duration,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let (code, delivery) = client
            .get(&format!("/api/v1/deliveries/{delivery_id}"))
            .await;
        assert_eq!(code, StatusCode::OK, "reading delivery answered {delivery}");
        if delivery["status"] == status {
            return delivery;
        }
        if Instant::now() >= deadline {
            panic!(
                "delivery {delivery_id} did not reach status {status:?} within {timeout:?}; \
                 last seen: {delivery:#}"
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The value of `name` in a JSON object of headers, ignoring the case of the
/// header name.
pub(crate) fn json_header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------

/// Polls `check` until it yields `Some`, returning the value; panics naming
/// `what` if `timeout` passes first. For API state, which has no push channel.
pub(crate) async fn wait_for_value<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls `predicate` until it holds; panics naming `what` on timeout.
pub(crate) async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut predicate: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for_value(timeout, what, || {
        let fut = predicate();
        async move { fut.await.then_some(()) }
    })
    .await
}

// ---------------------------------------------------------------------------
// Webhook receiver
// ---------------------------------------------------------------------------

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// When the request reached the receiver, before any scripted delay.
    pub(crate) at: Instant,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON; panics if it is not JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "receiver got a non-JSON body ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// Wait this long before answering (the request is recorded on arrival).
    pub(crate) delay: Option<Duration>,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: None,
        }
    }

    pub(crate) fn ok() -> Self {
        Self::status(200).body("ok")
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub(crate) fn body(mut self, body: &str) -> Self {
        self.body = body.to_string();
        self
    }

    pub(crate) fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

#[derive(Default)]
struct ReceiverLog {
    requests: Vec<Recorded>,
    script: VecDeque<Reply>,
}

struct ReceiverShared {
    // One lock for both, so the n-th request to arrive gets the n-th reply.
    log: Mutex<ReceiverLog>,
    default: Reply,
    arrived: Notify,
}

/// A loopback HTTP server that records every request and answers from a
/// scripted queue, then with a default reply (200 "ok").
pub(crate) struct Receiver {
    addr: SocketAddr,
    shared: Arc<ReceiverShared>,
    task: JoinHandle<()>,
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        Self::start_with_default(Reply::ok()).await
    }

    pub(crate) async fn start_with_default(default: Reply) -> Self {
        let shared = Arc::new(ReceiverShared {
            log: Mutex::new(ReceiverLog::default()),
            default,
            arrived: Notify::new(),
        });
        let router = Router::new()
            .fallback(record_request)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("receiver server");
        });
        Self { addr, shared, task }
    }

    /// Queues replies for the next requests, in order.
    pub(crate) fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.log.lock().unwrap().script.extend(replies);
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A snapshot of every request so far, in arrival order.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap().requests.clone()
    }

    /// Waits until at least `n` requests have arrived and returns them all.
    pub(crate) async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        self.wait_until(timeout, &format!("{n} request(s)"), |reqs| reqs.len() >= n)
            .await
    }

    /// Waits until `done` holds for the requests so far, woken by each
    /// arrival rather than by polling; panics naming `what` on timeout.
    pub(crate) async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before checking, so an arrival between the
            // check and the await still wakes us.
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let requests = self.requests();
            if done(&requests) {
                return requests;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let requests = self.requests();
                // The last few requests are enough to see what went wrong.
                let summary: Vec<String> = requests
                    .iter()
                    .rev()
                    .take(20)
                    .rev()
                    .map(|r| {
                        format!(
                            "{} {} {}",
                            r.method,
                            r.path,
                            String::from_utf8_lossy(&r.body)
                        )
                    })
                    .collect();
                panic!(
                    "receiver: timed out after {timeout:?} waiting for {what}; \
                     got {} request(s), the last ones: {summary:#?}",
                    requests.len()
                );
            }
        }
    }

    /// Asserts that nothing beyond `expected` requests arrives during
    /// `window`. This is deliberately a sleep: it checks for an absence.
    pub(crate) async fn assert_quiet(&self, window: Duration, expected: usize, why: &str) {
        tokio::time::sleep(window).await;
        let got = self.requests().len();
        assert_eq!(
            got, expected,
            "receiver: expected exactly {expected} request(s) after a {window:?} window ({why})"
        );
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record_request(
    State(shared): State<Arc<ReceiverShared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let reply = {
        let mut log = shared.log.lock().unwrap();
        log.requests.push(Recorded {
            method,
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            headers,
            body,
            at,
        });
        log.script
            .pop_front()
            .unwrap_or_else(|| shared.default.clone())
    };
    shared.arrived.notify_waiters();

    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() =
        axum::http::StatusCode::from_u16(reply.status).expect("valid scripted status");
    for (name, value) in reply.headers {
        response.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).expect("valid scripted header name"),
            HeaderValue::from_str(&value).expect("valid scripted header value"),
        );
    }
    response
}
