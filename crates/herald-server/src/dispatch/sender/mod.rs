//! One attempt: renders the delivery in its provider's format (or the
//! signed JSON of a plain webhook), sends it without following redirects or
//! hands it to the mail server, and reads what came back (bounded). Every
//! address it connects to has passed the destination check.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use herald_core::delivery::ErrorCategory;
use herald_core::retry::Verdict;
use herald_core::signing::sign_hex;
use herald_core::trace::TraceParent;
use herald_core::webhook::{Auth, SignatureScheme};
use herald_providers::{EmailMessage, EventInput, HttpMethod, HttpRequest, ProviderKind, Rendered};
use herald_store::ClaimedDelivery;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::destination::{BlockedDestination, CheckedResolver, Destinations};
use super::mailer::Mailer;
use crate::redact::{mask, mask_header};
use crate::registry::Route;

mod transformed;

/// Response bodies are kept up to this size in the delivery log.
pub(crate) const MAX_RESPONSE_BODY: usize = 32 * 1024;

/// What happened on the wire.
#[derive(Debug, Clone)]
pub(crate) struct AttemptResult {
    pub(crate) started_at_ms: i64,
    pub(crate) duration: Duration,
    pub(crate) status: Option<u16>,
    pub(crate) response_headers: Option<Vec<(String, String)>>,
    pub(crate) response_body: Option<String>,
    pub(crate) error: Option<(ErrorCategory, String)>,
    /// As sent, secrets masked.
    pub(crate) request_headers: Vec<(String, String)>,
    pub(crate) retry_after: Option<String>,
    /// The provider's (or mail server's) own judgement; `None` leaves it to
    /// the webhook's retry policy.
    pub(crate) verdict: Option<Verdict>,
    /// A wait the provider asked for in its own words (Discord's JSON
    /// `retry_after`), taking precedence over the backoff.
    pub(crate) retry_delay: Option<Duration>,
    /// Not sent on purpose: the provider is switched off.
    pub(crate) skipped: bool,
}

impl AttemptResult {
    fn starting() -> (AttemptResult, Instant) {
        let result = AttemptResult {
            started_at_ms: chrono::Utc::now().timestamp_millis(),
            duration: Duration::ZERO,
            status: None,
            response_headers: None,
            response_body: None,
            error: None,
            request_headers: Vec::new(),
            retry_after: None,
            verdict: None,
            retry_delay: None,
            skipped: false,
        };
        (result, Instant::now())
    }

    /// An attempt Herald failed to make itself (see
    /// `outcome::internal_failure`).
    pub(crate) fn internal(
        started_at_ms: i64,
        duration: Duration,
        message: String,
    ) -> AttemptResult {
        AttemptResult {
            started_at_ms,
            duration,
            status: None,
            response_headers: None,
            response_body: None,
            error: Some((ErrorCategory::Internal, message)),
            request_headers: Vec::new(),
            retry_after: None,
            verdict: Some(Verdict::Retryable),
            retry_delay: None,
            skipped: false,
        }
    }

    /// Not sent because the provider is switched off on this server.
    fn skipped(mut self, started: Instant, kind: ProviderKind) -> AttemptResult {
        self.skipped = true;
        self.not_sent(
            started,
            ErrorCategory::ProviderDisabled,
            format!(
                "provider `{}` is switched off on this server (HERALD_DISABLED_PROVIDERS)",
                kind.as_str()
            ),
            Verdict::Permanent,
        )
    }

    /// Not sent because the destination's address is refused. A literal
    /// address fails at once; a name is retried, as it may resolve
    /// elsewhere later.
    fn blocked(self, started: Instant, blocked: &BlockedDestination) -> AttemptResult {
        let verdict = if blocked.is_literal() {
            Verdict::Permanent
        } else {
            Verdict::Retryable
        };
        self.not_sent(
            started,
            ErrorCategory::BlockedDestination,
            blocked.to_string(),
            verdict,
        )
    }

    /// The webhook's transform failed for this event: nothing was sent,
    /// and sending again would fail the same way.
    fn transform_failed(self, started: Instant, message: String) -> AttemptResult {
        self.not_sent(
            started,
            ErrorCategory::Transform,
            message,
            Verdict::Permanent,
        )
    }

