//! What a listener does with each request: check its signature, print
//! it, forward it to the app as it came, and answer with the app's answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_client::{Verified, VerifyError, verify};
use serde_json::{Value, json};

use super::subscription::Keys;

/// Headers that belong to one hop, not to the request: never copied
/// across the relay (the HTTP client sets its own).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "content-length",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

/// The most of the app's answer relayed back: Herald keeps only the start
/// of a response body anyway, and a runaway app must not fill memory.
const MAX_ANSWER_BYTES: usize = 10 << 20;

pub(super) struct Relay {
    keys: Keys,
    forward_to: Option<url::Url>,
    forward_invalid: bool,
    print_body: bool,
    http: reqwest::Client,
}

impl Relay {
    pub(super) fn new(
        keys: Keys,
        forward_to: Option<url::Url>,
        forward_invalid: bool,
        print_body: bool,
        timeout: Duration,
    ) -> anyhow::Result<Relay> {
        // Redirects are the app's answer to Herald, as they would be
        // without the relay, so they are not followed here either.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()?;
        Ok(Relay {
            keys,
            forward_to,
            forward_invalid,
            print_body,
            http,
        })
    }

    /// Verified by any key that signs now; else why the current key
    /// refuses it.
    fn check(&self, headers: &HeaderMap, body: &[u8]) -> Result<Verified, VerifyError> {
        let mut first_error = None;
        for key in self.keys.verifying() {
            match verify(key, headers, body, herald_client::verify::DEFAULT_TOLERANCE) {
                Ok(verified) => return Ok(verified),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.expect("there is always a current key"))
    }

    async fn forward(
        &self,
        to: &url::Url,
        method: Method,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response {
        let started = Instant::now();
        let sent = self
            .http
            .request(method.clone(), to.clone())
            .headers(end_to_end(headers))
            .body(body)
            .send()
            .await;
        let answer = match sent {
            Ok(answer) => answer,
            Err(e) => return self.unreachable(&method, to, &e),
        };
        let status = answer.status();
        let answer_headers = end_to_end(answer.headers());
        let mut answer = answer;
        let mut answer_body = Vec::new();
        loop {
            match answer.chunk().await {
                Ok(Some(chunk)) if answer_body.len() + chunk.len() > MAX_ANSWER_BYTES => {
                    return self.refused(
                        &method,
                        to,
                        &format!("its answer is over {MAX_ANSWER_BYTES} bytes"),
                    );
                }
                Ok(Some(chunk)) => answer_body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return self.unreachable(&method, to, &e),
            }
        }
        println!(
            "<-- {} {method} {to} {} ms",
            status.as_u16(),
            started.elapsed().as_millis()
        );
        (status, answer_headers, answer_body).into_response()
    }

    /// The app could not be reached or did not answer: a 502 that says
    /// so, which Herald records (and retries).
    fn unreachable(&self, method: &Method, to: &url::Url, error: &reqwest::Error) -> Response {
        self.refused(method, to, &error_chain(error))
    }

    fn refused(&self, method: &Method, to: &url::Url, reason: &str) -> Response {
        println!("<-- error {method} {to}: {reason}");
        let body = json!({"error": {"code": "forward_failed",
            "message": format!("herald listen could not forward to {to}: {reason}")}});
        (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
    }
}

pub(super) fn router(relay: Arc<Relay>) -> Router {
    Router::new().fallback(receive).with_state(relay)
}

async fn receive(
    State(relay): State<Arc<Relay>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let check = relay.check(&headers, &body);
    let verdict = match &check {
        Ok(_) => "[signature ok]".to_string(),
        Err(e) => format!("[signature INVALID] {e}"),
    };
    println!("--> {} {verdict}", summary(&body));
    if relay.print_body {
        println!("{}", pretty(&body));
    }
    if check.is_err() && !relay.forward_invalid {
        println!(
            "<-- 401 not forwarded: the signature does not verify (--forward-invalid forwards it)"
        );
        let body = json!({"error": {"code": "invalid_signature",
            "message": "herald listen: the signature does not verify; not forwarded"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    match &relay.forward_to {
        Some(to) => relay.forward(to, method, &headers, body).await,
        None => (StatusCode::OK, "ok").into_response(),
    }
}

/// The headers of `from` without the hop-by-hop ones.
fn end_to_end(from: &HeaderMap) -> HeaderMap {
    let mut headers = from.clone();
    for name in HOP_BY_HOP {
        headers.remove(HeaderName::from_static(name));
    }
    headers
}

/// One line for a delivery: the event's type and id, or a batch's size.
fn summary(body: &[u8]) -> String {
    let event = |e: &Value| {
        let field = |name| e.get(name).and_then(Value::as_str).unwrap_or("?");
        format!("{} {}", field("type"), field("id"))
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(events)) => match events.first() {
            Some(first) => format!("batch of {}, first {}", events.len(), event(first)),
            None => "an empty batch".to_string(),
        },
        Ok(e @ Value::Object(_)) => event(&e),
        _ => format!("{} bytes, not JSON", body.len()),
    }
}

fn pretty(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
}

/// An error and its causes on one line (reqwest's own message alone says
/// only "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_is_summed_up_in_one_line() {
        assert_eq!(
            summary(br#"{"id": "evt_1", "type": "training.complete", "data": {}}"#),
            "training.complete evt_1"
        );
        assert_eq!(
            summary(br#"[{"id": "evt_1", "type": "a.b"}, {"id": "evt_2", "type": "a.b"}]"#),
            "batch of 2, first a.b evt_1"
        );
        assert_eq!(summary(b"hello"), "5 bytes, not JSON");
        assert_eq!(summary(b"{}"), "? ?");
    }

    #[test]
    fn hop_by_hop_headers_stay_behind() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:1".parse().unwrap());
        headers.insert("content-length", "3".parse().unwrap());
        headers.insert("webhook-id", "msg_1".parse().unwrap());
        let kept = end_to_end(&headers);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["webhook-id"], "msg_1");
    }
}
