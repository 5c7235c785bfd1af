//! `herald mcp`: Herald's MCP server on stdio, for an MCP client (an AI
//! agent's host) that starts it as a child process. It manages the Herald
//! server at `--url` through its REST API with `--token`, like the other
//! resource commands; the tools themselves are in `herald-mcp`.

use clap::Args;
use herald_mcp::{Access, Credentials, HeraldMcp, Options};
use herald_server::{LogFormat, telemetry};
use secrecy::SecretString;
use url::Url;

use super::connection::{given, token_from_data_dir};
use super::failure::Failure;

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// Herald's API address.
    #[arg(long, env = "HERALD_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The bearer token the tools act with: a tenant's API key, or the
    /// admin token (prefer HERALD_TOKEN: a flag shows in the process
    /// list). When neither is set, the admin token `herald serve`
    /// generated is read from `./herald-data/admin-token` (or
    /// `$HERALD_DATA_DIR/admin-token`) if that file exists.
    #[arg(long, env = "HERALD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// With the admin token, act for this tenant (`tnt_…`; sent as
    /// `X-Herald-Tenant`). A tenant key always acts for its own.
    #[arg(long, env = "HERALD_TENANT")]
    tenant: Option<String>,
    /// Offer only the tools that read; the others are refused.
    #[arg(long)]
    read_only: bool,
}

/// Serves MCP on stdin/stdout until the client closes stdin. The log goes
/// to stderr: stdout carries the protocol.
pub(crate) async fn run(args: McpArgs) -> Result<(), Failure> {
    let url = Url::parse(args.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            Failure::usage(format!(
                "--url/HERALD_URL: `{}` is not an http:// or https:// URL",
                args.url
            ))
        })?;
    let token = given(&args.token)
        .map(str::to_string)
        .or_else(token_from_data_dir)
        .ok_or_else(|| {
            Failure::usage(
                "no token: set HERALD_TOKEN (or --token) to a tenant API key or the admin \
                 token, or run from the directory holding herald-data/admin-token",
            )
        })?;
    let server = HeraldMcp::new(Options {
        api_url: url,
        access: Access::Fixed(Credentials {
            token: SecretString::from(token),
            tenant: given(&args.tenant).map(str::to_string),
        }),
        read_only: args.read_only,
    })
    .map_err(Failure::usage)?;
    telemetry::init(LogFormat::Auto);
    herald_mcp::serve_stdio(server)
        .await
        .map_err(Failure::Other)
}
