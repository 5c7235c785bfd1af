//! The MCP server's state: which API it calls, whose credentials each call
//! uses, and the one way a tool makes an API call and answers. What it
//! offers and refuses is in `handler`.

use std::sync::Arc;
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use herald_client::{Call, Client};

use crate::answer;
use crate::api::{self, Api, Credentials};

/// Whose token the tools act with.
#[derive(Clone, Debug)]
pub enum Access {
    /// `herald mcp` over stdio: the token (and tenant) it was started with.
    Fixed(Credentials),
    /// `/mcp` over HTTP: each request's own `Authorization` and
    /// `X-Herald-Tenant` headers, so every call acts for whoever made it
    /// and nothing is remembered between requests.
    PerRequest,
}

/// How to build a [`HeraldMcp`].
#[derive(Clone, Debug)]
pub struct Options {
    /// The Herald server whose API the tools call.
    pub api_url: Url,
    pub access: Access,
    /// Offer only the tools that read, and refuse the others.
    pub read_only: bool,
    /// How long one API call may take before its tool reports a failure.
    pub timeout: Duration,
}

/// The MCP server: cheap to clone (one per HTTP request in stateless mode).
#[derive(Clone)]
pub struct HeraldMcp {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) api: Api,
    pub(crate) access: Access,
    pub(crate) read_only: bool,
    /// The tools offered (in read-only mode, without the write tools).
    pub(crate) tools: ToolRouter<HeraldMcp>,
}

impl HeraldMcp {
    /// The credentials of this call: the fixed ones, or those of the HTTP
    /// request that carried it.
    fn credentials(&self, context: &RequestContext<RoleServer>) -> Result<Credentials, String> {
        match &self.inner.access {
            Access::Fixed(credentials) => Ok(credentials.clone()),
            Access::PerRequest => {
                let parts = context
                    .extensions
                    .get::<http::request::Parts>()
                    .ok_or("this call came without its HTTP request")?;
                let header = |name: &str| {
                    parts
                        .headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::trim)
                };
                let token = header(http::header::AUTHORIZATION.as_str())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or("this call came without a bearer token")?;
                Ok(Credentials {
                    token: SecretString::from(token.to_string()),
                    tenant: header("X-Herald-Tenant").map(str::to_string),
                })
            }
        }
    }

    /// The API client acting for this call's caller.
    pub(crate) fn client_for(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<Client, String> {
        Ok(self.inner.api.acting_as(&self.credentials(context)?))
    }

    /// Calls the API for `tool` (the call `request` makes with a client
    /// acting for this call's caller) and answers with `summarize`'s text
    /// and the API's JSON, or with the API's error.
    pub(crate) async fn run<T>(
        &self,
        context: &RequestContext<RoleServer>,
        tool: &str,
        request: impl FnOnce(&Client) -> Call<T>,
        summarize: impl FnOnce(&Value) -> String,
    ) -> CallToolResult {
        let client = match self.client_for(context) {
            Ok(client) => client,
            Err(reason) => return answer::not_sent(tool, &reason),
        };
        match api::send(request(&client)).await {
            Ok(value) => answer::ok(summarize(&value), value),
            Err(error) => answer::failed(tool, &error),
        }
    }
}
