//! The configured client: base URL, credentials, the tenant it acts for,
//! timeouts; and the building of each request's URL.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::error::Error;

/// The header with which the admin token acts for another tenant.
pub(crate) const TENANT_HEADER: &str = "X-Herald-Tenant";

/// How to reach Herald.
#[derive(Clone)]
pub struct ClientConfig {
    /// Where Herald listens, e.g. `http://127.0.0.1:8080` (a path prefix
    /// is kept, for a server behind a proxy at `https://host/herald`).
    pub base_url: String,
    /// The admin token or a tenant API key (`hrld_…`).
    pub token: Option<String>,
    /// With the admin token: the tenant (`tnt_…`) to act for, sent as
    /// `X-Herald-Tenant`. A tenant key acts for its own tenant only.
    pub tenant: Option<String>,
    /// The longest a whole request may take (default 30 s).
    pub timeout: Duration,
    /// The longest connecting may take (default 10 s).
    pub connect_timeout: Duration,
    /// Sent as `User-Agent` (default `herald-client/<version>`).
    pub user_agent: String,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            token: None,
            tenant: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("herald-client/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

/// Never shows the token.
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "****"))
            .field("tenant", &self.tenant)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// A client of one Herald server. Cheap to clone: clones share one
/// connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    base: Url,
    pub(crate) token: Option<String>,
    pub(crate) tenant: Option<String>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        let base = Url::parse(&config.base_url)
            .map_err(|e| Error::Config(format!("base URL `{}`: {e}", config.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "base URL `{}` must be an http:// or https:// URL",
                config.base_url
            )));
        }
        if let Some(token) = &config.token
            && (token.is_empty() || reqwest::header::HeaderValue::from_str(token).is_err())
        {
            return Err(Error::Config(
                "the token is empty or holds characters a header cannot carry".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent)
            // An API answer is never a redirect; following one would send
            // the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            token: config.token,
            tenant: config.tenant,
        })
    }

    /// The same client acting for another tenant (admin token only), or
    /// for the token's own with `None`.
    pub fn with_tenant(&self, tenant: Option<&str>) -> Client {
        Client {
            tenant: tenant.map(str::to_string),
            ..self.clone()
        }
    }

    /// The same client with another token.
    pub fn with_token(&self, token: Option<&str>) -> Client {
        Client {
            token: token.map(str::to_string),
            ..self.clone()
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The URL of `segments` under the base, each segment percent-encoded
    /// (so an id can never step out of its route).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.path_segments_mut()
            .expect("checked in Client::new: the base URL can be a base")
            .pop_if_empty()
            .extend(segments);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_prefix_and_encode_ids() {
        let client = Client::new(ClientConfig::new("http://h:1/herald/")).unwrap();
        assert_eq!(
            client.url(&["api", "v1", "webhooks", "../x?y"]).as_str(),
            "http://h:1/herald/api/v1/webhooks/..%2Fx%3Fy"
        );
        let client = Client::new(ClientConfig::new("http://h:1")).unwrap();
        assert_eq!(client.url(&["healthz"]).as_str(), "http://h:1/healthz");
        // A dot segment would walk up the path: refused before sending.
        let call = client.get_webhook("..");
        assert!(call.problem().is_some());
        assert!(client.get_webhook("").problem().is_some());
        assert!(client.get_webhook("wh_1").problem().is_none());
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert!(Client::new(ClientConfig::new("ftp://h")).is_err());
        assert!(Client::new(ClientConfig::new("not a url")).is_err());
        assert!(Client::new(ClientConfig::new("http://h").token("a\nb")).is_err());
        let config = ClientConfig::new("http://h").token("sekrit");
        assert!(!format!("{config:?}").contains("sekrit"));
    }
}
