//! `/mcp`: Herald's MCP server (the `herald-mcp` crate) on the API
//! listener, over streamable HTTP, for agents that reach Herald by URL.
//!
//! In front of it, in this order: the `Host`/`Origin` check
//! (DNS-rebinding protection: loopback names only, unless
//! `HERALD_MCP_ALLOWED_HOSTS` lists more), then the API's own token check
//! (401 without a valid admin token or tenant key). The tools then call
//! this same listener's `/api/v1` with the request's own token and tenant
//! header, so every check the API makes (tenant boundary, validation,
//! masking, audit log with actor `mcp:<key id>`) is made by the very same
//! handlers, once.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{HOST, ORIGIN};
use axum::http::uri::Authority;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

use super::{AppState, auth};
use crate::config::McpHosts;
use crate::error::ApiError;

/// What the `/mcp` route needs besides the application state.
pub(crate) struct McpRoute {
    /// The API listener's own address, which the tools call.
    pub(crate) listener: SocketAddr,
    pub(crate) read_only: bool,
    pub(crate) hosts: McpHosts,
    pub(crate) max_body_bytes: usize,
    pub(crate) stopping: CancellationToken,
}

/// The `/mcp` route with its checks.
pub(crate) fn routes(state: &AppState, mcp: McpRoute) -> anyhow::Result<Router<AppState>> {
    let service = herald_mcp::http_service(herald_mcp::HttpOptions {
        api_url: own_url(mcp.listener),
        read_only: mcp.read_only,
        max_body_bytes: mcp.max_body_bytes,
        stopping: mcp.stopping,
    })
    .map_err(|e| anyhow::anyhow!("cannot set up /mcp: {e}"))?;
    // The layer added last runs first: hosts, then the token, then the
    // shaping of the transport's own refusals.
    Ok(Router::new()
        .route_service("/mcp", service)
        .route_layer(middleware::from_fn(json_refusals))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::new(mcp.hosts),
            check_host,
        )))
}

/// The largest plain-text refusal of the transport that is rewritten; a
/// longer body is not one of its one-line refusals.
const REFUSAL_TEXT_MAX: usize = 4096;

/// The MCP transport refuses what it cannot read with a line of plain
/// text (and 415 for a body that is not JSON-RPC). Those answers become
/// JSON: a body that is not JSON, or not a JSON-RPC message, is a 400 with
/// a JSON-RPC error (`-32700` parse error, `-32600` invalid request) as
/// the MCP specification suggests; any other refusal (405, 406, 413, 415
/// for another content type) keeps its status with the API's error body.
async fn json_refusals(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_text = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !is_text {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), REFUSAL_TEXT_MAX)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let unreadable = text.contains("deserialize") || text.contains("JSON-RPC message");
    if unreadable
        && matches!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST
        )
    {
        let code = if text.contains("unrecognized JSON-RPC message") {
            -32600
        } else {
            -32700
        };
        let error = serde_json::json!({"jsonrpc": "2.0", "id": null,
            "error": {"code": code, "message": format!("/mcp cannot read the request: {text}")}});
        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "bad_request",
    };
    ApiError::new(status, code, format!("/mcp: {text}")).into_response()
}

/// The URL of the API on `listener`: a wildcard address is reached on the
/// loopback address of its family.
fn own_url(listener: SocketAddr) -> url::Url {
    let mut address = listener;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    url::Url::parse(&format!("http://{address}")).expect("a socket address makes a URL")
}

/// Refuses a request whose `Host`, or `Origin` when it has one, names a
/// host that is neither loopback nor listed (a browser's request after a
/// DNS rebinding carries the attacker's name in both).
async fn check_host(
    State(hosts): State<Arc<McpHosts>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let authority = match request.headers().get(HOST) {
        Some(value) => std::str::from_utf8(value.as_bytes())
            .ok()
            .and_then(|v| v.parse::<Authority>().ok()),
        // HTTP/2 names the host in the URI instead.
        None => request.uri().authority().cloned(),
    };
    let Some(authority) = authority else {
        return Err(refusal("Host", "no readable host", &hosts));
    };
    if !hosts.allows(authority.host(), authority.port_u16()) {
        return Err(refusal("Host", authority.as_str(), &hosts));
    }
    if let Some(origin) = request.headers().get(ORIGIN) {
        let text = String::from_utf8_lossy(origin.as_bytes());
        let allowed = url::Url::parse(&text).ok().is_some_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url
                    .host_str()
                    .is_some_and(|host| hosts.allows(host, url.port_or_known_default()))
        });
        if !allowed {
            return Err(refusal("Origin", &text, &hosts));
        }
    }
    Ok(next.run(request).await)
}

fn refusal(header: &str, value: &str, hosts: &McpHosts) -> ApiError {
    let listed = match hosts.describe() {
        list if list.is_empty() => String::new(),
        list => format!(" or {list}"),
    };
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "/mcp answers only requests to localhost, 127.0.0.1 or [::1]{listed} \
             (DNS-rebinding protection), and the {header} header says `{value}`; \
             HERALD_MCP_ALLOWED_HOSTS adds host names"
        ),
    )
    .with_field(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_call_the_listener_on_loopback() {
        assert_eq!(
            own_url("0.0.0.0:8080".parse().unwrap()).as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            own_url("[::]:8080".parse().unwrap()).as_str(),
            "http://[::1]:8080/"
        );
        assert_eq!(
            own_url("10.1.2.3:9000".parse().unwrap()).as_str(),
            "http://10.1.2.3:9000/"
        );
    }
}
