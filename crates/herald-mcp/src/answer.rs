//! What a tool answers: a short text an agent (or the person reading over
//! its shoulder) can take in at a glance, then the API's JSON, both as
//! text (what every client shows the model) and as structured content
//! (for clients that read it). Failures are tool errors (`isError`), not
//! protocol errors, so the agent reads the API's own message and field and
//! can correct itself.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

/// A successful call: `summary`, then the API's answer.
pub(crate) fn ok(summary: String, answer: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![
        ContentBlock::text(summary),
        ContentBlock::text(pretty(&answer)),
    ]);
    result.structured_content = Some(as_object(answer));
    result
}

/// A failed call, saying what the API said: its status, the kind of
/// failure and the API's error body (code, message, field).
pub(crate) fn failed(tool: &str, error: &herald_client::Error) -> CallToolResult {
    let mut structured = json!({"kind": error.kind().as_str()});
    if let Some(status) = error.status() {
        structured["status"] = status.into();
    }
    match error {
        herald_client::Error::Api { body, .. } => {
            structured["answer"] = serde_json::to_value(body).unwrap_or(Value::Null);
        }
        other => structured["message"] = other.to_string().into(),
    }
    let mut result =
        CallToolResult::error(vec![ContentBlock::text(format!("{tool} failed: {error}"))]);
    result.structured_content = Some(structured);
    result
}

/// A call that could not be made (arguments that make no request, a
/// request without credentials): nothing was sent.
pub(crate) fn not_sent(tool: &str, why: &str) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(format!(
        "{tool}: {why}. Nothing was sent."
    ))]);
    result.structured_content = Some(json!({"kind": "validation", "message": why}));
    result
}

/// A tool this server does not offer in its mode.
pub(crate) fn refused(tool: &str) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(format!(
        "{tool} changes Herald, and this MCP server is read-only: it offers only the \
         tools that read. Nothing was changed."
    ))]);
    result.structured_content = Some(json!({"refused": tool, "reason": "read_only"}));
    result
}

/// Structured content must be an object; a bare value is wrapped.
fn as_object(value: Value) -> Value {
    match value {
        Value::Object(_) => value,
        Value::Null => json!({}),
        other => json!({ "value": other }),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `s` cut to `max` characters with a visible "…".
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A field of `value` as text, `-` when absent or null.
pub(crate) fn field(value: &Value, name: &str) -> String {
    match &value[name] {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `data` array of a page, and how to ask for the next one.
pub(crate) fn page(answer: &Value) -> (&[Value], Option<&str>) {
    let rows = answer["data"].as_array().map_or(&[][..], Vec::as_slice);
    (rows, answer["next_cursor"].as_str())
}

/// One line per row (at most `shown`), after a count, with the cursor of
/// the next page if there is one.
pub(crate) fn list_summary(
    (one, many): (&str, &str),
    answer: &Value,
    shown: usize,
    line: impl Fn(&Value) -> String,
) -> String {
    let (rows, next) = page(answer);
    let mut out = match rows.len() {
        0 => format!("No {many}."),
        1 => format!("1 {one}:"),
        n => format!("{n} {many}:"),
    };
    for row in rows.iter().take(shown) {
        out.push_str("\n- ");
        out.push_str(&line(row));
    }
    if rows.len() > shown {
        out.push_str(&format!(
            "\n… and {} more (in the JSON below)",
            rows.len() - shown
        ));
    }
    if let Some(cursor) = next {
        out.push_str(&format!("\nMore on the next page: cursor `{cursor}`."));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_text_and_an_object() {
        let r = ok("1 webhook".into(), json!([1, 2]));
        assert_eq!(r.is_error, Some(false));
        assert_eq!(r.content.len(), 2);
        assert_eq!(r.structured_content, Some(json!({"value": [1, 2]})));
        let r = not_sent("webhooks.replay_failed", "`since` is not an RFC 3339 time");
        assert_eq!(r.is_error, Some(true));
        let text = r.content[0].as_text().unwrap().text.clone();
        assert!(text.ends_with("Nothing was sent."), "{text}");
    }

    #[test]
    fn lists_say_how_many_and_where_the_rest_is() {
        let answer = json!({"data": [{"id": "a"}, {"id": "b"}, {"id": "c"}], "next_cursor": "xyz"});
        let s = list_summary(("webhook", "webhooks"), &answer, 2, |w| field(w, "id"));
        assert_eq!(
            s,
            "3 webhooks:\n- a\n- b\n… and 1 more (in the JSON below)\nMore on the next page: cursor `xyz`."
        );
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
