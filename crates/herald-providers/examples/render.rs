//! Writes what every provider sends for some events, one JSON file per
//! (provider, variant, event), for the provider schema checks
//! (`scripts/schema-check`) to validate with each service's own schema or
//! library.
//!
//! ```text
//! cargo run -p herald-providers --example render -- <out-dir> [<fixture.json>...]
//! ```
//!
//! A fixture is `{"type", "data"}`; its file stem names it. The documented
//! example event (`training.complete`, ResNet34) is always rendered too, as
//! `example`. Each file is `<provider>[_<variant>]__<fixture>.json`:
//!
//! - HTTP providers: the request body, exactly as sent.
//! - `email`: `{from, to, cc, bcc, subject, text, html}`.
//! - `webhook`: the plain webhook sends the event as it was posted, signed:
//!   `{secret, headers, body}` with the Standard Webhooks headers over the
//!   raw `body` text.
//!
//! `index.json` lists every file with its `provider`, `variant` (empty for
//! the defaults) and `fixture`, so a checker need not parse file names.
//!
//! Variants are the settings that change the shape of a payload (plain text
//! instead of cards, legacy Teams cards, digests of several events, …).

#[path = "../tests/common/mod.rs"]
mod common;

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use common::{EVENT_ID, event, training_data, with};
use herald_core::signing::{SigningSecret, sign_standard};
use herald_providers::{Provider, ProviderKind, Rendered, info};
use serde_json::{Value, json};

/// A fixed secret (the Standard Webhooks test vector's): it signs nothing real.
const SIGNING_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One event to render: its name in file names, type and data.
struct Fixture {
    name: String,
    event_type: String,
    data: Value,
}

/// One configuration of a provider whose payload has a shape of its own.
struct Variant {
    kind: ProviderKind,
    /// Empty for the provider's defaults.
    name: &'static str,
    /// Merged into the provider's valid settings.
    settings: Value,
    /// Render the event together with the example event as one batch.
    batch: bool,
}

fn variant(kind: ProviderKind, name: &'static str, settings: Value) -> Variant {
    Variant {
        kind,
        name,
        settings,
        batch: false,
    }
}

/// Mentions the webhook itself configures, in each service's own syntax:
/// a broadcast and an individual one.
fn configured_mentions(kind: ProviderKind) -> Option<Value> {
    Some(match kind {
        ProviderKind::Slack => json!(["<!channel>", "<@U123ABC>"]),
        ProviderKind::Discord => json!(["@here", "<@123456789012345678>"]),
        ProviderKind::GoogleChat => json!(["<users/all>", "<users/1234567890>"]),
        ProviderKind::Mattermost => json!(["@channel", "@alice"]),
        ProviderKind::Teams => json!(["@channel"]),
        _ => return None,
    })
}

/// The settings by which a webhook lets event data mention people: every
/// boolean setting named `*_from_data` in the provider's catalog. A
/// provider without any gets no such variant.
fn data_mention_opt_ins(kind: ProviderKind) -> Option<Value> {
    let opt_ins: serde_json::Map<String, Value> = info(kind)
        .settings
        .iter()
        .filter(|s| s.kind == "boolean" && s.name.ends_with("_from_data"))
        .map(|s| (s.name.to_string(), Value::Bool(true)))
        .collect();
    (!opt_ins.is_empty()).then_some(Value::Object(opt_ins))
}

fn variants() -> Vec<Variant> {
    use ProviderKind::*;
    let mut list = Vec::new();
    for kind in ProviderKind::ALL {
        list.push(variant(kind, "", json!({})));
        match kind {
            Slack | Discord | Mattermost | GoogleChat | Email => {
                list.push(variant(
                    kind,
                    "plain",
                    json!({"use_rich_formatting": false}),
                ));
            }
            Teams => list.push(variant(
                kind,
                "message_card",
                json!({"format": "message_card"}),
            )),
            PagerDuty => list.push(variant(kind, "resolve", json!({"resolve_on": ["*"]}))),
            GitHub => list.push(variant(
                kind,
                "comment",
                json!({"mode": "comment", "issue_number": "42"}),
            )),
            _ => {}
        }
        if let Some(mentions) = configured_mentions(kind) {
            let settings = json!({"mention_on_failure": true, "mentions": mentions});
            list.push(variant(kind, "mentions", settings.clone()));
            if let Some(Value::Object(opt_ins)) = data_mention_opt_ins(kind) {
                let mut settings = settings;
                settings.as_object_mut().unwrap().extend(opt_ins);
                list.push(variant(kind, "data_mentions", settings));
            }
        }
        if kind.accepts_batches() && kind != Webhook {
            list.push(Variant {
                batch: true,
                ..variant(kind, "digest", json!({}))
            });
        }
    }
    list
}

