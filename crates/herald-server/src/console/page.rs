//! What every console handler shares: calling the API in process for its
//! session, reading a posted form (CSRF checked), and the error page.
//!
//! The console is a client of the API, not a second way in: every read
//! and every change goes through the very `/api/v1` handlers a client
//! reaches, with the session's caller, so the tenant boundary, validation,
//! masking and audit log are the API's own.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_store::StoreError;
use maud::{Markup, html};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::ConsoleState;
use super::layout;
use super::session::{Session, same_token};
use crate::api::ProvenCaller;

/// The largest API answer the console reads, and the largest form it takes.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// An API answer: its status and JSON body.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The field an error answer names (`settings.channel`, `url`, …).
    pub(crate) fn error_field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    /// The error's sentence, or the status when the body has none.
    pub(crate) fn error_message(&self) -> String {
        self.body["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| self.status.to_string())
    }

    fn refused(status: StatusCode, code: &str, message: &str) -> Answer {
        Answer {
            status,
            body: json!({"error": {"code": code, "message": message}}),
        }
    }
}

impl ConsoleState {
    /// Calls `/api/v1{path}` for the session; `body` is sent as JSON.
    pub(crate) async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        if session.row.read_only && method != Method::GET {
            return Answer::refused(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this session is read-only: it can look, not change",
            );
        }
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"))
            .header(axum::http::header::CONTENT_TYPE, "application/json");
        // The API builds absolute addresses (portal links) from the host.
        if let Some(host) = &session.host {
            request = request.header(axum::http::header::HOST, host);
        }
        let body = match body {
            Some(v) => Body::from(v.to_string()),
            None => Body::empty(),
        };
        let mut request = request.body(body).expect("a well-formed request");
        request
            .extensions_mut()
            .insert(ProvenCaller(session.caller.clone()));
        let response = match self.api.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .unwrap_or_default();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Answer { status, body }
    }

    /// `GET /api/v1{path}`: the answer's body, or the error page.
    pub(crate) async fn get(&self, session: &Session, path: &str) -> Result<Value, PageError> {
        let answer = self.call(session, Method::GET, path, None).await;
        if answer.is_success() {
            Ok(answer.body)
        } else {
            Err(PageError::Api(answer))
        }
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    Store(StoreError),
    /// The API refused (or failed) a read the page needed.
    Api(Answer),
    /// The session may not open this section or do this.
    Forbidden(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Store(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::Store(e) => {
                tracing::error!(error = %e, "store failure while serving a console page");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Herald could not read its database just now; try again.".to_string(),
                )
            }
            PageError::Api(answer) => (answer.status, answer.error_message()),
            PageError::Forbidden(message) => (StatusCode::FORBIDDEN, message),
        };
        (
            status,
            layout::bare(status.as_str(), error_body(status, &message)),
        )
            .into_response()
    }
}

fn error_body(status: StatusCode, message: &str) -> Markup {
    html! {
        h1 { (status.canonical_reason().unwrap_or("Error")) }
        p { (message) }
        p { a href="/ui" { "Back to the overview" } }
    }
}

pub(crate) type PageResult<T = Response> = Result<T, PageError>;

/// Refuses a section the session may not open.
pub(crate) fn require(session: &Session, feature: &str) -> PageResult<()> {
    if session.allows(feature) {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "this session cannot open {}",
            feature.replace('_', " ")
        )))
    }
}

/// Refuses an operator's page to a tenant session.
pub(crate) fn require_admin(session: &Session) -> PageResult<()> {
    if session.is_admin() && !session.row.portal {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "this page is for the operator (admin token) only".into(),
        ))
    }
}

/// A posted form with its session, its CSRF token checked: every
/// state-changing request of the console comes through here.
pub(crate) struct Form {
    pub(crate) session: Session,
    fields: Vec<(String, String)>,
}

impl Form {
    /// The first value of `name`, if posted.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, trimmed; empty when absent.
    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_string()
    }

    /// Every value of `name` (checkboxes of a list).
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A form without a valid CSRF token (or from another origin) is refused.
pub(crate) fn refused_form(message: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        layout::bare("Refused", error_body(StatusCode::FORBIDDEN, message)),
    )
        .into_response()
}

/// The request comes from this server's own pages: its `Origin`, when the
/// browser sends one, names the host the request was sent to.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Reads a urlencoded body of at most [`MAX_FORM_BYTES`].
pub(crate) async fn form_fields(body: Body) -> Option<Vec<(String, String)>> {
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.ok()?;
    Some(
        form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

impl FromRequest<ConsoleState> for Form {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        if !same_origin(&parts.headers) {
            return Err(refused_form("this form came from another site"));
        }
        let fields = form_fields(body)
            .await
            .ok_or_else(|| refused_form("the form could not be read (too large?)"))?;
        let form = Form { session, fields };
        let token_ok = form
            .get("csrf")
            .is_some_and(|t| same_token(t, &form.session.row.csrf_token));
        if !token_ok {
            return Err(refused_form(
                "the form's security token is missing or stale; reload the page and try again",
            ));
        }
        Ok(form)
    }
}

/// The outcome of an action, carried to the page it leads back to in the
/// address (`?done=…` or `?error=…`), shown there once.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Flash {
    #[serde(default)]
    done: String,
    #[serde(default)]
    error: String,
}

impl Flash {
    /// The notice to show, if any.
    pub(crate) fn notice(&self) -> Markup {
        html! {
            @if !self.done.is_empty() { (layout::notice("good", &self.done)) }
            @if !self.error.is_empty() { (layout::notice("bad", &self.error)) }
        }
    }
}

/// Back to `page` with the action's outcome: `done` when the API took
/// it, the API's own message when it refused.
pub(crate) fn back_to(page: &str, answer: &Answer, done: &str) -> Response {
    let (key, text) = if answer.is_success() {
        ("done", done.to_string())
    } else {
        ("error", answer.error_message())
    };
    let joiner = if page.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!("{page}{joiner}{key}={}", super::encode(&text)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_our_own_origin_passes() {
        let host = ("host", "herald.example.com:8080");
        assert!(
            same_origin(&headers(&[host])),
            "no Origin: the CSRF token decides"
        );
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://herald.example.com:8080")
        ])));
        for other in [
            "https://evil.example",
            "https://herald.example.com",
            "https://herald.example.com:8080.evil.example",
            "null",
        ] {
            let origin = ("origin", other);
            assert!(!same_origin(&headers(&[host, origin])), "{other}");
        }
        assert!(!same_origin(&headers(&[(
            "origin",
            "https://herald.example.com:8080"
        )])));
    }
}
