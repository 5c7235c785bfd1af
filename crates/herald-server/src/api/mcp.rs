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
use axum::response::Response;
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
    // The layer added last runs first: hosts, then the token.
    Ok(Router::new()
        .route_service("/mcp", service)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::new(mcp.hosts),
            check_host,
        )))
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
