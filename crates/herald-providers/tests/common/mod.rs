//! Shared fixtures: the documented example event and a valid configuration
//! of every provider.
#![allow(dead_code, unreachable_pub)]

use herald_core::webhook::UrlPolicy;
use herald_providers::{EventInput, HttpRequest, Provider, ProviderKind, Rendered};
use serde_json::Value;

pub const EVENT_ID: &str = herald_providers::EXAMPLE_EVENT_ID;
/// 2024-11-14T22:13:20Z
pub const TIMESTAMP_MS: i64 = herald_providers::EXAMPLE_TIMESTAMP_MS;

/// The example from the notification model.
pub fn training_data() -> Value {
    herald_providers::example_data()
}

pub fn event<'a>(event_type: &'a str, data: &'a Value) -> EventInput<'a> {
    EventInput {
        id: EVENT_ID,
        event_type,
        timestamp_ms: TIMESTAMP_MS,
        data,
    }
}

/// A valid production (non-dev) `url` and `settings` for each provider.
pub fn valid(kind: ProviderKind) -> (Option<&'static str>, Value) {
    herald_providers::example_config(kind)
}

pub fn provider(kind: ProviderKind, url: Option<&str>, settings: Value) -> Provider {
    Provider::parse(kind, url, &settings, &UrlPolicy::default())
        .unwrap_or_else(|e| panic!("{kind}: {e}"))
}

/// `valid(kind)` with extra settings merged in.
pub fn with(kind: ProviderKind, extra: Value) -> Provider {
    let (url, mut settings) = valid(kind);
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    provider(kind, url, settings)
}

pub fn http(provider: &Provider, event: &EventInput<'_>) -> HttpRequest {
    match provider.render(event).unwrap() {
        Some(Rendered::Http(req)) => req,
        other => panic!("expected an HTTP request, got {other:?}"),
    }
}

pub fn body(provider: &Provider, event: &EventInput<'_>) -> Value {
    serde_json::from_slice(&http(provider, event).body).unwrap()
}

/// Characters, the unit of most limits.
pub fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// The hostile fixture `name` of `tests/fixtures/hostile/` (`{"type",
/// "data"}`): its type and data.
pub fn fixture(name: &str) -> (String, Value) {
    let path = format!(
        "{}/tests/fixtures/hostile/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    (v["type"].as_str().unwrap().to_string(), v["data"].clone())
}
