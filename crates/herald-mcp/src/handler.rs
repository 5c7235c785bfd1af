//! What the MCP server offers: its description, the tools (all, or in
//! read-only mode only those that read), the refusal of a write tool
//! called anyway, and the resources and prompt (all of which read).

use std::sync::Arc;

use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::answer;
use crate::api::Api;
use crate::server::{HeraldMcp, Inner, Options};
use crate::{prompts, resources, tools};

/// What the server tells a client about itself at the start.
const INSTRUCTIONS: &str = "Herald delivers events to webhooks (signed HTTP requests) and \
integrations (Slack, Teams, email, …), retrying and logging every attempt. Tools are named by \
resource: webhooks.*, events.*, deliveries.*, providers.list, analytics.*, stats.get, \
audit.list. A delivery is one event to one webhook; deliveries.get shows its attempts with \
status codes, errors and the destination's answers. Resources: herald://webhooks/{id}, \
herald://deliveries/{id}, herald://events/{id}. The prompt webhooks.why_failing diagnoses a \
failing webhook. Every change is made with your own token and recorded in the audit log. \
Secrets are shown masked.";

impl HeraldMcp {
    pub fn new(options: Options) -> Result<HeraldMcp, String> {
        let mut router = tools::router();
        if options.read_only {
            for name in tools::WRITE_TOOLS {
                router.remove_route(name);
            }
        }
        Ok(HeraldMcp {
            inner: Arc::new(Inner {
                api: Api::new(&options.api_url, options.timeout)?,
                access: options.access,
                read_only: options.read_only,
                tools: router,
            }),
        })
    }
}

impl ServerHandler for HeraldMcp {
    fn get_info(&self) -> ServerConfig {
        let mut info = Implementation::new("herald", env!("CARGO_PKG_VERSION"));
        info.title = Some("Herald".to_string());
        let instructions = if self.inner.read_only {
            format!("{INSTRUCTIONS} This server is read-only: it offers only the tools that read.")
        } else {
            INSTRUCTIONS.to_string()
        };
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(info)
            .with_instructions(instructions)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.inner.tools.list_all()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.tools.get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // A read-only server does not list the write tools; one called
        // anyway is refused in words the agent can act on, rather than
        // "tool not found".
        if self.inner.read_only && tools::WRITE_TOOLS.contains(&request.name.as_ref()) {
            return Ok(answer::refused(&request.name).into());
        }
        let call = ToolCallContext::new(self, request, context);
        self.inner.tools.call(call).await
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.webhook_resources(&context).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        Ok(self.read(&request.uri, &context).await?.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(prompts::list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let prompt = self
            .prompt(&request.name, request.arguments.as_ref(), &context)
            .await?;
        Ok(prompt.into())
    }
}
