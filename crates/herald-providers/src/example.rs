//! The catalog's example: one event (`training.complete`, the notification
//! model's example) rendered by each provider with a valid configuration,
//! so a reader sees what the service will receive. The tests use the same
//! configurations.

use herald_core::webhook::UrlPolicy;
use serde_json::{Value, json};

use crate::{EventInput, Provider, ProviderKind, Rendered};

/// The example event's type.
pub const EXAMPLE_EVENT_TYPE: &str = "training.complete";

/// The example event's id.
pub const EXAMPLE_EVENT_ID: &str = "evt_01JCQ7V3ZK4N8T2M6P5R9S0W1X";

/// The example event's time: 2024-11-14T22:13:20Z.
pub const EXAMPLE_TIMESTAMP_MS: i64 = 1_731_622_400_000;

/// The example event's data.
pub fn example_data() -> Value {
    json!({
        "experiment_name": "ResNet34",
        "accuracy": 0.968,
        "duration": "14m 32s",
        "dashboard_url": "https://ml.example.com/experiments/resnet34",
    })
}

/// A valid production `url` and `settings` for each provider (made-up
/// addresses and keys).
pub fn example_config(kind: ProviderKind) -> (Option<&'static str>, Value) {
    match kind {
        ProviderKind::Webhook => (Some("https://receiver.example.com/hooks"), json!({})),
        ProviderKind::Slack => (
            Some("https://hooks.slack.com/services/T000/B000/XXXX"),
            json!({}),
        ),
        ProviderKind::Teams => (
            Some(
                "https://prod-00.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x",
            ),
            json!({}),
        ),
        ProviderKind::Discord => (Some("https://discord.com/api/webhooks/123/abc"), json!({})),
        ProviderKind::Mattermost => (Some("https://chat.example.com/hooks/abc"), json!({})),
        ProviderKind::GoogleChat => (
            Some("https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t"),
            json!({}),
        ),
        ProviderKind::Email => (None, json!({"to": ["ml-team@example.com"]})),
        ProviderKind::PagerDuty => (
            None,
            json!({"routing_key": "R0UT1NGKEY0000000000000000000000"}),
        ),
        ProviderKind::Jira => (
            Some("https://acme.atlassian.net"),
            json!({"email": "bot@acme.example", "api_token": "jira-token", "project_key": "ML"}),
        ),
        ProviderKind::GitHub => (None, json!({"token": "ghp_test", "repository": "acme/ml"})),
        ProviderKind::Datadog => (None, json!({"api_key": "0123456789abcdef0123456789abcdef"})),
        ProviderKind::Zapier => (
            Some("https://hooks.zapier.com/hooks/catch/123/abc/"),
            json!({}),
        ),
    }
}

/// What `kind` sends for the example event with its example configuration:
/// `{"method", "url", "body"}` for an HTTP service (the body as JSON),
/// `{"subject", "text", "html"}` for email. The plain webhook sends the
/// event as posted (`{"id", "type", "timestamp", "data"}`), signed.
pub fn example_payload(kind: ProviderKind) -> Value {
    let data = example_data();
    let event = EventInput {
        id: EXAMPLE_EVENT_ID,
        event_type: EXAMPLE_EVENT_TYPE,
        timestamp_ms: EXAMPLE_TIMESTAMP_MS,
        data: &data,
    };
    let (url, settings) = example_config(kind);
    let rendered = Provider::parse(kind, url, &settings, &UrlPolicy::default())
        .ok()
        .and_then(|p| p.render(&event).ok().flatten());
    match rendered {
        Some(Rendered::Http(request)) => json!({
            "method": request.method,
            "url": request.url,
            "body": serde_json::from_slice::<Value>(&request.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into())),
        }),
        Some(Rendered::Email(message)) => json!({
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
        }),
        None => json!({
            "id": EXAMPLE_EVENT_ID,
            "type": EXAMPLE_EVENT_TYPE,
            "timestamp": "2024-11-14T22:13:20.000Z",
            "data": data,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_renders_the_example() {
        for kind in ProviderKind::ALL {
            let example = example_payload(kind);
            let text = example.to_string();
            assert!(
                text.contains("ResNet34"),
                "{kind}: the example names the experiment: {example:#}"
            );
            let info = crate::info(kind);
            assert!(info.setup.len() >= 3, "{kind}: {:?}", info.setup);
        }
        assert!(example_payload(ProviderKind::Slack)["body"]["blocks"].is_array());
        assert!(example_payload(ProviderKind::Email)["subject"].is_string());
        assert_eq!(
            example_payload(ProviderKind::Webhook)["data"]["accuracy"],
            0.968
        );
    }
}
