//! Digests: a batch of events for a chat or email provider becomes one
//! message ("12 events in the last 5 minutes", a line per event), rendered
//! by the provider like any event, so it keeps within the provider's limits.

use herald_providers::{EventInput, Provider, RenderError, Rendered, Severity};
use serde_json::json;

/// The event type a digest is rendered as.
pub(crate) const DIGEST_TYPE: &str = "herald.digest";

/// Renders `events` (oldest first) as one digest message.
pub(crate) fn render(
    provider: &Provider,
    events: &[EventInput<'_>],
) -> Result<Option<Rendered>, RenderError> {
    let notifications = events
        .iter()
        .map(|e| provider.notification(e))
        .collect::<Result<Vec<_>, _>>()?;
    let lines: Vec<String> = events
        .iter()
        .zip(&notifications)
        .map(|(e, n)| format!("• {} ({})", n.title, e.human_time()))
        .collect();
    let severity = if notifications.iter().any(|n| n.severity.is_failure()) {
        "error"
    } else if notifications
        .iter()
        .all(|n| n.severity == Severity::Success)
    {
        "success"
    } else {
        "info"
    };
    let (first, last) = (&events[0], &events[events.len() - 1]);
    let minutes = (last.timestamp_ms - first.timestamp_ms) / 60_000;
    let title = match (events.len(), minutes) {
        (1, _) => "1 event".to_string(),
        (n, 0) => format!("{n} events"),
        (n, 1) => format!("{n} events in the last minute"),
        (n, m) => format!("{n} events in the last {m} minutes"),
    };
    let data = json!({
        "title": title,
        "message": lines.join("\n"),
        "severity": severity,
        "source": "Herald digest",
    });
    let digest = EventInput {
        id: last.id,
        event_type: DIGEST_TYPE,
        timestamp_ms: last.timestamp_ms,
        data: &data,
    };
    provider.render(&digest)
}
