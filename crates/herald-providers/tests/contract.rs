//! The questions every provider answers before it is configured (batches,
//! credential URLs and settings, default rate), checked over
//! `ProviderKind::ALL`, and the batch each one renders.

mod common;

use common::*;
use herald_core::webhook::UrlPolicy;
use herald_providers::{EventInput, Provider, ProviderKind, Rendered, info};
use serde_json::{Map, Value, json};

/// A marker no fixture contains, so finding it means a secret leaked.
const MARK: &str = "SECRETMARK";

fn kinds_where(test: impl Fn(ProviderKind) -> bool) -> Vec<&'static str> {
    ProviderKind::ALL
        .into_iter()
        .filter(|k| test(*k))
        .map(ProviderKind::as_str)
        .collect()
}

#[test]
fn every_provider_answers_each_question() {
    assert_eq!(
        kinds_where(|k| !k.accepts_batches()),
        ["pagerduty", "jira", "github", "datadog"]
    );
    assert_eq!(
        kinds_where(ProviderKind::url_is_credential),
        [
            "slack",
            "teams",
            "discord",
            "mattermost",
            "google_chat",
            "zapier"
        ]
    );
    let secrets: Vec<(&str, &[&str])> = ProviderKind::ALL
        .into_iter()
        .filter(|k| !k.secret_settings().is_empty())
        .map(|k| (k.as_str(), k.secret_settings()))
        .collect();
    assert_eq!(
        secrets,
        [
            ("email", &["smtp.password"][..]),
            ("pagerduty", &["routing_key"]),
            ("jira", &["api_token"]),
            ("github", &["token"]),
            ("datadog", &["api_key"]),
        ]
    );
    for kind in ProviderKind::ALL {
        assert_eq!(
            kind.default_rate_limit(),
            info(kind).default_rate_limit,
            "{kind}"
        );
        let refused = kind.check_batch();
        assert_eq!(refused.is_ok(), kind.accepts_batches(), "{kind}");
        if let Err(e) = refused {
            assert_eq!(e.field, "batch");
            assert!(
                e.message
                    .starts_with(&format!("{kind} takes one event per request")),
                "{kind}: {}",
                e.message
            );
        }
    }
    assert_eq!(
        ProviderKind::Slack
            .default_rate_limit()
            .map(|r| r.per_second),
        Some(1.0)
    );
}

/// `url` with `MARK` added to its path, where hook URLs keep their secret.
fn marked(url: &str) -> String {
    let (path, query) = url
        .split_once('?')
        .map_or((url, None), |(p, q)| (p, Some(q)));
    let path = match path.strip_suffix('/') {
        Some(p) => format!("{p}/{MARK}/"),
        None => format!("{path}/{MARK}"),
    };
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    }
}

#[test]
fn every_provider_whose_url_is_a_credential_never_shows_it() {
    let data = training_data();
    let events = [event("job.done", &data), event("job.failed", &data)];
    for kind in ProviderKind::ALL
        .into_iter()
        .filter(|k| k.url_is_credential())
    {
        let (url, settings) = valid(kind);
        let url = marked(url.unwrap());
        let p = provider(kind, Some(&url), settings);
        let shown = format!("{p:?}");
        assert!(!shown.contains(MARK), "{kind}: {shown}");
        let Some(Rendered::Http(request)) = p.render(&events[0]).unwrap() else {
            panic!("{kind}: expected a request");
        };
        assert!(request.url.contains(MARK), "{kind}: the marker is sent");
        for shown in [
            format!("{request:?}"),
            request.redacted_url(),
            format!("{:?}", p.render_batch(&events).unwrap()),
        ] {
            assert!(!shown.contains(MARK), "{kind}: {shown}");
        }
    }
}

/// `settings` with `value` at the dotted `path`.
fn set_path(settings: &mut Value, path: &str, value: &str) {
    let mut at = settings;
    for key in path.split('.') {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        at = at
            .as_object_mut()
            .unwrap()
            .entry(key)
            .or_insert(Value::Null);
    }
    *at = json!(value);
}

