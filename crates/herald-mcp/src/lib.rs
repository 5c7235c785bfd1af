//! Herald's MCP server: tools an AI agent uses to manage Herald —
//! `webhooks.*`, `events.*`, `deliveries.*`, `providers.list`,
//! `analytics.*`, `stats.get`, `audit.list` — served over stdio (`herald
//! mcp`) or streamable HTTP (`/mcp` on the API listener).
//!
//! Every tool calls Herald's REST API with the caller's own token, so an
//! agent meets exactly the checks a person does (tenant boundary,
//! validation, masking, audit log); the requests are marked as coming
//! through MCP, which the audit log shows as `mcp:<key id>`. In read-only
//! mode only the tools that read are offered, and a write tool called
//! anyway is refused.
//!
//! Why a crate of its own: the MCP SDK (rmcp) and the tool descriptions
//! are one concern, used by two front ends (the `herald mcp` command and
//! the server's `/mcp` route); keeping them here keeps both of those thin
//! and the server's API modules free of MCP.

mod answer;
mod api;
mod handler;
mod http;
mod prompts;
mod resources;
mod server;
mod stdio;
mod tools;

pub use api::Credentials;
pub use http::{HttpOptions, http_service};
pub use server::{Access, HeraldMcp, Options};
pub use stdio::serve_stdio;