    /// An attempt that ended before anything was sent.
    fn not_sent(
        mut self,
        started: Instant,
        category: ErrorCategory,
        message: String,
        verdict: Verdict,
    ) -> AttemptResult {
        self.error = Some((category, message));
        self.verdict = Some(verdict);
        self.duration = started.elapsed();
        self
    }
}

/// The shared HTTP client (connection pools per destination, no redirects,
/// checked name resolution) and mailer.
pub(crate) struct Sender {
    client: reqwest::Client,
    destinations: Arc<Destinations>,
    user_agent: HeaderValue,
    mailer: Mailer,
    disabled: HashSet<ProviderKind>,
}

/// Lets a stored body go out without a copy.
struct SharedBody(std::sync::Arc<str>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// What a plain webhook request carries: its `webhook-id`, type and body.
struct Payload<'a> {
    id: &'a str,
    event_type: &'a str,
    body: transformed::Body,
}

/// The parts of the stored event envelope a provider renders from.
#[derive(serde::Deserialize)]
struct Envelope {
    timestamp: String,
    data: serde_json::Value,
}

impl Sender {
    pub(crate) fn new(
        mailer: Mailer,
        destinations: Arc<Destinations>,
        disabled: HashSet<ProviderKind>,
    ) -> anyhow::Result<Sender> {
        let client = http_client(destinations.clone())?;
        let user_agent = HeaderValue::from_str(&format!("Herald/{}", env!("CARGO_PKG_VERSION")))?;
        Ok(Sender {
            client,
            destinations,
            user_agent,
            mailer,
            disabled,
        })
    }

    pub(crate) fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    pub(crate) fn is_disabled(&self, kind: ProviderKind) -> bool {
        self.disabled.contains(&kind)
    }

    pub(crate) async fn send(&self, route: &Route, delivery: &ClaimedDelivery) -> AttemptResult {
        let (result, started) = AttemptResult::starting();
        let kind = route.provider.kind();
        if self.disabled.contains(&kind) {
            return result.skipped(started, kind);
        }
        let trace = attempt_trace(delivery);
        if kind == ProviderKind::Webhook {
            let body = match transformed::webhook_body(route.transform.as_ref(), &delivery.body) {
                Ok(body) => body,
                Err(message) => return result.transform_failed(started, message),
            };
            let payload = Payload {
                id: &delivery.event_id,
                event_type: &delivery.event_type,
                body,
            };
            return self
                .send_signed(route, payload, &trace, result, started)
                .await;
        }
        let envelope: Envelope = match serde_json::from_str(&delivery.body) {
            Ok(e) => e,
            Err(e) => {
                return result.not_sent(
                    started,
                    ErrorCategory::Render,
                    format!("stored event is not readable: {e}"),
                    Verdict::Permanent,
                );
            }
        };
        let timestamp_ms = chrono::DateTime::parse_from_rfc3339(&envelope.timestamp)
            .map(|t| t.timestamp_millis())
            .unwrap_or(result.started_at_ms);
        let data = transformed::shaped_data(route.transform.as_ref(), &envelope.data);
        let event = EventInput {
            id: &delivery.event_id,
            event_type: &delivery.event_type,
            timestamp_ms,
            data: &data,
        };
        self.send_integration(route, &[event], false, &trace, result, started)
            .await
    }

    /// Sends a group of deliveries as one request: a JSON array for plain
    /// webhooks and Zapier, a digest message for chat and email providers.
    pub(crate) async fn send_batch(
        &self,
        route: &Route,
        group: &[ClaimedDelivery],
    ) -> AttemptResult {
        let (result, started) = AttemptResult::starting();
        let kind = route.provider.kind();
        if self.disabled.contains(&kind) {
            return result.skipped(started, kind);
        }
        // One request, one span: in the trace of the group's first delivery.
        let trace = attempt_trace(&group[0]);
        if kind == ProviderKind::Webhook {
            let stored: Vec<&Arc<str>> = group.iter().map(|d| &d.body).collect();
            let body = match transformed::webhook_batch_body(route.transform.as_ref(), &stored) {
                Ok(body) => body,
                Err(message) => return result.transform_failed(started, message),
            };
            let id = herald_core::ids::new_id("msg");
            let payload = Payload {
                id: &id,
                event_type: "batch",
                body,
            };
            return self
                .send_signed(route, payload, &trace, result, started)
                .await;
        }
        let mut envelopes = Vec::with_capacity(group.len());
        for d in group {
            match serde_json::from_str::<Envelope>(&d.body) {
                Ok(e) => envelopes.push(e),
                Err(e) => {
                    return result.not_sent(
                        started,
                        ErrorCategory::Render,
                        format!("stored event is not readable: {e}"),
                        Verdict::Permanent,
                    );
                }
            }
        }
        let data: Vec<_> = envelopes
            .iter()
            .map(|e| transformed::shaped_data(route.transform.as_ref(), &e.data))
            .collect();
        let events: Vec<EventInput<'_>> = group
            .iter()
            .zip(&envelopes)
            .zip(&data)
            .map(|((d, e), data)| EventInput {
                id: &d.event_id,
                event_type: &d.event_type,
                timestamp_ms: chrono::DateTime::parse_from_rfc3339(&e.timestamp)
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(result.started_at_ms),
                data,
            })
            .collect();
        self.send_integration(route, &events, true, &trace, result, started)
            .await
    }

