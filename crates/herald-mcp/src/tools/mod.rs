//! The tools, one module per resource, each named `<resource>.<verb>` as
//! the API's routes are. Each tool is one API call (two at most) made with
//! the caller's credentials; its arguments are a typed struct whose JSON
//! Schema (schemars, from the doc comments) is what the client shows the
//! model.

mod catalog;
mod deliveries;
mod events;
mod webhooks;

use rmcp::handler::server::router::tool::ToolRouter;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::server::HeraldMcp;

pub(crate) use deliveries::delivery_line;
pub(crate) use webhooks::webhook_detail;

/// Every tool that changes something (or sends a request to a
/// destination): what `--read-only` leaves out and refuses.
pub(crate) const WRITE_TOOLS: &[&str] = &[
    "webhooks.create",
    "webhooks.update",
    "webhooks.delete",
    "webhooks.pause",
    "webhooks.resume",
    "webhooks.test",
    "webhooks.replay_failed",
    "events.send",
    "events.replay",
    "events.cancel",
    "deliveries.retry",
];

/// All the tools.
pub(crate) fn router() -> ToolRouter<HeraldMcp> {
    HeraldMcp::webhook_tools()
        + HeraldMcp::event_tools()
        + HeraldMcp::delivery_tools()
        + HeraldMcp::catalog_tools()
}

/// An argument enum as the API spells it (`active`, `1h`, …).
fn text_of(value: &impl Serialize) -> String {
    match serde_json::to_value(value).expect("arguments serialise") {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    }
}

/// The tool's arguments as the client's request type (same field names,
/// the API's).
fn convert<T: DeserializeOwned>(arguments: &impl Serialize) -> Result<T, String> {
    let value = serde_json::to_value(arguments).map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| format!("invalid arguments: {e}"))
}

/// An RFC 3339 time argument.
fn time(name: &str, text: Option<&str>) -> Result<Option<herald_client::Time>, String> {
    text.map(|text| {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| {
                format!("`{name}` is not an RFC 3339 time such as 2026-11-23T10:00:00Z: {e}")
            })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The read-only list and the tools' own hints say the same thing, so
    /// a new write tool cannot slip into read-only mode unnoticed.
    #[test]
    fn write_tools_are_exactly_those_not_marked_read_only() {
        let tools = router().list_all();
        for tool in &tools {
            let read_only = tool
                .annotations
                .as_ref()
                .and_then(|a| a.read_only_hint)
                .unwrap_or(false);
            assert_eq!(
                read_only,
                !WRITE_TOOLS.contains(&tool.name.as_ref()),
                "{}: read_only_hint and WRITE_TOOLS disagree",
                tool.name
            );
            assert!(
                tool.description.as_deref().is_some_and(|d| d.len() > 20),
                "{} says what it does",
                tool.name
            );
        }
        for name in WRITE_TOOLS {
            assert!(tools.iter().any(|t| t.name == *name), "{name} is a tool");
        }
    }
}
