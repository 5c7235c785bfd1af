//! Zapier catch hooks: the event as JSON, plus the normalized notification
//! under `notification`, so a Zap can map either.
//!
//! Body: `{"id", "type", "timestamp", "data", "notification": {title, body,
//! severity, fields: [{label, value}], links: [{label, url}], mentions,
//! footer}}`; a batch is a JSON array of such objects.

use serde_json::{Value, json};

use crate::catalog::{self, ProviderInfo, setting};
use crate::facts::{Batches, Facts};
use crate::notification::{EventInput, Notification};
use crate::rendered::HttpRequest;
use crate::settings::{SecretUrl, Settings, UrlRule, destination};
use crate::template::TemplateBuilder;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

#[derive(Debug, Clone)]
pub(crate) struct Zapier {
    url: SecretUrl,
    /// For the flow-control feature that will batch deliveries.
    pub(crate) batch_size: Option<u32>,
    pub(crate) batch_timeout_ms: Option<u32>,
}

impl Zapier {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        let url = destination(
            url,
            None,
            urls,
            UrlRule::Host {
                hosts: &["hooks.zapier.com"],
                path_prefix: "/hooks/catch/",
                example: "https://hooks.zapier.com/hooks/catch/123/abc/",
            },
        )?;
        let batch_size: Option<u32> = s.take("batch_size")?;
        if batch_size.is_some_and(|n| !(1..=100).contains(&n)) {
            return Err(ValidationError::new(
                "settings.batch_size",
                "must be between 1 and 100",
            ));
        }
        let batch_timeout_ms: Option<u32> = s.take("batch_timeout_ms")?;
        if batch_timeout_ms.is_some_and(|n| !(100..=60_000).contains(&n)) {
            return Err(ValidationError::new(
                "settings.batch_timeout_ms",
                "must be between 100 and 60000",
            ));
        }
        s.template(t)?;
        Ok(Self {
            url: SecretUrl(url),
            batch_size,
            batch_timeout_ms,
        })
    }

    pub(crate) fn render(&self, n: &Notification, event: &EventInput<'_>) -> HttpRequest {
        HttpRequest::post_json(self.url.0.as_str(), &envelope(n, event))
    }

    pub(crate) fn render_batch(
        &self,
        ns: &[Notification],
        events: &[EventInput<'_>],
    ) -> HttpRequest {
        let list: Vec<Value> = ns.iter().zip(events).map(|(n, e)| envelope(n, e)).collect();
        HttpRequest::post_json(self.url.0.as_str(), &Value::Array(list))
    }
}

fn envelope(n: &Notification, event: &EventInput<'_>) -> Value {
    json!({
        "id": event.id,
        "type": event.event_type,
        "timestamp": event.timestamp(),
        "data": event.data,
        "notification": n,
    })
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Array,
    url_is_credential: true,
    secret_settings: &[],
};

pub(crate) fn info() -> ProviderInfo {
    ProviderInfo {
        name: "zapier",
        setup: vec![
            "In Zapier, create a Zap with the trigger \"Webhooks by Zapier\" → Catch Hook.",
            "Copy the custom webhook URL (https://hooks.zapier.com/hooks/catch/…).",
            "Create the webhook with `provider: \"zapier\"` and that `url`, then send a test event so Zapier learns the fields.",
            "Build the rest of the Zap on those fields; Zapier answers 200 to every request, so failures show in the Zap's history.",
        ],
        title: "Zapier",
        description: "Posts the event ({id, type, timestamp, data}) with the normalized notification \
                      under `notification` to a Zapier catch hook.",
        url: catalog::url(
            true,
            None,
            "The catch hook URL, https://hooks.zapier.com/hooks/catch/…",
        ),
        settings: vec![
            setting(
                "batch_size",
                "integer",
                "Events per request (1–100), sent as a JSON array. Reserved for flow control: \
                 validated now, applied when batching ships.",
            ),
            setting(
                "batch_timeout_ms",
                "integer",
                "How long a partial batch waits (100–60000 ms). Reserved for flow control.",
            ),
            catalog::template_setting(),
        ],
        limits: Vec::new(),
        default_rate_limit: None,
    }
}