    /// Renders `events` for an integration (`batch`: as one request of a
    /// group) and sends that.
    async fn send_integration(
        &self,
        route: &Route,
        events: &[EventInput<'_>],
        batch: bool,
        trace: &HeaderValue,
        result: AttemptResult,
        started: Instant,
    ) -> AttemptResult {
        let rendered = if batch {
            // A scheduled digest lists its cap of events and counts the rest.
            let listed = match &route.webhook.spec.batch {
                Some(b) if route.digest.is_some() => events.len().min(b.max_events as usize),
                _ => events.len(),
            };
            route
                .provider
                .render_digest(&events[..listed], events.len() - listed)
        } else {
            route.provider.render(&events[0])
        };
        match rendered {
            Err(e) => result.not_sent(
                started,
                ErrorCategory::Render,
                e.to_string(),
                Verdict::Permanent,
            ),
            Ok(None) => result.not_sent(
                started,
                ErrorCategory::Render,
                "the provider rendered nothing to send".to_string(),
                Verdict::Permanent,
            ),
            Ok(Some(Rendered::Http(request))) => {
                let request = match &route.transform {
                    None => request,
                    Some(t) => match transformed::reshape_request(t, request, events, batch) {
                        Ok(request) => request,
                        Err(message) => return result.transform_failed(started, message),
                    },
                };
                self.send_rendered(route, request, trace, result, started)
                    .await
            }
            Ok(Some(Rendered::Email(message))) => {
                let event_id = events.first().map_or("", |e| e.id);
                self.send_email(route, &message, event_id, result, started)
                    .await
            }
        }
    }

    /// A plain webhook: the stored envelope, signed.
    async fn send_signed(
        &self,
        route: &Route,
        payload: Payload<'_>,
        trace: &HeaderValue,
        result: AttemptResult,
        started: Instant,
    ) -> AttemptResult {
        let Some(url) = route.url.clone() else {
            return result.not_sent(
                started,
                ErrorCategory::Request,
                "the webhook has no URL".to_string(),
                Verdict::Permanent,
            );
        };
        if let Err(blocked) = self.destinations.check_url(&url) {
            return result.blocked(started, &blocked);
        }
        let headers = match build_headers(route, &payload, &self.user_agent, result.started_at_ms) {
            Ok(mut h) => {
                h.insert(TRACEPARENT, trace.clone());
                h
            }
            Err(message) => {
                return result.not_sent(
                    started,
                    ErrorCategory::Request,
                    message,
                    Verdict::Permanent,
                );
            }
        };
        let mut result = result;
        result.request_headers = masked(&headers, route, &[]);
        let method = route
            .transform
            .as_ref()
            .map_or(HttpMethod::Post, |t| t.method());
        let request = self
            .client
            .request(reqwest_method(method), url)
            .headers(headers)
            .timeout(Duration::from_millis(route.webhook.spec.timeout_ms))
            .body(payload.body.wire);
        self.exchange(request, result, started).await
    }

    /// An integration's own request, judged by the provider's rules.
    async fn send_rendered(
        &self,
        route: &Route,
        request: HttpRequest,
        trace: &HeaderValue,
        result: AttemptResult,
        started: Instant,
    ) -> AttemptResult {
        let headers = match rendered_headers(route, &request, &self.user_agent) {
            Ok(mut h) => {
                h.insert(TRACEPARENT, trace.clone());
                h
            }
            Err(message) => {
                return result.not_sent(
                    started,
                    ErrorCategory::Request,
                    message,
                    Verdict::Permanent,
                );
            }
        };
        let url = match reqwest::Url::parse(&request.url) {
            Ok(u) => u,
            Err(e) => {
                return result.not_sent(
                    started,
                    ErrorCategory::Request,
                    format!("the provider's URL is not valid: {e}"),
                    Verdict::Permanent,
                );
            }
        };
        if let Err(blocked) = self.destinations.check_url(&url) {
            return result.blocked(started, &blocked);
        }
        let method = reqwest_method(request.method);
        let mut result = result;
        result.request_headers = masked(&headers, route, &request.secret_headers);
        let builder = self
            .client
            .request(method, url)
            .headers(headers)
            .timeout(Duration::from_millis(route.webhook.spec.timeout_ms))
            .body(request.body);
        let mut result = self.exchange(builder, result, started).await;
        if let Some(status) = result.status {
            let answer = route.provider.judge(
                status,
                result.response_body.as_deref().unwrap_or(""),
                result.retry_after.as_deref(),
            );
            let verdict = answer.verdict;
            result.verdict = Some(verdict);
            result.retry_delay = answer.retry_after;
            if verdict == Verdict::Success {
                result.error = None;
            } else {
                let category = result
                    .error
                    .as_ref()
                    .map(|(c, _)| *c)
                    .or_else(|| ErrorCategory::for_status(status))
                    .unwrap_or(ErrorCategory::Response);
                let message = answer
                    .message
                    .or_else(|| result.error.take().map(|(_, m)| m))
                    .unwrap_or_else(|| format!("HTTP {status}"));
                result.error = Some((category, message));
            }
        }
        result
    }

    async fn send_email(
        &self,
        route: &Route,
        message: &EmailMessage,
        event_id: &str,
        mut result: AttemptResult,
        started: Instant,
    ) -> AttemptResult {
        let timeout = Duration::from_millis(route.webhook.spec.timeout_ms);
        let sent = self.mailer.send(message, event_id, timeout).await;
        result.request_headers = vec![
            ("to".to_string(), message.to.join(", ")),
            ("subject".to_string(), message.subject.clone()),
        ];
        result.response_body = sent.reply;
        result.error = sent.error;
        result.verdict = Some(sent.verdict);
        result.duration = started.elapsed();
        result
    }

    /// Sends a request and reads the answer, its body up to
    /// `MAX_RESPONSE_BODY`.
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        mut result: AttemptResult,
        started: Instant,
    ) -> AttemptResult {
        match request.send().await {
            // A name the resolver refused is judged by the webhook's retry
            // policy, like a DNS failure (`RetryPolicy::judge_error`).
            Err(e) => result.error = Some(classify(&e.without_url())),
            Ok(mut response) => {
                let status = response.status().as_u16();
                result.status = Some(status);
                result.retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                result.response_headers = Some(
                    response
                        .headers()
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.to_string(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                );
                let mut body = Vec::new();
                // An answer whose body breaks off (reset, stall past the
                // timeout) is still the answer its status gave.
                let mut body_error = None;
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            let room = MAX_RESPONSE_BODY - body.len();
                            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                            if body.len() >= MAX_RESPONSE_BODY {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            body_error = Some(classify(&e.without_url()).1);
                            break;
                        }
                    }
                }
                result.response_body = Some(String::from_utf8_lossy(&body).into_owned());
                if let Some(category) = ErrorCategory::for_status(status) {
                    let reason = reqwest::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("");
                    let mut message = format!("HTTP {status} {reason}").trim_end().to_string();
                    if let Some(broken) = body_error {
                        message.push_str(&format!(" (its body broke off: {broken})"));
                    }
                    result.error = Some((category, message));
                }
            }
        }
        result.duration = started.elapsed();
        result
    }
}

