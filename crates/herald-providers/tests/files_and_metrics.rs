//! Email attachments from event data and Datadog metric points: what each
//! renders for an event, which settings are refused (naming the field), and
//! which events fail to render (naming the part) instead of sending
//! something else.

mod common;

use base64::Engine;
use common::*;
use herald_core::webhook::UrlPolicy;
use herald_providers::{Provider, ProviderKind, Rendered};
use serde_json::{Value, json};

fn email(provider: &Provider, data: &Value) -> herald_providers::EmailMessage {
    match provider.render(&event("report.ready", data)).unwrap() {
        Some(Rendered::Email(m)) => m,
        other => panic!("expected an email, got {other:?}"),
    }
}

fn refused(kind: ProviderKind, extra: Value) -> (String, String) {
    let (url, mut settings) = valid(kind);
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let e = Provider::parse(kind, url, &settings, &UrlPolicy::default()).expect_err("refused");
    (e.field, e.message)
}

#[test]
fn attachments_are_sent_only_when_the_webhook_allows_them() {
    let bytes: Vec<u8> = (0..=255).collect();
    let data = json!({
        "title": "Q3 report",
        "attachments": [{
            "filename": "../reports/q3.bin",
            "content_type": "application/x-herald",
            "content_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
        }],
    });
    let allowed = with(ProviderKind::Email, json!({"attachments": true}));
    let m = email(&allowed, &data);
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].filename, "q3.bin");
    assert_eq!(m.attachments[0].content_type, "application/x-herald");
    assert_eq!(m.attachments[0].content, bytes);
    for part in [&m.text, &m.html] {
        assert!(
            !part.contains("content_base64") && !part.contains("AAECAwQF"),
            "{part}"
        );
    }
    assert!(
        !format!("{m:?}").contains("0, 1, 2"),
        "Debug shows no bytes"
    );

    for settings in [json!({}), json!({"attachments": false})] {
        let off = with(ProviderKind::Email, settings);
        assert!(email(&off, &data).attachments.is_empty());
        // Not read at all: a broken list is no error either.
        assert!(
            email(&off, &json!({"attachments": "nonsense"}))
                .attachments
                .is_empty()
        );
    }
    let e = allowed
        .render(&event(
            "report.ready",
            &json!({"attachments": [{"content_base64": "%%"}]}),
        ))
        .unwrap_err();
    assert_eq!(e.part(), "data.attachments[0].content_base64");
    let (field, _) = refused(ProviderKind::Email, json!({"attachments": "yes"}));
    assert_eq!(field, "settings.attachments");
}

#[test]
fn a_digest_carries_no_files() {
    let allowed = with(ProviderKind::Email, json!({"attachments": true}));
    let data = json!({"attachments": [{"content_base64": "eA=="}]});
    let events = [event("a.b", &data), event("a.b", &data)];
    match allowed.render_batch(&events).unwrap() {
        Some(Rendered::Email(m)) => assert!(m.attachments.is_empty()),
        other => panic!("{other:?}"),
    }
}

fn datadog(metric: Value) -> Provider {
    with(
        ProviderKind::Datadog,
        json!({"tags": ["team:ml"], "metric": metric}),
    )
}

#[test]
fn a_metric_webhook_posts_one_series_point_per_event() {
    let p = datadog(json!({
        "name": "jobs.duration_ms",
        "value": "/data/timing/total_ms",
        "tags": ["env:{{ event.data.env }}", "static:yes", "region:{{ event.data.none }}"],
    }));
    let data = json!({"env": "prod", "timing": {"total_ms": 1234.5}});
    let request = http(&p, &event("job.finished", &data));
    assert_eq!(request.url, "https://api.datadoghq.com/api/v2/series");
    assert_eq!(
        request.header_value("dd-api-key"),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        request
            .masked_headers()
            .iter()
            .find(|(n, _)| n == "dd-api-key")
            .unwrap()
            .1,
        "***"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&request.body).unwrap(),
        json!({"series": [{
            "metric": "jobs.duration_ms",
            "type": 3,
            "points": [{"timestamp": TIMESTAMP_MS / 1000, "value": 1234.5}],
            "tags": ["team:ml", "env:prod", "static:yes", "event_type:job.finished", "source:herald"],
        }]})
    );

    let count = datadog(json!({
        "name": "{{ event.type | replace('-', '_') }}.count",
        "value": 1,
        "type": "count",
        "interval": 60,
    }));
    let b = body(&count, &event("deploy-done", &json!({})));
    assert_eq!(b["series"][0]["metric"], "deploy_done.count");
    assert_eq!(b["series"][0]["type"], 1);
    assert_eq!(b["series"][0]["interval"], 60);
    assert_eq!(b["series"][0]["points"][0]["value"], 1.0);

    let rate =
        datadog(json!({"name": "x.rate", "value": "{{ event.data.n * 2 }}", "type": "rate"}));
    let b = body(&rate, &event("a.b", &json!({"n": 21})));
    assert_eq!(
        (
            b["series"][0]["type"].clone(),
            b["series"][0]["points"][0]["value"].clone()
        ),
        (json!(2), json!(42.0))
    );
    let text = datadog(json!({"name": "x", "value": "/data/n"}));
    assert_eq!(
        body(&text, &event("a.b", &json!({"n": " 7 "})))["series"][0]["points"][0]["value"],
        7.0
    );

    // Without `metric` the same webhook posts events, as before.
    let events = with(ProviderKind::Datadog, json!({}));
    assert!(
        http(&events, &event("a.b", &data))
            .url
            .ends_with("/api/v1/events")
    );
}