#[test]
fn every_secret_setting_of_each_provider_is_masked() {
    // Long and plain enough to pass every credential's own checks.
    let secret = format!("{MARK}0123456789abcdef0123456789");
    let data = training_data();
    for kind in ProviderKind::ALL {
        let (url, mut settings) = valid(kind);
        for path in kind.secret_settings() {
            let top = path.split('.').next().unwrap();
            assert!(
                info(kind).settings.iter().any(|s| s.name == top),
                "{kind}: {path} is not in the catalog"
            );
            set_path(&mut settings, path, &secret);
        }
        // Parsing proves every secret path names a setting the provider reads.
        let p = Provider::parse(kind, url, &settings, &UrlPolicy::default())
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let shown = kind.mask_settings(&settings, |_| "***".to_string());
        assert!(!shown.to_string().contains(MARK), "{kind}: {shown}");
        for path in kind.secret_settings() {
            let pointer = format!("/{}", path.replace('.', "/"));
            assert_eq!(
                shown.pointer(&pointer),
                Some(&json!("***")),
                "{kind}: {path}"
            );
        }
        // Everything else is shown as it was.
        let mut unmasked = shown.clone();
        for path in kind.secret_settings() {
            set_path(&mut unmasked, path, &secret);
        }
        assert_eq!(unmasked, settings, "{kind}");
        assert!(!format!("{p:?}").contains(MARK), "{kind}");
        assert!(
            !format!("{:?}", p.render(&event("x.y", &data)).unwrap()).contains(MARK),
            "{kind}"
        );
    }
}

/// The limit the provider declares in its catalog.
fn limit(kind: ProviderKind, name: &str) -> usize {
    info(kind)
        .limits
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{kind} declares no limit {name}"))
        .value as usize
}

fn text(v: &Value) -> usize {
    chars(v)
}

/// Checks a rendered batch against the limits the provider declares, and
/// returns its text for the caller to look into.
fn assert_within_limits(kind: ProviderKind, rendered: &Rendered) -> String {
    let request = match rendered {
        Rendered::Email(m) => {
            assert_eq!(kind, ProviderKind::Email);
            assert!(m.subject.chars().count() <= limit(kind, "subject"));
            assert!(!m.subject.contains(['\r', '\n']));
            return format!("{}\n{}", m.subject, m.text);
        }
        Rendered::Http(request) => request,
    };
    let bytes = request.body.len();
    let b: Value = serde_json::from_slice(&request.body).unwrap();
    match kind {
        ProviderKind::Slack => {
            let top = b["blocks"].as_array().unwrap();
            let inner = b["attachments"][0]["blocks"].as_array().unwrap();
            assert!(top.len() + inner.len() <= limit(kind, "blocks"));
            assert!(text(&top[0]["text"]["text"]) <= limit(kind, "header_text"));
            assert!(text(&b["text"]) <= limit(kind, "text"));
            for block in top.iter().chain(inner) {
                if block["type"] == "section" {
                    assert!(text(&block["text"]["text"]) <= limit(kind, "section_text"));
                }
            }
        }
        ProviderKind::Teams => assert!(bytes <= limit(kind, "payload"), "{bytes}"),
        ProviderKind::GoogleChat => assert!(bytes <= limit(kind, "payload"), "{bytes}"),
        ProviderKind::Discord => {
            assert!(text(&b["content"]) <= limit(kind, "content"));
            let e = &b["embeds"][0];
            assert!(text(&e["title"]) <= limit(kind, "embed_title"));
            assert!(text(&e["description"]) <= limit(kind, "embed_description"));
            let fields = e["fields"].as_array().map_or(&[][..], Vec::as_slice);
            let total = text(&e["title"])
                + text(&e["description"])
                + text(&e["footer"]["text"])
                + fields
                    .iter()
                    .map(|f| text(&f["name"]) + text(&f["value"]))
                    .sum::<usize>();
            assert!(total <= limit(kind, "embed_total"), "{total}");
        }
        ProviderKind::Mattermost => {
            let a = &b["attachments"][0];
            let fields = a["fields"].as_array().map_or(&[][..], Vec::as_slice);
            let total = text(&b["text"])
                + text(&a["title"])
                + text(&a["text"])
                + text(&a["footer"])
                + fields
                    .iter()
                    .map(|f| text(&f["title"]) + text(&f["value"]))
                    .sum::<usize>();
            assert!(total <= limit(kind, "text"), "{total}");
        }
        ProviderKind::Zapier => assert!(b.is_array()),
        ProviderKind::Webhook
        | ProviderKind::Email
        | ProviderKind::PagerDuty
        | ProviderKind::Jira
        | ProviderKind::GitHub
        | ProviderKind::Datadog => panic!("{kind} rendered a batch request: {b}"),
    }
    b.to_string()
}

