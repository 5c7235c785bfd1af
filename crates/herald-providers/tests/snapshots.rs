//! What each service receives for the documented example event
//! (`training.complete`, ResNet34). The snapshots under `tests/snapshots/`
//! are the reviewable record of every payload.

mod common;

use common::*;
use herald_providers::{ProviderKind, Rendered};
use serde_json::{Value, json};

/// Method, URL, headers and the parsed JSON body of a request.
fn request(provider: &herald_providers::Provider, event_type: &str) -> Value {
    let data = training_data();
    let req = http(provider, &event(event_type, &data));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    json!({
        "method": req.method.as_str(),
        "url": req.url,
        "headers": req.headers,
        "secret_headers": req.secret_headers,
        "body": body,
    })
}

fn snapshot(kind: ProviderKind) -> Value {
    let (url, settings) = valid(kind);
    request(&provider(kind, url, settings), "training.complete")
}

#[test]
fn webhook_renders_nothing() {
    let (url, settings) = valid(ProviderKind::Webhook);
    let data = training_data();
    let p = provider(ProviderKind::Webhook, url, settings);
    assert!(
        p.render(&event("training.complete", &data))
            .unwrap()
            .is_none()
    );
}

#[test]
fn slack() {
    insta::assert_json_snapshot!("slack", snapshot(ProviderKind::Slack));
}

#[test]
fn slack_plain_with_mentions() {
    let p = with(
        ProviderKind::Slack,
        json!({"use_rich_formatting": false, "mention_on_failure": true, "mentions": ["<!channel>"]}),
    );
    insta::assert_json_snapshot!("slack_plain_failed", request(&p, "training.failed"));
}

#[test]
fn mattermost() {
    insta::assert_json_snapshot!("mattermost", snapshot(ProviderKind::Mattermost));
}

#[test]
fn teams_adaptive_card() {
    insta::assert_json_snapshot!("teams_adaptive_card", snapshot(ProviderKind::Teams));
}

#[test]
fn teams_message_card() {
    let p = provider(
        ProviderKind::Teams,
        Some("https://acme.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi"),
        json!({"format": "message_card"}),
    );
    insta::assert_json_snapshot!("teams_message_card", request(&p, "training.complete"));
}

#[test]
fn discord() {
    insta::assert_json_snapshot!("discord", snapshot(ProviderKind::Discord));
}

#[test]
fn google_chat() {
    let p = with(
        ProviderKind::GoogleChat,
        json!({"thread_key": "{{ event.data.experiment_name }}"}),
    );
    insta::assert_json_snapshot!("google_chat", request(&p, "training.complete"));
}

#[test]
fn email() {
    let p = with(
        ProviderKind::Email,
        json!({"from": "Herald <herald@example.com>", "subject_prefix": "[ml]"}),
    );
    let data = training_data();
    let Some(Rendered::Email(mail)) = p.render(&event("training.complete", &data)).unwrap() else {
        panic!("expected an email");
    };
    insta::assert_json_snapshot!(
        "email_headers",
        json!({"from": mail.from, "to": mail.to, "cc": mail.cc, "bcc": mail.bcc, "subject": mail.subject})
    );
    insta::assert_snapshot!("email_text", mail.text);
    insta::assert_snapshot!("email_html", mail.html);
}

#[test]
fn pagerduty_trigger() {
    insta::assert_json_snapshot!("pagerduty_trigger", snapshot(ProviderKind::PagerDuty));
}

#[test]
fn pagerduty_resolve() {
    let p = with(
        ProviderKind::PagerDuty,
        json!({"resolve_on": ["*.complete"]}),
    );
    insta::assert_json_snapshot!("pagerduty_resolve", request(&p, "training.complete"));
}

#[test]
fn jira() {
    let p = with(
        ProviderKind::Jira,
        json!({"labels": ["herald"], "priority": "Medium"}),
    );
    insta::assert_json_snapshot!("jira", request(&p, "training.complete"));
}

#[test]
fn github_issue() {
    let p = with(ProviderKind::GitHub, json!({"labels": ["training"]}));
    insta::assert_json_snapshot!("github_issue", request(&p, "training.complete"));
}

#[test]
fn github_comment() {
    let p = with(
        ProviderKind::GitHub,
        json!({"mode": "comment", "issue_number": "42"}),
    );
    insta::assert_json_snapshot!("github_comment", request(&p, "training.complete"));
}

#[test]
fn datadog() {
    let p = with(ProviderKind::Datadog, json!({"tags": ["env:prod"]}));
    insta::assert_json_snapshot!("datadog", request(&p, "training.complete"));
}

#[test]
fn zapier() {
    insta::assert_json_snapshot!("zapier", snapshot(ProviderKind::Zapier));
}

/// What every provider sends for the hostile fixture `name`, with `extra`
/// settings where the provider takes them: the reviewable record of how
/// event data is escaped, normalised and kept from pinging.
fn hostile(name: &str, extra: impl Fn(ProviderKind) -> Value) -> Value {
    let path = format!(
        "{}/tests/fixtures/hostile/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let event_type = fixture["type"].as_str().unwrap();
    let mut out = serde_json::Map::new();
    for kind in ProviderKind::ALL {
        let p = with(kind, extra(kind));
        let sent = match p.render(&event(event_type, &fixture["data"])).unwrap() {
            None => continue,
            Some(Rendered::Email(m)) => {
                json!({"subject": m.subject, "text": m.text, "html": m.html})
            }
            Some(Rendered::Http(req)) => serde_json::from_slice(&req.body).unwrap(),
        };
        out.insert(kind.as_str().to_string(), sent);
    }
    Value::Object(out)
}

/// The providers with a mention syntax, which take the opt-ins.
fn takes_mention_opt_ins(kind: ProviderKind) -> bool {
    matches!(
        kind,
        ProviderKind::Slack
            | ProviderKind::Discord
            | ProviderKind::Mattermost
            | ProviderKind::GoogleChat
    )
}

#[test]
fn hostile_urls() {
    insta::assert_json_snapshot!("hostile_urls", hostile("urls", |_| json!({})));
}

#[test]
fn hostile_mentions() {
    insta::assert_json_snapshot!("hostile_mentions", hostile("mentions", |_| json!({})));
}

#[test]
fn hostile_mentions_opted_in() {
    let opted_in = |kind| {
        if takes_mention_opt_ins(kind) {
            json!({"mentions_from_data": true, "allow_broadcast_from_data": true})
        } else {
            json!({})
        }
    };
    insta::assert_json_snapshot!("hostile_mentions_opted_in", hostile("mentions", opted_in));
}