#[test]
fn a_missing_or_non_numeric_value_fails_the_render() {
    let p = datadog(json!({"name": "jobs.duration_ms", "value": "/data/duration_ms"}));
    for (data, says) in [
        (json!({}), "/data/duration_ms is not in this event"),
        (
            json!({"duration_ms": "slow"}),
            "/data/duration_ms is \"slow\", not a number",
        ),
        (json!({"duration_ms": null}), "not a number"),
        (json!({"duration_ms": [1]}), "not a number"),
    ] {
        let e = p.render(&event("a.b", &data)).unwrap_err();
        assert_eq!(e.part(), "metric.value");
        assert!(e.message().contains(says), "{e}");
    }
    let t = datadog(json!({"name": "x", "value": "{{ event.data.nope }}"}));
    assert_eq!(
        t.render(&event("a.b", &json!({}))).unwrap_err().part(),
        "metric.value"
    );
    let n = datadog(json!({"name": "{{ event.data.name }}", "value": 1}));
    let e = n
        .render(&event("a.b", &json!({"name": "not valid!"})))
        .unwrap_err();
    assert_eq!(e.part(), "metric.name");
    assert!(e.message().contains("not a Datadog metric name"), "{e}");
}

#[test]
fn metric_settings_are_refused_naming_the_field() {
    let ok = json!({"name": "a.b", "value": 1});
    let merged = |extra: Value| {
        let mut m = ok.clone();
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        json!({"metric": m})
    };
    for (settings, field) in [
        (json!({"metric": {"value": 1}}), "settings.metric.name"),
        (json!({"metric": {"name": "a.b"}}), "settings.metric.value"),
        (merged(json!({"name": "9lives"})), "settings.metric.name"),
        (
            merged(json!({"name": "{{ event.data.x | nofilter }}"})),
            "settings.metric.name",
        ),
        (merged(json!({"value": "/id"})), "settings.metric.value"),
        (
            merged(json!({"value": "duration"})),
            "settings.metric.value",
        ),
        (merged(json!({"value": true})), "settings.metric.value"),
        (merged(json!({"value": "{{ oops"})), "settings.metric.value"),
        (merged(json!({"type": "histogram"})), "settings.metric.type"),
        (merged(json!({"interval": 10})), "settings.metric.interval"),
        (
            merged(json!({"type": "count", "interval": 0})),
            "settings.metric.interval",
        ),
        (
            merged(json!({"tags": ["has space"]})),
            "settings.metric.tags[0]",
        ),
        (
            merged(json!({"tags": ["ok", "{{ bad"]})),
            "settings.metric.tags[1]",
        ),
        (
            merged(json!({"tags": (0..101).map(|i| format!("t:{i}")).collect::<Vec<_>>()})),
            "settings.metric.tags",
        ),
        (merged(json!({"unit": "ms"})), "settings.metric.unit"),
        (json!({"metric": "a.b"}), "settings.metric"),
        (
            json!({"metric": ok.clone(), "priority": "low"}),
            "settings.priority",
        ),
        (
            json!({"metric": ok.clone(), "aggregation_key": "k"}),
            "settings.aggregation_key",
        ),
        (
            json!({"metric": ok.clone(), "template": {"title": "x"}}),
            "settings.template",
        ),
    ] {
        let (got, message) = refused(ProviderKind::Datadog, settings.clone());
        assert_eq!(got, field, "{settings}: {message}");
    }
}