/// `n` events a minute apart, each with `data`.
fn batch<'a>(n: usize, data: &'a [Value]) -> Vec<EventInput<'a>> {
    (0..n)
        .map(|i| EventInput {
            id: EVENT_ID,
            event_type: "job.failed",
            timestamp_ms: TIMESTAMP_MS + i as i64 * 60_000,
            data: &data[i % data.len()],
        })
        .collect()
}

#[test]
fn every_provider_declaring_batches_renders_a_batch_of_3_as_one_request_within_its_limits() {
    // Titles far over every header limit, and text in several scripts.
    let data: Vec<Value> = (0..3)
        .map(|i| json!({"title": format!("Jöb {i} 🚀 {}", "x".repeat(400)), "message": "ü".repeat(5000)}))
        .collect();
    let events = batch(3, &data);
    for kind in ProviderKind::ALL {
        let (url, settings) = valid(kind);
        let p = provider(kind, url, settings);
        let rendered = p.render_batch(&events);
        if !kind.accepts_batches() {
            assert_eq!(rendered.unwrap_err().part(), "batch", "{kind}");
            continue;
        }
        let Some(rendered) = rendered.unwrap() else {
            // The server sends a plain webhook's own signed array.
            assert_eq!(kind, ProviderKind::Webhook);
            continue;
        };
        let shown = assert_within_limits(kind, &rendered);
        if kind == ProviderKind::Zapier {
            let Rendered::Http(request) = &rendered else {
                unreachable!()
            };
            let list: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(list.as_array().unwrap().len(), 3);
        } else {
            assert!(
                shown.contains("3 events in the last 2 minutes"),
                "{kind}: {shown}"
            );
            for i in 0..3 {
                assert!(shown.contains(&format!("Jöb {i}")), "{kind}: line {i}");
            }
        }
    }
}

#[test]
fn the_largest_batch_still_fits_every_provider() {
    // A webhook's `batch.max_events` is at most 1000.
    let data: Vec<Value> = (0..1000)
        .map(|i| json!({"title": format!("Deploy {i} of the payment service failed")}))
        .collect();
    let events = batch(1000, &data);
    for kind in ProviderKind::ALL
        .into_iter()
        .filter(|k| k.accepts_batches())
    {
        let (url, settings) = valid(kind);
        if let Some(rendered) = provider(kind, url, settings).render_batch(&events).unwrap() {
            let shown = assert_within_limits(kind, &rendered);
            assert!(
                shown.contains("Deploy 0 "),
                "{kind}: the oldest event is shown"
            );
            if kind != ProviderKind::Zapier {
                assert!(shown.contains("1000 events in the last 16 hours"), "{kind}");
                assert!(
                    shown.contains("Deploy 999 ") || shown.contains('…'),
                    "{kind}: every line, or a visible cut"
                );
            }
        }
    }
}