/// The extra settings the documented examples use (tests/snapshots.rs).
fn example_settings(kind: ProviderKind) -> Value {
    match kind {
        ProviderKind::Email => {
            json!({"from": "Herald <herald@example.com>", "subject_prefix": "[ml]"})
        }
        ProviderKind::GoogleChat => json!({"thread_key": "{{ event.data.experiment_name }}"}),
        ProviderKind::Jira => json!({"labels": ["herald"], "priority": "Medium"}),
        ProviderKind::GitHub => json!({"labels": ["training"]}),
        ProviderKind::Datadog => json!({"tags": ["env:prod"]}),
        _ => json!({}),
    }
}

/// The provider of a variant: valid settings, the documented examples'
/// extras, the variant's own. Invalid settings stop the run (`with` panics
/// naming the field): every variant must be a webhook one could save.
fn build(v: &Variant) -> Provider {
    let mut settings = example_settings(v.kind);
    for (k, value) in v.settings.as_object().unwrap() {
        settings[k] = value.clone();
    }
    with(v.kind, settings)
}

fn file_name(v: &Variant, fixture: &str) -> String {
    if v.name.is_empty() {
        format!("{}__{fixture}.json", v.kind)
    } else {
        format!("{}_{}__{fixture}.json", v.kind, v.name)
    }
}

/// What one (variant, fixture) writes, as JSON.
fn render(v: &Variant, fixture: &Fixture, example: &Fixture) -> Result<Value, Box<dyn Error>> {
    let this = event(&fixture.event_type, &fixture.data);
    if v.kind == ProviderKind::Webhook {
        return signed_webhook(fixture);
    }
    let provider = build(v);
    let rendered = if v.batch {
        let first = event(&example.event_type, &example.data);
        provider.render_batch(&[first, this])?
    } else {
        provider.render(&this)?
    };
    Ok(match rendered {
        Some(Rendered::Http(request)) => serde_json::from_slice(&request.body)?,
        Some(Rendered::Email(mail)) => json!({
            "from": mail.from,
            "to": mail.to,
            "cc": mail.cc,
            "bcc": mail.bcc,
            "subject": mail.subject,
            "text": mail.text,
            "html": mail.html,
        }),
        None => return Err(format!("{} rendered nothing", v.kind).into()),
    })
}

/// The plain webhook's request: the posted event, unchanged, with the
/// Standard Webhooks headers Herald signs it with.
fn signed_webhook(fixture: &Fixture) -> Result<Value, Box<dyn Error>> {
    let secret = SigningSecret::parse(SIGNING_SECRET)?;
    let body = serde_json::to_string(&json!({"type": fixture.event_type, "data": fixture.data}))?;
    // Receivers refuse signatures older than a few minutes (replay
    // protection), so this one is made now, unlike the events' own time.
    let timestamp = chrono::Utc::now().timestamp();
    Ok(json!({
        "secret": SIGNING_SECRET,
        "headers": {
            "webhook-id": EVENT_ID,
            "webhook-timestamp": timestamp.to_string(),
            "webhook-signature": sign_standard(&secret, EVENT_ID, timestamp, body.as_bytes()),
        },
        "body": body,
    }))
}

fn read_fixture(path: &Path) -> Result<Fixture, Box<dyn Error>> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| format!("{}: no file name", path.display()))?
        .to_string();
    let event_type = value["type"]
        .as_str()
        .ok_or_else(|| format!("{}: no \"type\"", path.display()))?
        .to_string();
    Ok(Fixture {
        name,
        event_type,
        data: value["data"].clone(),
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: render <out-dir> [<fixture.json>...]")?,
    );
    let example = Fixture {
        name: "example".to_string(),
        event_type: "training.complete".to_string(),
        data: training_data(),
    };
    let mut fixtures = Vec::new();
    for path in args {
        fixtures.push(read_fixture(Path::new(&path))?);
    }
    fs::create_dir_all(&out)?;
    let mut index = Vec::new();
    for v in variants() {
        for fixture in std::iter::once(&example).chain(&fixtures) {
            let file = file_name(&v, &fixture.name);
            let value = render(&v, fixture, &example).map_err(|e| format!("{file}: {e}"))?;
            fs::write(out.join(&file), serde_json::to_vec_pretty(&value)?)?;
            index.push(json!({
                "file": file,
                "provider": v.kind.as_str(),
                "variant": v.name,
                "fixture": fixture.name,
            }));
        }
    }
    fs::write(out.join("index.json"), serde_json::to_vec_pretty(&index)?)?;
    println!("wrote {} renders to {}", index.len(), out.display());
    Ok(())
}
