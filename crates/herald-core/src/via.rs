//! How a request says which of Herald's own front ends made it, so the
//! audit log can tell an agent's changes (through the MCP server) from a
//! person's. The mark is a label, not a credential: the server only ever
//! prefixes the actor that the request's token proves (`mcp:key_…`,
//! `mcp:admin`), so a caller who sets it by hand names no one else.

/// The request header carrying the mark.
pub const HEADER: &str = "X-Herald-Via";
/// The mark of Herald's MCP server; any other value is ignored.
pub const MCP: &str = "mcp";