/// The delivery client: no redirects, no proxy, and names resolved only
/// through the destination check.
fn reqwest_method(method: HttpMethod) -> reqwest::Method {
    match method {
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
    }
}

fn http_client(destinations: Arc<Destinations>) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        // A redirect would lead to an address nobody checked (and a 3xx
        // is a failure anyway).
        .redirect(reqwest::redirect::Policy::none())
        // Names resolve only to checked addresses, and the connection
        // goes to the very address checked: no second lookup for DNS
        // rebinding to answer differently.
        .dns_resolver(CheckedResolver(destinations))
        // Destinations are few and known; a connection per in-flight
        // request is kept for reuse (several webhooks may share a host).
        .pool_max_idle_per_host(4096)
        // Destinations are reached directly: no per-request proxy
        // matching against the environment.
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
}

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The `traceparent` of one attempt: a new span in the trace its event was
/// posted with, or in the delivery's own trace. It goes out with the
/// request (set last, so no custom header replaces it) and is kept with
/// the attempt's request headers in the delivery log.
fn attempt_trace(delivery: &ClaimedDelivery) -> HeaderValue {
    let trace = delivery
        .traceparent
        .as_deref()
        .and_then(TraceParent::parse)
        .unwrap_or_else(|| TraceParent::for_delivery(&delivery.id));
    HeaderValue::from_bytes(&trace.child_header()).expect("a traceparent is visible ASCII")
}

