//! How a command reaches a Herald server: its URL, the token, and the
//! tenant the admin token acts for.

use std::path::Path;

use anyhow::Context;
use herald_client::{Client, ClientConfig};

/// Where `herald serve` writes the admin token it generates; read when no
/// token is given, so commands run from the server's directory just work.
const GENERATED_TOKEN: &str = "herald-data/admin-token";

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConnectionArgs {
    /// The Herald server.
    #[arg(long, env = "HERALD_URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// The admin token or a tenant API key [default: the token in
    /// ./herald-data/admin-token, which `herald serve` generates].
    #[arg(long, env = "HERALD_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// With the admin token: the tenant to act for (`tnt_…`).
    #[arg(long, env = "HERALD_TENANT")]
    pub(crate) tenant: Option<String>,
}

impl ConnectionArgs {
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        let token = match &self.token {
            Some(token) => Some(token.clone()),
            None => read_generated_token(Path::new(GENERATED_TOKEN))?,
        };
        let mut config = ClientConfig::new(&self.url);
        config.token = token;
        config.tenant = self.tenant.clone();
        Client::new(config).with_context(|| format!("cannot use the server URL {}", self.url))
    }
}

fn read_generated_token(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(token) => Ok(Some(token.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
