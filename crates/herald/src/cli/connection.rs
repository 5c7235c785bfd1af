//! The options every command that drives a server shares (`--url`,
//! `--token`, `--tenant`, `--timeout`; `--json` for the resource
//! commands) and the client they make.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use herald_client::{Client, ClientConfig};

use super::failure::Failure;

/// Where `herald serve` writes the admin token it generates.
const TOKEN_FILE: &str = "admin-token";
const DEFAULT_DATA_DIR: &str = "./herald-data";

/// Which server to talk to and as whom: what every command that drives a
/// server takes (`listen` and `mcp` too).
#[derive(Debug, Clone, Args)]
pub(crate) struct Server {
    /// Herald's API address.
    #[arg(
        long,
        env = "HERALD_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub(crate) url: String,
    /// Bearer token: the admin token or a tenant API key (`hrld_…`). When
    /// neither this nor HERALD_TOKEN is set, the admin token `herald serve`
    /// generated is read from `./herald-data/admin-token` (or
    /// `$HERALD_DATA_DIR/admin-token`) if that file exists.
    #[arg(long, env = "HERALD_TOKEN", hide_env_values = true, global = true)]
    pub(crate) token: Option<String>,
    /// With the admin token, act for this tenant (`tnt_…`; sent as
    /// `X-Herald-Tenant`).
    #[arg(long, env = "HERALD_TENANT", global = true)]
    pub(crate) tenant: Option<String>,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", global = true)]
    pub(crate) timeout: u64,
}

/// The resource commands' options: the server, and how to print.
#[derive(Debug, Clone, Args)]
pub(crate) struct Connection {
    #[command(flatten)]
    pub(crate) server: Server,
    /// Print the API's JSON answer exactly as it came, instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl Connection {
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        self.server.client()
    }
}

/// A value given, trimmed; an empty one counts as not given.
pub(super) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Server {
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        let mut config = ClientConfig::new(self.url.trim())
            .timeout(Duration::from_secs(self.timeout.max(1)))
            .connect_timeout(Duration::from_secs(self.timeout.clamp(1, 10)));
        // An empty variable (`HERALD_TOKEN=`) counts as unset.
        if let Some(token) = given(&self.token)
            .map(str::to_string)
            .or_else(token_from_data_dir)
        {
            config = config.token(token);
        }
        if let Some(tenant) = given(&self.tenant) {
            config = config.tenant(tenant);
        }
        Client::new(config).map_err(|e| Failure::usage(format!("--url/--token: {e}")))
    }
}

/// The token `herald serve` generated, when it sits where it writes it.
pub(super) fn token_from_data_dir() -> Option<String> {
    let dir = std::env::var_os("HERALD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let text = std::fs::read_to_string(dir.join(TOKEN_FILE)).ok()?;
    let token = text.trim();
    (!token.is_empty()).then(|| token.to_string())
}
