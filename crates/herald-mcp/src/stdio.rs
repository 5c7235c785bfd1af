//! MCP over stdio, for `herald mcp`: the client starts the process and
//! speaks JSON-RPC on its stdin and stdout (logs go to stderr).

use rmcp::ServiceExt;

use crate::server::HeraldMcp;

/// Serves `server` on stdin/stdout until the client closes stdin.
pub async fn serve_stdio(server: HeraldMcp) -> Result<(), String> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("the MCP client did not start a session: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("the MCP session ended with an error: {e}"))?;
    Ok(())
}
