//! `herald mcp`: Herald's MCP server on stdio, for an MCP client (an AI
//! agent's host) that starts it as a child process. It manages the Herald
//! server at `--url` through its REST API, with `--token`, like any other
//! client of the API.

use std::path::Path;

use anyhow::Context;
use clap::Args;
use herald_mcp::{Access, Credentials, HeraldMcp, Options};
use secrecy::SecretString;
use url::Url;

/// Where `herald serve` keeps the admin token it generated, from the
/// directory it was started in.
const ADMIN_TOKEN_FILE: &str = "herald-data/admin-token";

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// The Herald server to manage.
    #[arg(long, env = "HERALD_URL", default_value = "http://127.0.0.1:8080")]
    url: Url,
    /// The bearer token the tools act with: a tenant's API key, or the
    /// admin token (prefer the variable: a flag shows in the process list)
    /// [default: ./herald-data/admin-token if it exists].
    #[arg(long, env = "HERALD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The tenant the admin token acts on (`tnt_…`; a tenant key always
    /// acts on its own).
    #[arg(long, env = "HERALD_TENANT")]
    tenant: Option<String>,
    /// Offer only the tools that read; the others are refused.
    #[arg(long)]
    read_only: bool,
}

/// Serves MCP on stdin/stdout until the client closes stdin. Logs go to
/// stderr: stdout carries the protocol.
pub(crate) async fn run(args: McpArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        matches!(args.url.scheme(), "http" | "https"),
        "--url / HERALD_URL must be an http:// or https:// URL, not `{}`",
        args.url
    );
    let token = match args.token.filter(|t| !t.trim().is_empty()) {
        Some(token) => token.trim().to_string(),
        None => read_token_file(Path::new(ADMIN_TOKEN_FILE))?,
    };
    let server = HeraldMcp::new(Options {
        api_url: args.url,
        access: Access::Fixed(Credentials {
            token: SecretString::from(token),
            tenant: args.tenant.filter(|t| !t.is_empty()),
        }),
        read_only: args.read_only,
    })
    .map_err(anyhow::Error::msg)?;
    herald_mcp::serve_stdio(server)
        .await
        .map_err(anyhow::Error::msg)
}

/// The admin token `herald serve` stored, when there is no `--token`.
fn read_token_file(path: &Path) -> anyhow::Result<String> {
    if !path.exists() {
        anyhow::bail!(
            "no token: set HERALD_TOKEN (or --token) to an API key or the admin token, \
             or run from the directory holding {ADMIN_TOKEN_FILE}"
        );
    }
    let token =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let token = token.trim();
    anyhow::ensure!(!token.is_empty(), "{} is empty", path.display());
    Ok(token.to_string())
}
