//! `herald mcp`: Herald's MCP server on stdio, for an MCP client (an AI
//! agent's host) that starts it as a child process. It manages the Herald
//! server at `--url` through its REST API with `--token`, like the other
//! resource commands; the tools themselves are in `herald-mcp`.

use std::time::Duration;

use clap::Args;
use herald_mcp::{Access, Credentials, HeraldMcp, Options};
use herald_server::{LogFormat, telemetry};
use secrecy::SecretString;
use url::Url;

use super::connection::{Server, given, token_from_data_dir};
use super::failure::Failure;

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// The server the tools act on, and as whom (the token's tenant, or
    /// the admin token's `--tenant`).
    #[command(flatten)]
    server: Server,
    /// Offer only the tools that read; the others are refused.
    #[arg(long)]
    read_only: bool,
}

/// Serves MCP on stdin/stdout until the client closes stdin. The log goes
/// to stderr: stdout carries the protocol.
pub(crate) async fn run(args: McpArgs) -> Result<(), Failure> {
    let server = args.server;
    let url = Url::parse(server.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            Failure::usage(format!(
                "--url/HERALD_URL: `{}` is not an http:// or https:// URL",
                server.url
            ))
        })?;
    let token = given(&server.token)
        .map(str::to_string)
        .or_else(token_from_data_dir)
        .ok_or_else(|| {
            Failure::usage(
                "no token: set HERALD_TOKEN (or --token) to a tenant API key or the admin \
                 token, or run from the directory holding herald-data/admin-token",
            )
        })?;
    let mcp = HeraldMcp::new(Options {
        api_url: url,
        access: Access::Fixed(Credentials {
            token: SecretString::from(token),
            tenant: given(&server.tenant).map(str::to_string),
        }),
        read_only: args.read_only,
        timeout: Duration::from_secs(server.timeout.max(1)),
    })
    .map_err(Failure::usage)?;
    telemetry::init(LogFormat::Auto);
    herald_mcp::serve_stdio(mcp).await.map_err(Failure::Other)
}
