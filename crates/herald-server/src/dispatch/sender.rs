//! One HTTP attempt: builds the signed request for a delivery, sends it
//! without following redirects, and reads what came back (bounded).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use herald_core::delivery::ErrorCategory;
use herald_core::signing::{sign_hex, sign_standard};
use herald_core::webhook::{Auth, SignatureScheme};
use herald_store::ClaimedDelivery;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::redact::mask_header;
use crate::registry::Route;

/// Response bodies are kept up to this size in the delivery log.
pub(crate) const MAX_RESPONSE_BODY: usize = 32 * 1024;

/// What happened on the wire.
#[derive(Debug)]
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
}

/// The shared HTTP client: connection pools per destination, no redirects.
#[derive(Clone)]
pub(crate) struct Sender {
    client: reqwest::Client,
    user_agent: HeaderValue,
}

/// Lets a stored body go out without a copy.
struct SharedBody(std::sync::Arc<str>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Sender {
    pub(crate) fn new() -> anyhow::Result<Sender> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let user_agent = HeaderValue::from_str(&format!("Herald/{}", env!("CARGO_PKG_VERSION")))?;
        Ok(Sender { client, user_agent })
    }

    pub(crate) async fn send(&self, route: &Route, delivery: &ClaimedDelivery) -> AttemptResult {
        let started_at_ms = chrono::Utc::now().timestamp_millis();
        let started = Instant::now();
        let headers = match build_headers(route, delivery, &self.user_agent, started_at_ms / 1000) {
            Ok(h) => h,
            Err(message) => {
                return AttemptResult {
                    started_at_ms,
                    duration: started.elapsed(),
                    status: None,
                    response_headers: None,
                    response_body: None,
                    error: Some((ErrorCategory::Request, message)),
                    request_headers: Vec::new(),
                    retry_after: None,
                };
            }
        };
        let request_headers = masked(&headers, route);
        let timeout = Duration::from_millis(route.webhook.spec.timeout_ms);
        let body = Bytes::from_owner(SharedBody(delivery.body.clone()));
        let sent = self
            .client
            .post(route.url.clone())
            .headers(headers)
            .timeout(timeout)
            .body(body)
            .send()
            .await;
        let mut result = AttemptResult {
            started_at_ms,
            duration: Duration::ZERO,
            status: None,
            response_headers: None,
            response_body: None,
            error: None,
            request_headers,
            retry_after: None,
        };
        match sent {
            Err(e) => result.error = Some(classify(&e)),
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
                            result.error = Some(classify(&e));
                            break;
                        }
                    }
                }
                result.response_body = Some(String::from_utf8_lossy(&body).into_owned());
                if result.error.is_none()
                    && let Some(category) = ErrorCategory::for_status(status)
                {
                    let reason = reqwest::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("");
                    result.error = Some((
                        category,
                        format!("HTTP {status} {reason}").trim_end().to_string(),
                    ));
                }
            }
        }
        result.duration = started.elapsed();
        result
    }
}

/// Every header of the request: Herald's own, the webhook's custom ones,
/// authentication and the signature (computed once per attempt).
fn build_headers(
    route: &Route,
    delivery: &ClaimedDelivery,
    user_agent: &HeaderValue,
    timestamp: i64,
) -> Result<HeaderMap, String> {
    let spec = &route.webhook.spec;
    let mut headers = HeaderMap::with_capacity(8 + spec.headers.len());
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(reqwest::header::USER_AGENT, user_agent.clone());
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
    let id = HeaderValue::from_str(&delivery.event_id).map_err(|e| format!("event id: {e}"))?;
    let secret = &route.webhook.secret;
    let body = delivery.body.as_bytes();
    match spec.signature.scheme {
        SignatureScheme::Standard => {
            let signature = sign_standard(secret, &delivery.event_id, timestamp, body);
            headers.insert("webhook-id", id);
            headers.insert("webhook-timestamp", HeaderValue::from(timestamp));
            headers.insert("webhook-signature", value(&signature)?);
        }
        SignatureScheme::HmacSha256Hex => {
            headers.insert("x-webhook-id", id);
            headers.insert(
                "x-webhook-event",
                HeaderValue::from_str(&delivery.event_type)
                    .map_err(|e| format!("event type: {e}"))?,
            );
            headers.insert("x-webhook-signature", value(&sign_hex(secret, body))?);
        }
        SignatureScheme::None => {
            headers.insert("webhook-id", id);
            headers.insert("webhook-timestamp", HeaderValue::from(timestamp));
        }
    }
    Ok(headers)
}

/// The request headers for the log, secret values masked.
fn masked(headers: &HeaderMap, route: &Route) -> Vec<(String, String)> {
    let auth_header = route.webhook.spec.auth.header_name();
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes());
            let shown = mask_header(name.as_str(), &value, auth_header.as_deref());
            (name.to_string(), shown)
        })
        .collect()
}

/// Sorts a transport failure into a category with a message that never
/// contains the URL (destination URLs can be credentials).
fn classify(error: &reqwest::Error) -> (ErrorCategory, String) {
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(s) = source {
        chain.push(s.to_string());
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
    } else if error.is_body() || error.is_decode() {
        ErrorCategory::Response
    } else if error.is_builder() {
        ErrorCategory::Request
    } else {
        ErrorCategory::Connect
    };
    let message = match category {
        ErrorCategory::Timeout => "no complete response within the timeout".to_string(),
        _ if detail.is_empty() => category.as_str().to_string(),
        _ => detail,
    };
    (category, message)
}