/// An integration's headers: the provider's own, then the webhook's custom
/// headers and auth (which may not replace the provider's).
fn rendered_headers(
    route: &Route,
    request: &HttpRequest,
    user_agent: &HeaderValue,
) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::with_capacity(4 + request.headers.len());
    headers.insert(reqwest::header::USER_AGENT, user_agent.clone());
    add_custom_headers(&mut headers, route)?;
    for (name, value) in &request.headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name}: {e}"))?;
        let value = HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// The webhook's custom headers and authentication.
fn add_custom_headers(headers: &mut HeaderMap, route: &Route) -> Result<(), String> {
    let spec = &route.webhook.spec;
    for (name, value) in &spec.headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name}: {e}"))?;
        let value = HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?;
        headers.insert(name, value);
    }
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| format!("auth header: {e}"));
    match &spec.auth {
        Auth::None => {}
        Auth::Bearer { token } => {
            headers.insert(
                reqwest::header::AUTHORIZATION,
                value(&format!("Bearer {token}"))?,
            );
        }
        Auth::ApiKey { key, header } => {
            let name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|e| format!("auth header: {e}"))?;
            headers.insert(name, value(key)?);
        }
        Auth::Basic { username, password } => {
            let encoded = BASE64.encode(format!("{username}:{password}"));
            headers.insert(
                reqwest::header::AUTHORIZATION,
                value(&format!("Basic {encoded}"))?,
            );
        }
    }
    Ok(())
}

/// Every header of the request: Herald's own, the webhook's custom ones,
/// authentication and the signature (computed once per attempt, with every
/// secret still in its rotation grace period at `started_at_ms`).
fn build_headers(
    route: &Route,
    payload: &Payload<'_>,
    user_agent: &HeaderValue,
    started_at_ms: i64,
) -> Result<HeaderMap, String> {
    let timestamp = started_at_ms.div_euclid(1000);
    let spec = &route.webhook.spec;
    let mut headers = HeaderMap::with_capacity(9 + spec.headers.len());
    let content_type = route
        .transform
        .as_ref()
        .map_or("application/json", |t| t.content_type());
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if let Some(encoding) = route.transform.as_ref().and_then(|t| t.content_encoding()) {
        headers.insert(
            reqwest::header::CONTENT_ENCODING,
            HeaderValue::from_static(encoding),
        );
    }
    headers.insert(reqwest::header::USER_AGENT, user_agent.clone());
    add_custom_headers(&mut headers, route)?;
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| format!("header value: {e}"));
    let id = HeaderValue::from_str(payload.id).map_err(|e| format!("event id: {e}"))?;
    let webhook = &route.webhook;
    let body = &payload.body.signed[..];
    match spec.signature.scheme {
        SignatureScheme::Standard | SignatureScheme::Ed25519 => {
            let at = chrono::DateTime::from_timestamp_millis(started_at_ms)
                .ok_or("the attempt's start time is out of range")?;
            let signature = webhook
                .webhook_signature(payload.id, timestamp, body, at)
                .ok_or("the webhook has no Ed25519 key pair")?;
            headers.insert("webhook-id", id);
            headers.insert("webhook-timestamp", HeaderValue::from(timestamp));
            headers.insert("webhook-signature", value(&signature)?);
        }
        SignatureScheme::HmacSha256Hex => {
            headers.insert("x-webhook-id", id);
            headers.insert(
                "x-webhook-event",
                HeaderValue::from_str(payload.event_type)
                    .map_err(|e| format!("event type: {e}"))?,
            );
            // Only the current secret signs: receivers of this scheme compare
            // the whole header with `sha256=<hex>`, so a list would fail all
            // of them. A rotation therefore takes effect at once here.
            let signature = sign_hex(&webhook.secret, body);
            headers.insert("x-webhook-signature", value(&signature)?);
        }
        SignatureScheme::None => {
            headers.insert("webhook-id", id);
            headers.insert("webhook-timestamp", HeaderValue::from(timestamp));
        }
    }
    Ok(headers)
}

