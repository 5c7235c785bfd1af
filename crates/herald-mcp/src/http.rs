//! MCP over streamable HTTP, for the server's `/mcp` route.
//!
//! Stateless: every POST is one JSON-RPC request answered with one JSON
//! body, acting with that request's own bearer token. Nothing is kept
//! between requests, so there are no sessions to hijack, to expire or to
//! fill memory with, and a revoked key stops working on its next call.
//!
//! The route in front of this service checks the token and the Host and
//! Origin headers (DNS-rebinding protection) with the server's own
//! settings and error bodies; rmcp's host check is switched off so there is
//! one rule in one place.

use std::time::Duration;

use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::server::{Access, HeraldMcp, Options};

/// How long a tool's call of its own server's API may take.
const API_TIMEOUT: Duration = Duration::from_secs(60);

/// How the `/mcp` route serves.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// The API the tools call: the server's own listener.
    pub api_url: Url,
    /// Offer only the tools that read.
    pub read_only: bool,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Cancelled when the server stops.
    pub stopping: CancellationToken,
}

/// The service to mount at `/mcp`, behind authentication and the host
/// check.
pub fn http_service(
    options: HttpOptions,
) -> Result<StreamableHttpService<HeraldMcp, NeverSessionManager>, String> {
    let server = HeraldMcp::new(Options {
        api_url: options.api_url,
        access: Access::PerRequest,
        read_only: options.read_only,
        timeout: API_TIMEOUT,
    })?;
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts()
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(options.stopping);
    Ok(StreamableHttpService::new(
        move || Ok(server.clone()),
        NeverSessionManager::default().into(),
        config,
    ))
}
