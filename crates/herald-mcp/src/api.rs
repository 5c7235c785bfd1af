//! The REST API as the tools reach it: Herald's typed client
//! (`herald-client`), acting with the caller's own token and tenant, its
//! requests marked as coming through MCP.
//!
//! Every tool goes through the real API rather than the store, so an
//! agent meets exactly the checks a person does: the tenant boundary,
//! validation, secrets masked, every change in the audit log. The mark
//! ([`herald_core::via`]) makes the audit log name the actor
//! `mcp:<key id>`. Answers are taken as the API wrote them
//! ([`Call::json`]): what the agent sees is what the API shows, masking
//! included, even for fields this client version does not know.

use std::time::Duration;

use herald_client::{Call, Client, ClientConfig};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

/// Who the tools act as: a bearer token (the admin token or a tenant's API
/// key) and, for the admin token, the tenant it picks.
#[derive(Clone)]
pub struct Credentials {
    pub token: SecretString,
    /// `X-Herald-Tenant`: which tenant the admin token acts on.
    pub tenant: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &"****")
            .field("tenant", &self.tenant)
            .finish()
    }
}

/// The Herald server the tools call; one connection pool for every
/// caller.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    client: Client,
}

impl Api {
    /// An API at `server` (`http://127.0.0.1:8080`, with or without a path
    /// prefix).
    pub(crate) fn new(server: &Url, timeout: Duration) -> Result<Api, String> {
        let config = ClientConfig::new(server.as_str())
            .timeout(timeout)
            .user_agent(concat!("herald-mcp/", env!("CARGO_PKG_VERSION")));
        let client = Client::new(config).map_err(|e| e.to_string())?;
        Ok(Api { client })
    }

    /// The client acting with `credentials`.
    pub(crate) fn acting_as(&self, credentials: &Credentials) -> Client {
        self.client
            .with_token(Some(credentials.token.expose_secret()))
            .with_tenant(credentials.tenant.as_deref())
    }
}

/// Sends `call`, marked as an agent's; the API's answer as it came.
pub(crate) async fn send<T>(call: Call<T>) -> Result<Value, herald_client::Error> {
    call.header(herald_core::via::HEADER, herald_core::via::MCP)
        .json()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_the_token() {
        let credentials = Credentials {
            token: SecretString::from("hrld_key_x_sekrit".to_string()),
            tenant: None,
        };
        assert!(!format!("{credentials:?}").contains("sekrit"));
        let url = Url::parse("http://127.0.0.1:8080").unwrap();
        let api = Api::new(&url, Duration::from_secs(1)).unwrap();
        let client = api.acting_as(&credentials);
        assert!(!format!("{client:?}").contains("sekrit"));
    }
}