/// The request headers for the log, secret values masked: the webhook's
/// auth header, well-known credential headers and the provider's own.
fn masked(headers: &HeaderMap, route: &Route, secret: &[String]) -> Vec<(String, String)> {
    let auth_header = route.webhook.spec.auth.header_name();
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes());
            let shown = if secret.iter().any(|s| s.eq_ignore_ascii_case(name.as_str())) {
                mask(&value)
            } else {
                mask_header(name.as_str(), &value, auth_header.as_deref())
            };
            (name.to_string(), shown)
        })
        .collect()
}

/// Sorts a transport failure into a category with a message that never
/// contains the URL (destination URLs can be credentials): the caller drops
/// the URL from the error, and the message is built from the causes alone,
/// which name at most the host.
fn classify(error: &reqwest::Error) -> (ErrorCategory, String) {
    let mut chain = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(s) = source {
        if let Some(blocked) = s.downcast_ref::<BlockedDestination>() {
            return (ErrorCategory::BlockedDestination, blocked.to_string());
        }
        let text = s.to_string();
        // hyper-util's wrapper ("client error (SendRequest)") says nothing
        // its cause does not.
        if !text.starts_with("client error (") {
            chain.push(text);
        }
        source = s.source();
    }
    let detail = chain.join(": ");
    let lower = detail.to_ascii_lowercase();
    let category = if error.is_timeout() || lower.contains("timed out") {
        ErrorCategory::Timeout
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        ErrorCategory::Dns
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ErrorCategory::Tls
    } else if error.is_connect() {
        ErrorCategory::Connect
    } else if error.is_builder() {
        ErrorCategory::Request
    } else {
        // Connected, but what came back was not a usable answer: garbage,
        // a reset or close mid-answer, a head too large, a broken body.
        ErrorCategory::Response
    };
    let message = match category {
        ErrorCategory::Timeout => "no complete response within the timeout".to_string(),
        _ if detail.is_empty() => category.as_str().to_string(),
        _ => detail,
    };
    (category, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DnsOverrides;
    use herald_core::network::AddressPolicy;

    fn production_client(overrides: &str) -> reqwest::Client {
        let destinations = Destinations::new(
            Some(AddressPolicy::default()),
            DnsOverrides::parse(overrides).unwrap(),
        );
        http_client(Arc::new(destinations)).unwrap()
    }

    #[tokio::test]
    async fn a_name_the_resolver_refuses_is_a_blocked_destination() {
        let client = production_client("metadata.test=169.254.169.254");
        let error = client
            .post("http://metadata.test/services/T000/B000/secret-part")
            .send()
            .await
            .unwrap_err();
        let (category, message) = classify(&error.without_url());
        assert_eq!(category, ErrorCategory::BlockedDestination);
        assert!(
            message.contains("169.254.169.254 is a link-local address"),
            "{message}"
        );
        assert!(!message.contains("secret-part"), "{message}");
    }

    #[tokio::test]
    async fn transport_errors_never_carry_the_url() {
        // Nothing listens on port 1; the URL's path stands for a credential.
        let client = production_client("");
        let error = client
            .post("http://127.0.0.1:1/services/T000/B000/secret-part")
            .send()
            .await
            .unwrap_err();
        assert!(error.to_string().contains("secret-part"), "{error}");
        let (category, message) = classify(&error.without_url());
        assert_eq!(category, ErrorCategory::Connect);
        assert!(!message.contains("secret-part"), "{message}");
        assert!(!message.contains("127.0.0.1:1/"), "{message}");
    }
}
