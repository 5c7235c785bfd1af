//! Digests: a batch of events for a chat or email provider becomes one
//! message ("12 events in the last 5 minutes", a line per event), rendered
//! by the provider like any event, so it keeps within the provider's limits.

use serde_json::json;

use super::Provider;
use crate::error::RenderError;
use crate::notification::{EventInput, Severity};
use crate::rendered::Rendered;

/// The event type a digest is rendered as.
pub(crate) const DIGEST_TYPE: &str = "herald.digest";

/// Renders `events` (oldest first, at least one) as one digest message;
/// `left_out` more events, not listed, are counted in it (a scheduled
/// digest's cap).
pub(crate) fn render(
    provider: &Provider,
    events: &[EventInput<'_>],
    left_out: usize,
) -> Result<Option<Rendered>, RenderError> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Err(RenderError::new("batch", "has no events"));
    };
    let notifications = events
        .iter()
        .map(|e| provider.notification(e))
        .collect::<Result<Vec<_>, _>>()?;
    let mut lines: Vec<String> = events
        .iter()
        .zip(&notifications)
        .map(|(e, n)| format!("• {} ({})", n.title, e.human_time()))
        .collect();
    match left_out {
        0 => {}
        1 => lines.push("…and 1 more event, not listed".to_string()),
        n => lines.push(format!("…and {n} more events, not listed")),
    }
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
    let minutes = (last.timestamp_ms - first.timestamp_ms) / 60_000;
    let title = match (events.len() + left_out, minutes) {
        (1, _) => "1 event".to_string(),
        (n, 0) => format!("{n} events"),
        (n, 1) => format!("{n} events in the last minute"),
        (n, m) if m < 120 => format!("{n} events in the last {m} minutes"),
        (n, m) if m < 48 * 60 => format!("{n} events in the last {} hours", m / 60),
        (n, m) => format!("{n} events in the last {} days", m / (24 * 60)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::ProviderKind;
    use crate::rendered::EmailMessage;
    use herald_core::webhook::UrlPolicy;
    use serde_json::Value;

    /// 2024-11-14 22:13:20 UTC.
    const T0: i64 = 1_731_622_400_000;

    fn email(template: Value) -> Provider {
        let settings = json!({"to": ["ops@example.com"], "template": template});
        Provider::parse(ProviderKind::Email, None, &settings, &UrlPolicy::default()).unwrap()
    }

    /// The digest of events `(id, type, ms after T0, data)`, as an email.
    fn digest(provider: &Provider, events: &[(&str, &str, i64, Value)]) -> EmailMessage {
        let inputs: Vec<EventInput<'_>> = events
            .iter()
            .map(|(id, event_type, at, data)| EventInput {
                id,
                event_type,
                timestamp_ms: T0 + at,
                data,
            })
            .collect();
        match render(provider, &inputs, 0).unwrap() {
            Some(Rendered::Email(m)) => m,
            other => panic!("expected an email, got {other:?}"),
        }
    }

    fn at(offsets_ms: &[i64]) -> Vec<(&'static str, &'static str, i64, Value)> {
        offsets_ms
            .iter()
            .map(|ms| ("evt_1", "job.done", *ms, json!({})))
            .collect()
    }

    #[test]
    fn the_title_counts_the_events_and_the_minutes_they_span() {
        let p = email(json!({}));
        for (offsets, title) in [
            (&[0][..], "1 event"),
            (&[0, 59_000], "2 events"),
            (&[0, 90_000], "2 events in the last minute"),
            (&[0, 60_000, 310_000], "3 events in the last 5 minutes"),
            (&[0, 3 * 3_600_000 + 1], "2 events in the last 3 hours"),
            (&[0, 7 * 86_400_000], "2 events in the last 7 days"),
        ] {
            assert_eq!(digest(&p, &at(offsets)).subject, title, "{offsets:?}");
        }
    }

    #[test]
    fn a_line_per_event_oldest_first_titled_as_the_webhook_titles_it() {
        let p = email(json!({"title": "Job {{ event.data.n }} {{ event.type }}"}));
        let m = digest(
            &p,
            &[
                ("evt_a", "job.done", 0, json!({"n": 1})),
                ("evt_b", "job.done", 1_000, json!({"n": 2})),
                ("evt_c", "job.failed", 61_000, json!({"n": 3})),
            ],
        );
        assert!(
            m.text.contains(
                "• Job 1 job.done (2024-11-14 22:13:20 UTC)\n\
                 • Job 2 job.done (2024-11-14 22:13:21 UTC)\n\
                 • Job 3 job.failed (2024-11-14 22:14:21 UTC)"
            ),
            "{}",
            m.text
        );
        // The digest is rendered as an event of its own, named after the
        // newest event of the batch.
        assert!(m.text.contains("Herald digest · evt_c"), "{}", m.text);
    }

    #[test]
    fn the_colour_is_the_worst_news_of_the_batch() {
        let p = email(json!({}));
        let html = |types: &[&'static str]| {
            let events: Vec<_> = types.iter().map(|t| ("evt_1", *t, 0, json!({}))).collect();
            digest(&p, &events).html
        };
        let (error, success, info) = ("#E01E5A", "#2EB67D", "#1D9BD1");
        let failed = html(&["job.done", "job.failed", "job.started"]);
        assert!(
            failed.contains(error) && !failed.contains(success),
            "{failed}"
        );
        let done = html(&["job.done", "job.completed"]);
        assert!(done.contains(success) && !done.contains(error), "{done}");
        let mixed = html(&["job.done", "job.started"]);
        assert!(mixed.contains(info) && !mixed.contains(success), "{mixed}");
    }

    #[test]
    fn what_a_capped_digest_leaves_out_is_counted() {
        let p = email(json!({}));
        let data = json!({});
        let listed: Vec<EventInput<'_>> = (0..2)
            .map(|i| EventInput {
                id: "evt_1",
                event_type: "job.done",
                timestamp_ms: T0 + i,
                data: &data,
            })
            .collect();
        let Some(Rendered::Email(m)) = render(&p, &listed, 5).unwrap() else {
            panic!("expected an email");
        };
        assert_eq!(m.subject, "7 events");
        assert!(
            m.text.contains("…and 5 more events, not listed"),
            "{}",
            m.text
        );
        assert_eq!(m.text.matches("• ").count(), 2, "{}", m.text);
    }

    #[test]
    fn an_empty_batch_is_an_error() {
        let e = render(&email(json!({})), &[], 0).unwrap_err();
        assert_eq!(e.part(), "batch");
    }
}
