//! Behaviour of the public API: derivation, templates, settings validation,
//! limits under an oversized event, judging, and the catalog.

mod common;

use std::time::Duration;

use common::*;
use herald_core::webhook::UrlPolicy;
use herald_providers::{
    EventInput, Provider, ProviderKind, Rendered, Severity, Verdict, catalog, notification,
};
use serde_json::{Map, Value, json};

const MARK: &str = "…";

// ---------------------------------------------------------------- derivation

#[test]
fn the_documented_example_derives_title_fields_links_and_colour() {
    let data = training_data();
    let n = notification(&event("training.complete", &data));
    assert_eq!(n.title, "Training complete — ResNet34");
    assert_eq!(n.severity, Severity::Success);
    assert_eq!(n.severity.color(), "#2EB67D");
    let fields: Vec<(&str, &str)> = n
        .fields
        .iter()
        .map(|f| (f.label.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(fields, [("Accuracy", "0.968"), ("Duration", "14m 32s")]);
    assert_eq!(n.links.len(), 1);
    assert_eq!(n.links[0].label, "View results");
    assert_eq!(n.footer.source, "Herald");
    assert_eq!(n.footer.event_id, EVENT_ID);
}

#[test]
fn severity_from_type_and_data() {
    let cases = [
        ("model.failed", json!({}), Severity::Error),
        ("sync.error", json!({}), Severity::Error),
        ("training.complete", json!({}), Severity::Success),
        ("job.completed", json!({}), Severity::Success),
        ("deploy.succeeded", json!({}), Severity::Success),
        ("compliance.alert", json!({}), Severity::Warning),
        ("user.signed_up", json!({}), Severity::Info),
        (
            "model.failed",
            json!({"severity": "critical"}),
            Severity::Critical,
        ),
        ("x.y", json!({"level": "warning"}), Severity::Warning),
        ("x.y", json!({"priority": "high"}), Severity::Error),
        ("x.y", json!({"priority": 4}), Severity::Info),
    ];
    for (ty, data, want) in cases {
        assert_eq!(
            notification(&event(ty, &data)).severity,
            want,
            "{ty} {data}"
        );
    }
}

#[test]
fn mention_on_failure_adds_mentions_only_for_bad_news() {
    let p = with(
        ProviderKind::Slack,
        json!({"mention_on_failure": true, "mentions": ["<!channel>", "<@U123>"]}),
    );
    let data = training_data();
    let ok = p.notification(&event("training.complete", &data)).unwrap();
    assert!(ok.mentions.is_empty());
    let bad = p.notification(&event("training.failed", &data)).unwrap();
    assert_eq!(bad.mentions, ["<!channel>", "<@U123>"]);
    let text = body(&p, &event("training.failed", &data));
    assert_eq!(text["blocks"][1]["text"]["text"], "<!channel> <@U123>");
    assert!(
        text["text"]
            .as_str()
            .unwrap()
            .starts_with("<!channel> <@U123> ")
    );
}

#[test]
fn event_text_cannot_ping_or_link_in_slack() {
    let p = with(ProviderKind::Slack, json!({}));
    let data = json!({"title": "<!channel> hi", "message": "a <https://evil.example|x> & b"});
    let b = body(&p, &event("x.y", &data));
    // The header is plain_text, which Slack never parses; every mrkdwn
    // text and the fallback are escaped.
    assert_eq!(b["blocks"][0]["text"]["type"], "plain_text");
    assert_eq!(b["text"], "&lt;!channel&gt; hi");
    assert_eq!(
        b["attachments"][0]["blocks"][0]["text"]["text"],
        "a &lt;https://evil.example|x&gt; &amp; b"
    );
}

/// Every string in a JSON value, at any depth.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list.iter().flat_map(strings).collect(),
        Value::Object(map) => map.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Whether `needle` occurs in `s` without a backslash escaping its first
/// character.
fn unescaped(s: &str, needle: &str) -> bool {
    s.match_indices(needle).any(|(i, _)| {
        let slashes = s[..i].chars().rev().take_while(|c| *c == '\\').count();
        slashes % 2 == 0
    })
}

/// The Markdown targets, with the settings that select each format.
fn markdown_targets() -> Vec<(ProviderKind, Value)> {
    vec![
        (ProviderKind::Discord, json!({})),
        (ProviderKind::Discord, json!({"use_rich_formatting": false})),
        (ProviderKind::Mattermost, json!({})),
        (
            ProviderKind::Mattermost,
            json!({"use_rich_formatting": false}),
        ),
        (ProviderKind::GitHub, json!({})),
        (
            ProviderKind::GitHub,
            json!({"mode": "comment", "issue_number": "1"}),
        ),
        (ProviderKind::Datadog, json!({})),
        (ProviderKind::Teams, json!({})),
        (ProviderKind::Teams, json!({"use_rich_formatting": false})),
        (ProviderKind::Teams, json!({"format": "message_card"})),
    ]
}

/// The strings of a rendered body that the service reads as Markdown:
/// not those it shows as plain text (notification fallbacks and
/// summaries, button titles, issue and event titles, Discord footers).
fn markdown_strings(kind: ProviderKind, b: &Value) -> Vec<&str> {
    fn walk<'a>(kind: ProviderKind, v: &'a Value, top: bool, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(list) => list.iter().for_each(|v| walk(kind, v, false, out)),
            Value::Object(map) => {
                let button = matches!(
                    map.get("type").and_then(Value::as_str),
                    Some("Action.OpenUrl")
                ) || map.contains_key("@type");
                for (key, v) in map {
                    let plain = matches!(key.as_str(), "fallback" | "fallbackText" | "summary")
                        || (button && matches!(key.as_str(), "title" | "name"))
                        || (top
                            && key == "title"
                            && matches!(kind, ProviderKind::GitHub | ProviderKind::Datadog))
                        || (kind == ProviderKind::Discord && key == "footer");
                    if !plain {
                        walk(kind, v, false, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(kind, b, true, &mut out);
    out
}

#[test]
fn markup_in_event_data_stays_text_in_markdown_targets() {
    let data = json!({
        "title": "[t](https://evil.example/t) *b*",
        "message": "[phish](https://evil.example/login) ![i](https://evil.example/p.png) <img src=x> # h\n- item\n1. one",
        "note": "[f](https://evil.example/f) `c` ~s~ ||spoiler||",
        "links": [{"label": "[l](https://evil.example/l)", "url": "https://ok.example/"}],
    });
    for (kind, settings) in markdown_targets() {
        let b = body(&with(kind, settings.clone()), &event("x.y", &data));
        for text in markdown_strings(kind, &b) {
            for live in [
                "[t](",
                "[phish](",
                "[i](",
                "[f](",
                "[l](",
                "<img",
                "`c`",
                "||spoiler",
            ] {
                assert!(
                    !unescaped(text, live),
                    "{kind} {settings}: {live} is live in {text:?}"
                );
            }
        }
    }
}

#[test]
fn template_markup_is_kept_and_event_data_in_it_escaped() {
    let data = json!({"x": "[y](https://evil.example) *z*"});
    let p = with(
        ProviderKind::Discord,
        json!({"template": {"body": "**Run** {{ event.data.x }} [docs](https://docs.example)",
                            "fields": {"Value": "_{{ event.data.x }}_"}}}),
    );
    let b = body(&p, &event("x.y", &data));
    let e = &b["embeds"][0];
    assert_eq!(
        e["description"],
        r"**Run** \[y\](https://evil.example) \*z\* [docs](https://docs.example)"
    );
    assert_eq!(
        e["fields"][0]["value"],
        r"_\[y\](https://evil.example) \*z\*_"
    );
    // What a preview (and Zapier) shows is the text, unescaped.
    let n = p.notification(&event("x.y", &data)).unwrap();
    assert_eq!(
        n.body,
        "**Run** [y](https://evil.example) *z* [docs](https://docs.example)"
    );
    // The same template for Slack: its own escaping, the owner's text as written.
    let p = with(
        ProviderKind::Slack,
        json!({"template": {"body": "<https://docs.example|docs> {{ event.data.x }} <{{ event.data.x }}>"}}),
    );
    let data = json!({"x": "<!channel> & <https://evil.example|y>"});
    let b = body(&p, &event("x.y", &data));
    assert_eq!(
        b["attachments"][0]["blocks"][0]["text"]["text"],
        "<https://docs.example|docs> &lt;!channel&gt; &amp; &lt;https://evil.example|y&gt; <&lt;!channel&gt; &amp; &lt;https://evil.example|y&gt;>"
    );
}

#[test]
fn cutting_escaped_text_leaves_no_dangling_escape() {
    let data = json!({"message": "*".repeat(10_000), "note": "<&>".repeat(2000)});
    for (kind, settings) in markdown_targets() {
        let b = body(&with(kind, settings.clone()), &event("x.y", &data));
        for text in strings(&b) {
            if let Some(cut) = text.strip_suffix("…") {
                let slashes = cut.chars().rev().take_while(|c| *c == '\\').count();
                assert_eq!(slashes % 2, 0, "{kind} {settings}: {text:?}");
            }
        }
    }
    for kind in [ProviderKind::Slack, ProviderKind::GoogleChat] {
        let b = body(&with(kind, json!({})), &event("x.y", &data));
        for text in strings(&b) {
            let tail = text.rsplit('&').next().unwrap();
            if text.contains('&') {
                assert!(
                    ["amp;", "lt;", "gt;", "quot;"]
                        .iter()
                        .any(|e| tail.starts_with(e)),
                    "{kind}: half an entity in {text:?}"
                );
            }
        }
    }
}

#[test]
fn google_chat_text_cannot_form_a_link() {
    let data = json!({"message": "see <https://evil.example|the docs> now"});
    let b = body(
        &with(
            ProviderKind::GoogleChat,
            json!({"use_rich_formatting": false}),
        ),
        &event("x.y", &data),
    );
    let text = b["text"].as_str().unwrap();
    assert!(!text.contains("<https://evil.example|"), "{text}");
    assert!(text.contains("https://evil.example|the docs>"), "{text}");
}

#[test]
fn discord_allows_only_configured_mentions() {
    let p = with(
        ProviderKind::Discord,
        json!({"mention_on_failure": true, "mentions": ["<@123>", "<@&456>", "@here"]}),
    );
    let data = json!({"message": "@everyone look"});
    let b = body(&p, &event("job.failed", &data));
    assert_eq!(b["content"], "<@123> <@&456> @here");
    assert_eq!(
        b["allowed_mentions"],
        json!({"parse": ["everyone"], "users": ["123"], "roles": ["456"]})
    );
    let quiet = body(&p, &event("job.complete", &data));
    assert!(quiet.get("content").is_none());
    assert_eq!(quiet["allowed_mentions"]["parse"], json!([]));
}

/// What the links of the URL fixture become: parsed, re-serialised and
/// percent-encoded; trimmed; credentials removed; anything that is not an
/// absolute http(s) URL with a host left out.
const NORMALISED_LINKS: [(&str, &str); 5] = [
    (
        "View results",
        "https://dash.example.com/exp/(1)?a=1&b=%3C2%3E&c=%22q%22",
    ),
    (
        "Open logs",
        "https://logs.example.com/a%20b/%C3%BC?q=%C3%A4%20%C3%B6#frag%20ment",
    ),
    ("Spaces", "https://ok.example/path"),
    (
        "Label *bold* [x](https://evil.example)",
        "https://ok.example/?x=%5B1%5D&y=%7B2%7D%7C3",
    ),
    ("Userinfo", "https://ok.example/"),
];

#[test]
fn links_from_data_are_parsed_encoded_and_stripped_of_credentials() {
    let (event_type, data) = fixture("urls");
    let n = notification(&event(&event_type, &data));
    let got: Vec<(&str, &str)> = n
        .links
        .iter()
        .map(|l| (l.label.as_str(), l.url.as_str()))
        .collect();
    assert_eq!(got, NORMALISED_LINKS);
    // Template links the owner wrote go through the same parse.
    let p = with(
        ProviderKind::Slack,
        json!({"template": {"links": [
            {"label": "A", "url": " {{ event.data.dashboard_url }} "},
            {"label": "B", "url": "https://u:p@x.example/{{ event.data.title }}"},
            {"label": "C", "url": "javascript:{{ event.data.title }}"},
        ]}}),
    );
    let n = p.notification(&event(&event_type, &data)).unwrap();
    let got: Vec<(&str, &str)> = n
        .links
        .iter()
        .map(|l| (l.label.as_str(), l.url.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("A", NORMALISED_LINKS[0].1),
            ("B", "https://x.example/Report%20ready")
        ]
    );
}

#[test]
fn icon_and_avatar_urls_are_sent_normalised_too() {
    let data = training_data();
    let b = body(
        &with(
            ProviderKind::Discord,
            json!({"avatar_url": "https://cdn.example/a b|c.png"}),
        ),
        &event("x.y", &data),
    );
    assert_eq!(b["avatar_url"], "https://cdn.example/a%20b%7Cc.png");
    let b = body(
        &with(
            ProviderKind::Mattermost,
            json!({"icon_url": "https://cdn.example/{i}.png"}),
        ),
        &event("x.y", &data),
    );
    assert_eq!(b["icon_url"], "https://cdn.example/%7Bi%7D.png");
}

#[test]
fn every_provider_sends_only_normalised_links() {
    let (event_type, data) = fixture("urls");
    for kind in ProviderKind::ALL {
        let (url, settings) = valid(kind);
        let Some(rendered) = provider(kind, url, settings)
            .render(&event(&event_type, &data))
            .unwrap()
        else {
            continue;
        };
        let mut text = match rendered {
            Rendered::Email(m) => format!("{}\n{}", m.text, m.html),
            Rendered::Http(req) => {
                let mut b: Value = serde_json::from_slice(&req.body).unwrap();
                // Zapier and PagerDuty also carry the event data as it came.
                if let Some(o) = b.as_object_mut() {
                    o.remove("data");
                }
                if let Some(o) = b.get_mut("payload").and_then(Value::as_object_mut) {
                    o.remove("custom_details");
                }
                b.to_string()
            }
        };
        // HTML writes `&` as `&amp;`; Markdown links write parentheses
        // encoded.
        text = text
            .replace("&amp;", "&")
            .replace("%28", "(")
            .replace("%29", ")");
        for (_, want) in NORMALISED_LINKS {
            assert!(text.contains(want), "{kind}: {want} missing in {text}");
        }
        for raw in [
            "b=<2>",
            "a b/",
            "javascript:",
            "data:text",
            "ftp://",
            "pa ss@",
            "y={2}",
        ] {
            assert!(!text.contains(raw), "{kind}: {raw} sent in {text}");
        }
    }
}

/// Line breaks, other control characters and the bidirectional controls
/// that can disguise a line.
fn is_one_line(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

#[test]
fn every_provider_gets_the_same_one_line_title() {
    let (event_type, data) = fixture("oversized");
    let n = notification(&event(&event_type, &data));
    assert!(is_one_line(&n.title), "{:?}", n.title);
    assert!(
        n.title
            .starts_with("Deploy failed Bcc: victim@example.com <script>")
    );
    assert!(n.title.contains(" RTL 🚀🔥 "), "{:?}", n.title);
    for l in &n.fields {
        assert!(is_one_line(&l.label), "{:?}", l.label);
    }
    assert!(is_one_line(&n.footer.text) && is_one_line(&n.footer.source));
    let templated = with(
        ProviderKind::Zapier,
        json!({"template": {"title": "{{ event.data.title }}", "footer": "a\n{{ event.type }}\u{202E}b",
                            "links": [{"label": "x\r\ny", "url": "https://a.example/"}]}}),
    );
    for p in [with(ProviderKind::Zapier, json!({})), templated] {
        let b = body(&p, &event(&event_type, &data));
        let sent = &b["notification"];
        assert_eq!(
            sent["title"],
            json!(n.title),
            "the same title as everywhere"
        );
        for part in [&sent["footer"]["text"], &sent["footer"]["source"]] {
            assert!(is_one_line(part.as_str().unwrap()), "{part}");
        }
        for l in sent["links"].as_array().unwrap() {
            assert!(is_one_line(l["label"].as_str().unwrap()), "{l}");
        }
    }
}

/// Each provider's mentions in the mentions fixture: (broadcast,
/// individual), in fixture order.
fn own_mentions(kind: ProviderKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ProviderKind::Slack => (
            &["<!channel>", "<!here>"],
            &["<@U123ABC>", "<!subteam^S123>"],
        ),
        ProviderKind::Discord => (
            &["@everyone", "@here"],
            &["<@123456789012345678>", "<@&987654321098765432>"],
        ),
        ProviderKind::GoogleChat => (&["<users/all>"], &["<users/1234567890>"]),
        ProviderKind::Mattermost => (&["@here", "@all", "@channel"], &["@alice"]),
        _ => (&[], &[]),
    }
}

/// The mentions a chat body carries where they notify.
fn sent_mentions(kind: ProviderKind, b: &Value) -> String {
    match kind {
        ProviderKind::Discord => b["content"].as_str().unwrap_or("").to_string(),
        ProviderKind::Slack => format!(
            "{} | {}",
            b["text"].as_str().unwrap_or(""),
            b["blocks"][1]["text"]["text"].as_str().unwrap_or("")
        ),
        _ => b["text"].as_str().unwrap_or("").to_string(),
    }
}

#[test]
fn mentions_from_event_data_reach_no_provider_unless_the_webhook_opts_in() {
    let (event_type, data) = fixture("mentions");
    let every: Vec<&str> = data["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let opt_ins = [(false, false), (true, false), (false, true), (true, true)];
    for kind in ProviderKind::ALL {
        let (broadcast, individual) = own_mentions(kind);
        for (from_data, broadcast_from_data) in opt_ins {
            let has_syntax = !broadcast.is_empty();
            let settings = if has_syntax {
                json!({"mentions_from_data": from_data, "allow_broadcast_from_data": broadcast_from_data})
            } else {
                json!({})
            };
            let p = with(kind, settings);
            let n = p.notification(&event(&event_type, &data)).unwrap();
            let mut want: Vec<&str> = Vec::new();
            for m in &every {
                if (broadcast_from_data && broadcast.contains(m))
                    || (from_data && individual.contains(m))
                {
                    want.push(m);
                }
            }
            assert_eq!(n.mentions, want, "{kind} {from_data} {broadcast_from_data}");
            let Some(Rendered::Http(req)) = p.render(&event(&event_type, &data)).unwrap() else {
                continue;
            };
            let mut b: Value = serde_json::from_slice(&req.body).unwrap();
            if kind == ProviderKind::Zapier {
                // The event data goes to Zapier as it came; the
                // notification carries no mentions.
                assert_eq!(b["notification"]["mentions"], json!([]));
                b.as_object_mut().unwrap().remove("data");
            }
            if kind == ProviderKind::PagerDuty {
                b["payload"]
                    .as_object_mut()
                    .unwrap()
                    .remove("custom_details");
            }
            let sent = sent_mentions(kind, &b);
            for m in &every {
                if want.contains(m) {
                    assert!(sent.contains(m), "{kind}: {m} missing from {sent:?}");
                } else {
                    assert!(
                        !b.to_string().contains(&format!("\"{m}")) && !sent.contains(m),
                        "{kind} {from_data} {broadcast_from_data}: {m} sent in {b}"
                    );
                }
            }
            if kind == ProviderKind::Discord {
                let parse = if broadcast_from_data {
                    json!(["everyone"])
                } else {
                    json!([])
                };
                let users: &[&str] = if from_data {
                    &["123456789012345678"]
                } else {
                    &[]
                };
                let roles: &[&str] = if from_data {
                    &["987654321098765432"]
                } else {
                    &[]
                };
                assert_eq!(
                    b["allowed_mentions"],
                    json!({"parse": parse, "users": users, "roles": roles})
                );
            }
        }
    }
}

#[test]
fn broadcast_words_in_event_text_never_ping() {
    let data = json!({
        "title": "@everyone @here <!channel> @channel @all <users/all>",
        "message": "@everyone look, @here too\n@channel @all and @alice",
        "note": "@here",
    });
    let live = |s: &str, m: &str| {
        s.match_indices(m)
            .any(|(i, _)| !s[i + m.len()..].starts_with('\u{200B}'))
            && !s.contains(&format!("@\u{200B}{}", &m[1..]))
    };
    for rich in [true, false] {
        let b = body(
            &with(ProviderKind::Discord, json!({"use_rich_formatting": rich})),
            &event("x.y", &data),
        );
        let content = b["content"].as_str().unwrap_or("");
        assert!(
            !content.contains("@everyone") && !content.contains("@here"),
            "{content}"
        );
        assert_eq!(
            b["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": []})
        );
        let b = body(
            &with(
                ProviderKind::Mattermost,
                json!({"use_rich_formatting": rich}),
            ),
            &event("x.y", &data),
        );
        for text in strings(&b) {
            for m in ["@channel", "@all", "@here", "@alice"] {
                assert!(
                    !text.contains(m) || !live(text, m),
                    "mattermost: {m} in {text:?}"
                );
            }
        }
        let b = body(
            &with(
                ProviderKind::GoogleChat,
                json!({"use_rich_formatting": rich}),
            ),
            &event("x.y", &data),
        );
        assert!(!b.to_string().contains("<users/all>"), "{b}");
    }
    for kind in [ProviderKind::GitHub, ProviderKind::Datadog] {
        let b = body(&with(kind, json!({})), &event("x.y", &data));
        for text in markdown_strings(kind, &b) {
            assert!(
                !text.contains("@here") && !text.contains("@alice"),
                "{kind}: {text:?}"
            );
        }
    }
    let b = body(&with(ProviderKind::Slack, json!({})), &event("x.y", &data));
    assert!(!b.to_string().contains("<!channel>"), "{b}");
}

#[test]
fn configured_mentions_are_sent_only_in_the_providers_own_syntax() {
    let data = json!({});
    let p = with(
        ProviderKind::Slack,
        json!({"mention_on_failure": true, "mentions": ["<!here>", "@here", "<@123>", "<@U42>"]}),
    );
    assert_eq!(
        p.notification(&event("job.failed", &data))
            .unwrap()
            .mentions,
        ["<!here>", "<@U42>"]
    );
    // Teams has no mention syntax a webhook can send.
    let p = with(
        ProviderKind::Teams,
        json!({"mention_on_failure": true, "mentions": ["<at>x</at>", "@here"]}),
    );
    let n = p.notification(&event("job.failed", &data)).unwrap();
    assert!(n.mentions.is_empty(), "{:?}", n.mentions);
}

#[test]
fn buttons_can_be_turned_off_and_colour_overridden() {
    let p = with(
        ProviderKind::Slack,
        json!({"include_action_buttons": false, "theme_color": "123abc"}),
    );
    let data = training_data();
    let b = body(&p, &event("training.complete", &data));
    assert_eq!(b["attachments"][0]["color"], "#123ABC");
    assert!(!b.to_string().contains("\"actions\""));
}

#[test]
fn email_html_escapes_event_text() {
    let p = with(ProviderKind::Email, json!({}));
    let data = json!({"title": "<script>alert(1)</script>", "note": "a & <b>", "url": "https://x.example/?a=1&b=\"2\""});
    let Some(Rendered::Email(mail)) = p.render(&event("x.y", &data)).unwrap() else {
        panic!("expected email");
    };
    assert!(!mail.html.contains("<script>"));
    assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(mail.html.contains("a &amp; &lt;b&gt;"));
    assert!(
        mail.html
            .contains("href=\"https://x.example/?a=1&amp;b=%222%22\"")
    );
    assert_eq!(mail.subject, "<script>alert(1)</script>");
    assert!(mail.text.contains("Note: a & <b>"));
}

// ---------------------------------------------------------------- templates

#[test]
fn templates_override_every_part() {
    let p = with(
        ProviderKind::Slack,
        json!({"template": {
            "title": "{{ event.data.experiment_name }} finished ({{ event.type }})",
            "body": "Accuracy was {{ (event.data.accuracy * 100) | round(1) }}%",
            "severity": "{% if event.data.accuracy > 0.9 %}success{% else %}warning{% endif %}",
            "fields": {"Run": "{{ event.id }}", "Missing": "{{ event.data.nope }}"},
            "links": [{"label": "Dashboard", "url": "{{ event.data.dashboard_url }}"},
                      {"label": "Gone", "url": "{{ event.data.nope }}"}],
            "source": "ml-platform",
        }}),
    );
    let data = training_data();
    let n = p.notification(&event("training.complete", &data)).unwrap();
    assert_eq!(n.title, "ResNet34 finished (training.complete)");
    assert_eq!(n.body, "Accuracy was 96.8%");
    assert_eq!(n.severity, Severity::Success);
    assert_eq!(n.fields.len(), 1, "empty rows are left out");
    assert_eq!(
        (n.fields[0].label.as_str(), n.fields[0].value.as_str()),
        ("Run", EVENT_ID)
    );
    assert_eq!(n.links.len(), 1);
    assert_eq!(n.links[0].label, "Dashboard");
    assert!(n.footer.text.starts_with("ml-platform · "));
}

#[test]
fn templates_see_the_defaults_and_missing_data_renders_empty() {
    let p = with(
        ProviderKind::Discord,
        json!({"template": {"title": "{{ notification.title }} [staging]", "body": "x{{ event.data.a.b.c }}y"}}),
    );
    let data = training_data();
    let n = p.notification(&event("training.complete", &data)).unwrap();
    assert_eq!(n.title, "Training complete — ResNet34 [staging]");
    assert_eq!(n.body, "xy");
    // A title that renders empty keeps the default.
    let p = with(
        ProviderKind::Discord,
        json!({"template": {"title": "{{ event.data.nope }}"}}),
    );
    assert_eq!(
        p.notification(&event("training.complete", &data))
            .unwrap()
            .title,
        "Training complete — ResNet34"
    );
}

#[test]
fn template_errors_at_parse_name_the_field() {
    let err = |settings: Value| {
        let (url, mut base) = valid(ProviderKind::Slack);
        for (k, v) in settings.as_object().unwrap() {
            base[k] = v.clone();
        }
        Provider::parse(ProviderKind::Slack, url, &base, &UrlPolicy::default()).unwrap_err()
    };
    let e = err(json!({"template": {"title": "{{ event.type "}}));
    assert_eq!(e.field, "settings.template.title");
    assert!(e.message.contains("syntax error"), "{}", e.message);
    let e = err(json!({"template": {"body": "{{ event.type | no_such_filter }}"}}));
    assert_eq!(e.field, "settings.template.body");
    assert!(e.message.contains("unknown filter"), "{}", e.message);
    let e = err(json!({"template": {"fields": {"Acc": 1}}}));
    assert_eq!(e.field, "settings.template.fields.Acc");
    let e = err(json!({"template": {"links": [{"label": "x", "url": "{% if %}"}]}}));
    assert_eq!(e.field, "settings.template.links[0].url");
    let e = err(json!({"template": {"titel": "x"}}));
    assert_eq!(e.field, "settings.template.titel");
    assert!(e.message.contains("unknown field"), "{}", e.message);
    let e = Provider::parse(
        ProviderKind::PagerDuty,
        None,
        &json!({"routing_key": "k", "dedup_key": "{% for %}"}),
        &UrlPolicy::default(),
    )
    .unwrap_err();
    assert_eq!(e.field, "settings.dedup_key");
}

#[test]
fn template_errors_at_render_name_the_part() {
    let p = with(
        ProviderKind::Slack,
        json!({"template": {"title": "{{ event.data.accuracy + 'x' }}"}}),
    );
    let data = training_data();
    let e = p.render(&event("training.complete", &data)).unwrap_err();
    assert_eq!(e.part(), "template.title");
    assert!(e.to_string().starts_with("template.title: "), "{e}");

    let p = with(
        ProviderKind::Slack,
        json!({"template": {"severity": "{{ event.data.duration }}"}}),
    );
    let e = p.render(&event("training.complete", &data)).unwrap_err();
    assert_eq!(e.part(), "template.severity");

    let p = with(
        ProviderKind::GitHub,
        json!({"mode": "comment", "issue_number": "{{ event.data.experiment_name }}"}),
    );
    let e = p.render(&event("training.complete", &data)).unwrap_err();
    assert_eq!(e.part(), "issue_number");
    assert!(e.to_string().contains("ResNet34"), "{e}");
}

#[test]
fn a_runaway_template_fails_the_attempt_instead_of_hanging() {
    let p = with(
        ProviderKind::Slack,
        json!({"template": {"body": "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"}}),
    );
    let data = training_data();
    let e = p.render(&event("training.complete", &data)).unwrap_err();
    assert_eq!(e.part(), "template.body");
    assert!(e.message().contains("fuel"), "{e}");
}

#[test]
fn pagerduty_dedup_key_is_stable_across_trigger_and_resolve() {
    let p = with(
        ProviderKind::PagerDuty,
        json!({"resolve_on": ["incident.resolved", "*.recovered"]}),
    );
    let open = json!({"incident_id": "inc-42", "title": "DB down"});
    let trigger = body(&p, &event("incident.opened", &open));
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["dedup_key"], "inc-42");
    let close = json!({"incident_id": "inc-42"});
    let resolve = body(&p, &event("incident.resolved", &close));
    assert_eq!(
        resolve,
        json!({"routing_key": "R0UT1NGKEY0000000000000000000000", "event_action": "resolve", "dedup_key": "inc-42"})
    );
    assert_eq!(
        body(&p, &event("db.recovered", &close))["event_action"],
        "resolve"
    );
    let custom = with(
        ProviderKind::PagerDuty,
        json!({"dedup_key": "run-{{ event.data.experiment_name }}"}),
    );
    let data = training_data();
    assert_eq!(
        body(&custom, &event("training.complete", &data))["dedup_key"],
        "run-ResNet34"
    );
}

#[test]
fn pagerduty_custom_details_are_exactly_the_event_data() {
    let data = training_data();
    for settings in [
        json!({}),
        json!({"template": {"body": "Accuracy {{ event.data.accuracy }}"}}),
    ] {
        let b = body(
            &with(ProviderKind::PagerDuty, settings),
            &event("training.complete", &data),
        );
        assert_eq!(b["payload"]["custom_details"], data);
    }
}

#[test]
fn pagerduty_data_over_512_kb_is_cut_to_fit() {
    // About 1 MB of event data: 100 values of 10,000 characters.
    let mut m = Map::new();
    m.insert("incident_id".into(), json!("inc-7"));
    for i in 0..100 {
        m.insert(format!("log_{i:02}"), json!("é".repeat(10_000)));
    }
    m.insert("nested".into(), json!({"trace": ["x".repeat(50_000)]}));
    let data = Value::Object(m);
    let req = http(
        &with(ProviderKind::PagerDuty, json!({})),
        &event("job.failed", &data),
    );
    assert!(req.body.len() <= 512_000, "{}", req.body.len());
    let b: Value = serde_json::from_slice(&req.body).unwrap();
    let details = &b["payload"]["custom_details"];
    assert_eq!(details["incident_id"], "inc-7", "short values are kept");
    assert_marked("log value", details["log_00"].as_str().unwrap());
    assert!(
        details["truncated_by_herald"]
            .as_str()
            .unwrap()
            .contains(EVENT_ID),
        "{}",
        details["truncated_by_herald"]
    );
    // So many keys that even short values do not fit: the first ones stay.
    let many: Map<String, Value> = (0..60_000)
        .map(|i| (format!("key_{i:05}"), json!("value")))
        .collect();
    let data = Value::Object(many);
    let req = http(
        &with(ProviderKind::PagerDuty, json!({})),
        &event("job.failed", &data),
    );
    assert!(req.body.len() <= 512_000, "{}", req.body.len());
    let b: Value = serde_json::from_slice(&req.body).unwrap();
    let details = b["payload"]["custom_details"].as_object().unwrap();
    assert_eq!(details["key_00000"], "value");
    assert!(
        details.len() > 1000 && details.len() < 60_000,
        "{}",
        details.len()
    );
    let note = details["truncated_by_herald"].as_str().unwrap();
    assert!(note.contains("keys were left out"), "{note}");
}

#[test]
fn google_chat_without_thread_key_sends_no_thread() {
    let p = with(
        ProviderKind::GoogleChat,
        json!({"thread_key": "{{ event.data.nope }}"}),
    );
    let data = training_data();
    let req = http(&p, &event("training.complete", &data));
    assert!(!req.url.contains("messageReplyOption"));
    let b: Value = serde_json::from_slice(&req.body).unwrap();
    assert!(b.get("thread").is_none());
}

#[test]
fn zapier_batches_are_arrays() {
    let p = with(
        ProviderKind::Zapier,
        json!({"batch_size": 10, "batch_timeout_ms": 500}),
    );
    let a = training_data();
    let b = json!({"name": "second"});
    let events = [event("training.complete", &a), event("x.y", &b)];
    let Some(Rendered::Http(req)) = p.render_batch(&events).unwrap() else {
        panic!("expected a request");
    };
    let list: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["notification"]["title"], "X y — second");
    assert_eq!(p.batching(), Some((Some(10), Some(500))));
    let pagerduty = with(ProviderKind::PagerDuty, json!({}));
    assert!(pagerduty.render_batch(&events).is_err());
}

// ---------------------------------------------------------------- settings

fn parse_err(kind: ProviderKind, url: Option<&str>, settings: Value) -> (String, String) {
    let e = Provider::parse(kind, url, &settings, &UrlPolicy::default()).unwrap_err();
    (e.field, e.message)
}

fn field_of(kind: ProviderKind, extra: Value) -> String {
    let (url, mut settings) = valid(kind);
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    parse_err(kind, url, settings).0
}

#[test]
fn settings_errors_name_the_field() {
    use ProviderKind::*;
    let (field, message) = parse_err(Slack, valid(Slack).0, json!({"chanel": "#ops"}));
    assert_eq!(field, "settings.chanel");
    assert!(message.contains("unknown setting"), "{message}");
    assert_eq!(
        field_of(Webhook, json!({"template": {}})),
        "settings.template"
    );
    assert_eq!(
        field_of(Slack, json!({"theme_color": "green"})),
        "settings.theme_color"
    );
    assert_eq!(
        field_of(Slack, json!({"use_rich_formatting": "yes"})),
        "settings.use_rich_formatting"
    );
    assert_eq!(
        field_of(Slack, json!({"mentions": ["ok", ""]})),
        "settings.mentions[1]"
    );
    assert_eq!(
        field_of(Slack, json!({"icon_emoji": "rocket"})),
        "settings.icon_emoji"
    );
    for kind in [Slack, Discord, Mattermost, GoogleChat] {
        for name in ["mentions_from_data", "allow_broadcast_from_data"] {
            let (url, mut settings) = valid(kind);
            settings[name] = json!("yes");
            let (field, message) = parse_err(kind, url, settings);
            assert_eq!(field, format!("settings.{name}"), "{kind}");
            assert!(message.contains("expected a boolean"), "{kind}: {message}");
        }
    }
    // Where no mention can be sent, the opt-ins are unknown settings.
    for kind in [Teams, Email, PagerDuty, Zapier] {
        let (url, mut settings) = valid(kind);
        settings["mentions_from_data"] = json!(true);
        let (field, message) = parse_err(kind, url, settings);
        assert_eq!(field, "settings.mentions_from_data", "{kind}");
        assert!(message.contains("unknown setting"), "{kind}: {message}");
    }
    assert_eq!(
        field_of(Teams, json!({"format": "html"})),
        "settings.format"
    );
    assert_eq!(
        parse_err(PagerDuty, None, json!({})).0,
        "settings.routing_key"
    );
    assert_eq!(
        field_of(PagerDuty, json!({"routing_key": "has space"})),
        "settings.routing_key"
    );
    assert_eq!(
        field_of(PagerDuty, json!({"resolve_on": ["a*b"]})),
        "settings.resolve_on[0]"
    );
    assert_eq!(
        field_of(GitHub, json!({"repository": "acme"})),
        "settings.repository"
    );
    assert_eq!(
        field_of(GitHub, json!({"repository": "ac me/ml"})),
        "settings.repository"
    );
    assert_eq!(
        field_of(GitHub, json!({"mode": "comment"})),
        "settings.issue_number"
    );
    assert_eq!(
        field_of(GitHub, json!({"issue_number": "1"})),
        "settings.issue_number"
    );
    assert_eq!(
        field_of(Email, json!({"to": ["ok@example.com", "not-an-address"]})),
        "settings.to[1]"
    );
    assert_eq!(
        field_of(
            Email,
            json!({"to": ["a@example.com\r\nBcc: x@example.com"]})
        ),
        "settings.to[0]"
    );
    assert_eq!(field_of(Email, json!({"to": []})), "settings.to");
    assert_eq!(field_of(Email, json!({"from": "nope"})), "settings.from");
    assert_eq!(
        field_of(Email, json!({"smtp": {"port": 0}})),
        "settings.smtp.port"
    );
    assert_eq!(
        field_of(Email, json!({"smtp": {"tls": "ssl"}})),
        "settings.smtp.tls"
    );
    assert_eq!(
        field_of(Email, json!({"smtp": {"hots": "x"}})),
        "settings.smtp.hots"
    );
    assert_eq!(
        field_of(Jira, json!({"project_key": "1X"})),
        "settings.project_key"
    );
    assert_eq!(
        field_of(Jira, json!({"labels": ["two words"]})),
        "settings.labels[0]"
    );
    assert_eq!(field_of(Jira, json!({"email": "x"})), "settings.email");
    assert_eq!(
        field_of(Datadog, json!({"site": "not a site"})),
        "settings.site"
    );
    assert_eq!(
        field_of(Datadog, json!({"priority": "urgent"})),
        "settings.priority"
    );
    assert_eq!(
        field_of(Zapier, json!({"batch_size": 0})),
        "settings.batch_size"
    );
    assert_eq!(
        field_of(Zapier, json!({"batch_timeout_ms": 99})),
        "settings.batch_timeout_ms"
    );
    assert_eq!(parse_err(Slack, valid(Slack).0, json!([1])).0, "settings");
}

#[test]
fn urls_must_be_the_providers_own_outside_dev_mode() {
    use ProviderKind::*;
    let cases = [
        (Slack, "https://example.com/services/T/B/X"),
        (Slack, "https://hooks.slack.com/other/T/B/X"),
        (Slack, "http://hooks.slack.com/services/T/B/X"),
        (Discord, "https://example.com/api/webhooks/1/a"),
        (GoogleChat, "https://example.com/v1/spaces/A/messages"),
        (Zapier, "https://example.com/hooks/catch/1/a/"),
        (Teams, "http://prod.logic.azure.com/workflows/x"),
        (Email, "https://example.com/"),
        (Jira, "https://acme.atlassian.net/?x=1"),
    ];
    for (kind, url) in cases {
        let (_, settings) = valid(kind);
        let e = Provider::parse(kind, Some(url), &settings, &UrlPolicy::default()).unwrap_err();
        assert_eq!(e.field, "url", "{kind} {url}");
    }
    assert_eq!(parse_err(Slack, None, json!({})).0, "url");
    assert_eq!(parse_err(Jira, None, valid(Jira).1).0, "url");
    // Dev mode takes local test receivers for every provider.
    for kind in ProviderKind::ALL {
        if kind == Email {
            continue;
        }
        let (_, settings) = valid(kind);
        let p = Provider::parse(
            kind,
            Some("http://127.0.0.1:9000/hook"),
            &settings,
            &UrlPolicy::dev(),
        );
        assert!(p.is_ok(), "{kind}: {:?}", p.err());
    }
    // Teams takes any https URL; email a mailto: URL.
    assert!(
        Provider::parse(
            Teams,
            Some("https://org.environment.api.powerplatform.com/x"),
            &json!({}),
            &UrlPolicy::default()
        )
        .is_ok()
    );
    let mail = Provider::parse(
        Email,
        Some("mailto:ops%40example.com,b@example.com"),
        &json!({}),
        &UrlPolicy::default(),
    )
    .unwrap();
    let data = json!({});
    let Some(Rendered::Email(m)) = mail.render(&event("x", &data)).unwrap() else {
        panic!()
    };
    assert_eq!(m.to, ["ops@example.com", "b@example.com"]);
}

#[test]
fn literal_private_destinations_are_refused_outside_dev_mode() {
    use ProviderKind::*;
    let production = UrlPolicy::default();
    // Providers whose URL may be any host: a literal private address is not.
    for (kind, url) in [
        (Webhook, "https://10.0.0.1/hook"),
        (Teams, "https://[::ffff:127.0.0.1]/workflows/x"),
        (Mattermost, "https://169.254.169.254/hooks/x"),
        (Jira, "https://2130706433"),
        (GitHub, "https://0x7f000001/api/v3"),
        (PagerDuty, "https://192.168.1.1/v2/enqueue"),
        (Datadog, "https://[fd00::1]"),
    ] {
        let (_, settings) = valid(kind);
        let e = Provider::parse(kind, Some(url), &settings, &production).unwrap_err();
        assert_eq!(e.field, "url", "{kind} {url}");
        assert!(
            e.message.starts_with("points at a forbidden address: "),
            "{kind}: {e}"
        );
        let dev = Provider::parse(kind, Some(url), &settings, &UrlPolicy::dev());
        assert!(dev.is_ok(), "{kind}: {:?}", dev.err());
    }
    // A webhook's own mail server, in any spelling.
    for host in [
        "127.0.0.1",
        "2130706433",
        "::1",
        "[::1]",
        "10.1.2.3",
        "fe80::1",
    ] {
        let settings = json!({"to": ["a@example.com"], "smtp": {"host": host}});
        let e = Provider::parse(Email, None, &settings, &production).unwrap_err();
        assert_eq!(e.field, "settings.smtp.host", "{host}");
    }
    let named = json!({"to": ["a@example.com"], "smtp": {"host": "mail.example.com"}});
    assert!(Provider::parse(Email, None, &named, &production).is_ok());
    // Icons are fetched by the service, not by Herald.
    let (url, mut settings) = valid(Mattermost);
    settings["icon_url"] = json!("https://10.0.0.1/icon.png");
    assert!(Provider::parse(Mattermost, url, &settings, &production).is_ok());
}

#[test]
fn allowing_http_keeps_the_providers_own_hosts() {
    let policy = UrlPolicy {
        allow_http: true,
        ..UrlPolicy::default()
    };
    let (_, settings) = valid(ProviderKind::Slack);
    let e = Provider::parse(
        ProviderKind::Slack,
        Some("http://example.com/services/T/B/X"),
        &settings,
        &policy,
    )
    .unwrap_err();
    assert_eq!(e.field, "url");
    assert!(
        Provider::parse(
            ProviderKind::Slack,
            Some("http://hooks.slack.com/services/T/B/X"),
            &settings,
            &policy,
        )
        .is_ok()
    );
}

#[test]
fn debug_never_shows_secrets() {
    use ProviderKind::*;
    let secrets = [
        (PagerDuty, None, json!({"routing_key": "SECRETROUTINGKEY"})),
        (
            GitHub,
            None,
            json!({"token": "SECRETTOKEN", "repository": "a/b"}),
        ),
        (Datadog, None, json!({"api_key": "SECRETKEY"})),
        (
            Jira,
            Some("https://acme.atlassian.net"),
            json!({"email": "a@example.com", "api_token": "SECRETTOKEN", "project_key": "X"}),
        ),
        (
            Email,
            None,
            json!({"to": ["a@example.com"], "smtp": {"password": "SECRETPASS"}}),
        ),
        (
            Slack,
            Some("https://hooks.slack.com/services/T0/B0/SECRETPATH"),
            json!({}),
        ),
        (
            Discord,
            Some("https://discord.com/api/webhooks/1/SECRETPATH"),
            json!({}),
        ),
        (
            Zapier,
            Some("https://hooks.zapier.com/hooks/catch/1/SECRETPATH/"),
            json!({}),
        ),
    ];
    let data = training_data();
    for (kind, url, settings) in secrets {
        let p = provider(kind, url, settings);
        let dbg = format!("{p:?}");
        assert!(!dbg.contains("SECRET"), "{kind}: {dbg}");
        let rendered = format!("{:?}", p.render(&event("x.y", &data)).unwrap());
        assert!(
            !rendered.contains("SECRETTOKEN")
                && !rendered.contains("SECRETKEY")
                && !rendered.contains("SECRETPASS"),
            "{kind}: {rendered}"
        );
    }
}

// ---------------------------------------------------------------- limits

/// A 300-character title, a 10,000-character body, 60 scalar fields (some
/// far longer than any field limit), links, mentions and a long dedup key;
/// multi-byte text throughout so a byte cut would show.
fn oversized() -> Value {
    let mut m = Map::new();
    m.insert(
        "title".into(),
        "Títle 🚀 "
            .repeat(40)
            .chars()
            .take(300)
            .collect::<String>()
            .into(),
    );
    m.insert(
        "message".into(),
        "Bödy ✓ text "
            .repeat(900)
            .chars()
            .take(10_000)
            .collect::<String>()
            .into(),
    );
    for i in 0..60 {
        let value = match i % 10 {
            0 => json!("Välue ".repeat(500)),
            1 => json!(i as f64 * 1.5),
            _ => json!(format!("value {i} ").repeat(20)),
        };
        m.insert(format!("metric_{i:02}"), value);
    }
    m.insert(
        "dashboard_url".into(),
        "https://ml.example.com/runs/1".into(),
    );
    m.insert("logs_url".into(), "https://ml.example.com/logs/1".into());
    m.insert("mentions".into(), json!(["<@U1>", "<@123>"]));
    m.insert("dedup_key".into(), "k".repeat(300).into());
    Value::Object(m)
}

fn oversized_body(kind: ProviderKind, extra: Value) -> Value {
    let data = oversized();
    body(&with(kind, extra), &event("training.failed", &data))
}

fn assert_marked(what: &str, s: &str) {
    assert!(s.contains(MARK), "{what} has no visible truncation marker");
}

#[test]
fn oversized_slack_stays_within_block_kit_limits() {
    let b = oversized_body(ProviderKind::Slack, json!({}));
    let top = b["blocks"].as_array().unwrap();
    let inner = b["attachments"][0]["blocks"].as_array().unwrap();
    assert!(top.len() + inner.len() <= 50);
    let header = &top[0]["text"]["text"];
    assert!(chars(header) <= 150);
    assert_marked("header", header.as_str().unwrap());
    assert!(chars(&b["text"]) <= 4000);
    let mut fields = 0;
    for block in inner {
        if let Some(text) = block.get("text") {
            assert!(chars(&text["text"]) <= 3000);
        }
        if let Some(list) = block.get("fields").and_then(Value::as_array) {
            assert!(list.len() <= 10);
            for f in list {
                assert!(chars(&f["text"]) <= 2000);
            }
            fields += list.len();
        }
        if block["type"] == "actions" {
            for e in block["elements"].as_array().unwrap() {
                assert!(chars(&e["text"]["text"]) <= 75);
            }
        }
    }
    // 60 metrics and the dedup key: 61 fields in 7 sections, none dropped.
    assert_eq!(fields, 61);
    assert_marked("body section", inner[0]["text"]["text"].as_str().unwrap());
    assert!(
        b.to_string().contains("Välue"),
        "long values are cut, not dropped"
    );
}

#[test]
fn slack_with_hundreds_of_fields_stays_within_50_blocks() {
    let mut m = Map::new();
    for i in 0..700 {
        m.insert(format!("k{i}"), json!(i));
    }
    let data = Value::Object(m);
    let b = body(&with(ProviderKind::Slack, json!({})), &event("x.y", &data));
    let inner = b["attachments"][0]["blocks"].as_array().unwrap();
    assert!(b["blocks"].as_array().unwrap().len() + inner.len() <= 50);
    assert!(b.to_string().contains("more fields"));
}

#[test]
fn oversized_discord_stays_within_embed_limits() {
    let b = oversized_body(
        ProviderKind::Discord,
        json!({"mention_on_failure": true, "mentions": ["@here"]}),
    );
    assert!(chars(&b["content"]) <= 2000);
    let e = &b["embeds"][0];
    assert!(chars(&e["title"]) <= 256);
    assert_marked("title", e["title"].as_str().unwrap());
    assert!(chars(&e["description"]) <= 4096);
    assert_marked("description", e["description"].as_str().unwrap());
    assert!(
        e["description"]
            .as_str()
            .unwrap()
            .contains("[View results](https://ml.example.com/runs/1)")
    );
    let fields = e["fields"].as_array().unwrap();
    assert!(fields.len() <= 25);
    let mut total = chars(&e["title"]) + chars(&e["description"]) + chars(&e["footer"]["text"]);
    for f in fields {
        assert!(chars(&f["name"]) <= 256 && chars(&f["value"]) <= 1024);
        assert!(chars(&f["name"]) > 0 && chars(&f["value"]) > 0);
        total += chars(&f["name"]) + chars(&f["value"]);
    }
    assert!(chars(&e["footer"]["text"]) <= 2048);
    assert!(total <= 6000, "{total}");
}

#[test]
fn oversized_discord_plain_text_fits_content() {
    let b = oversized_body(ProviderKind::Discord, json!({"use_rich_formatting": false}));
    assert!(chars(&b["content"]) <= 2000);
    assert_marked("content", b["content"].as_str().unwrap());
}

#[test]
fn oversized_teams_stays_under_28_kb_in_both_formats() {
    for format in ["adaptive_card", "message_card"] {
        let data = oversized();
        let p = with(ProviderKind::Teams, json!({"format": format}));
        let req = http(&p, &event("training.failed", &data));
        assert!(req.body.len() < 28_000, "{format}: {}", req.body.len());
        let text = String::from_utf8(req.body).unwrap();
        assert_marked(format, &text);
    }
}

#[test]
fn oversized_google_chat_stays_under_32000_bytes() {
    let data = oversized();
    for rich in [true, false] {
        let p = with(
            ProviderKind::GoogleChat,
            json!({"thread_key": "{{ event.data.title }}", "use_rich_formatting": rich}),
        );
        let req = http(&p, &event("training.failed", &data));
        assert!(req.body.len() <= 32_000, "{}", req.body.len());
        let b: Value = serde_json::from_slice(&req.body).unwrap();
        assert_marked("card", &b.to_string());
        if !rich {
            assert!(chars(&b["text"]) <= 4096);
        }
    }
}

#[test]
fn oversized_mattermost_stays_within_the_post_limit() {
    let b = oversized_body(ProviderKind::Mattermost, json!({}));
    let a = &b["attachments"][0];
    let mut total =
        chars(&b["text"]) + chars(&a["title"]) + chars(&a["text"]) + chars(&a["footer"]);
    for f in a["fields"].as_array().unwrap() {
        total += chars(&f["title"]) + chars(&f["value"]);
    }
    assert!(total <= 16_383, "{total}");
    assert_marked("attachment", &a.to_string());
}

#[test]
fn oversized_email_subject_is_one_short_line() {
    let data = oversized();
    let p = with(ProviderKind::Email, json!({"subject_prefix": "[ml]"}));
    let Some(Rendered::Email(m)) = p.render(&event("training.failed", &data)).unwrap() else {
        panic!("expected email");
    };
    assert!(m.subject.chars().count() <= 200);
    assert!(!m.subject.contains(['\r', '\n']));
    assert_marked("subject", &m.subject);
    assert!(m.text.contains("Metric 59:"));
    assert!(m.html.contains("Metric 59"));
}

#[test]
fn oversized_pagerduty_stays_within_event_limits() {
    let b = oversized_body(ProviderKind::PagerDuty, json!({}));
    assert!(chars(&b["payload"]["summary"]) <= 1024);
    assert!(chars(&b["dedup_key"]) <= 255);
    assert_marked("dedup_key", b["dedup_key"].as_str().unwrap());
    assert_eq!(b["payload"]["severity"], "error");
    assert!(b.to_string().len() < 512 * 1024);
}

#[test]
fn oversized_jira_stays_within_field_limits() {
    let b = oversized_body(ProviderKind::Jira, json!({}));
    let summary = b["fields"]["summary"].as_str().unwrap();
    assert!(summary.chars().count() <= 255 && !summary.contains('\n'));
    assert_marked("summary", summary);
    let description = b["fields"]["description"].to_string();
    assert!(description.len() <= 32_767, "{}", description.len());
    assert_marked("description", &description);
}

#[test]
fn oversized_github_stays_within_issue_limits() {
    let b = oversized_body(ProviderKind::GitHub, json!({}));
    assert!(chars(&b["title"]) <= 256);
    assert_marked("title", b["title"].as_str().unwrap());
    assert!(chars(&b["body"]) <= 65_536);
    let c = oversized_body(
        ProviderKind::GitHub,
        json!({"mode": "comment", "issue_number": "7"}),
    );
    assert!(chars(&c["body"]) <= 65_536);
    // A body far over the limit is cut to it.
    let huge = json!({"message": "x".repeat(200_000)});
    let p = with(ProviderKind::GitHub, json!({}));
    let b = body(&p, &event("x.y", &huge));
    assert!(chars(&b["body"]) <= 65_536);
    assert_marked("body", b["body"].as_str().unwrap());
}

#[test]
fn oversized_datadog_stays_within_event_limits() {
    let b = oversized_body(ProviderKind::Datadog, json!({}));
    assert!(chars(&b["title"]) <= 100);
    assert_marked("title", b["title"].as_str().unwrap());
    assert!(chars(&b["text"]) <= 4000);
    assert_marked("text", b["text"].as_str().unwrap());
    assert_eq!(b["alert_type"], "error");
}

/// UTF-16 code units, the unit Jira (Java) counts its summary in.
fn utf16(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.encode_utf16().count())
}

#[test]
fn jira_summary_counts_utf16_code_units() {
    // 255 code points, but 510 UTF-16 code units: over Jira's limit.
    let data = json!({"title": "🚀".repeat(255)});
    let b = body(&with(ProviderKind::Jira, json!({})), &event("x.y", &data));
    let summary = &b["fields"]["summary"];
    assert!(utf16(summary) <= 255, "{}", utf16(summary));
    assert_marked("summary", summary.as_str().unwrap());
    // No emoji is cut in half: every character is whole.
    assert!(
        summary
            .as_str()
            .unwrap()
            .trim_end_matches(MARK)
            .chars()
            .all(|c| c == '🚀')
    );
    let unit = |kind: ProviderKind, name: &str| {
        herald_providers::info(kind)
            .limits
            .into_iter()
            .find(|l| l.name == name)
            .unwrap()
            .unit
    };
    assert_eq!(unit(ProviderKind::Jira, "summary"), "utf16_code_units");
    assert_eq!(unit(ProviderKind::Discord, "embed_title"), "code_points");
    assert_eq!(unit(ProviderKind::Teams, "payload"), "bytes");
}

#[test]
fn truncation_keeps_whole_graphemes() {
    // A family emoji is one grapheme of five code points (eight UTF-16
    // units); a flag is two code points. A cut never splits either.
    let family = "👨\u{200d}👩\u{200d}👧";
    let data = json!({"title": format!("{}{}", "x".repeat(252), family.repeat(3)), "message": "🇫🇷".repeat(3000)});
    let b = body(
        &with(ProviderKind::Discord, json!({})),
        &event("x.y", &data),
    );
    let title = b["embeds"][0]["title"].as_str().unwrap();
    assert!(title.chars().count() <= 256);
    let kept = title.trim_start_matches('x').trim_end_matches(MARK);
    assert!(
        kept.is_empty() || kept.split(family).all(str::is_empty),
        "{kept:?}"
    );
    let description = b["embeds"][0]["description"].as_str().unwrap();
    let flags = description.trim_end_matches(MARK);
    assert_eq!(flags.chars().count() % 2, 0, "a flag was split");
}

#[test]
fn oversized_zapier_carries_the_whole_event() {
    let data = oversized();
    let b = oversized_body(ProviderKind::Zapier, json!({}));
    assert_eq!(b["data"], data);
    assert_eq!(b["notification"]["fields"].as_array().unwrap().len(), 61);
}

// ---------------------------------------------------------------- judging

fn judge(
    kind: ProviderKind,
    status: u16,
    body: &str,
    retry_after: Option<&str>,
) -> herald_providers::Answer {
    let (url, settings) = valid(kind);
    provider(kind, url, settings).judge(status, body, retry_after)
}

#[test]
fn slack_success_is_200_ok_only() {
    use ProviderKind::Slack;
    assert_eq!(judge(Slack, 200, "ok", None).verdict, Verdict::Success);
    let a = judge(Slack, 200, "invalid_payload", None);
    assert_eq!(a.verdict, Verdict::Permanent);
    assert_eq!(a.message.as_deref(), Some("invalid_payload"));
    let a = judge(Slack, 404, "channel_not_found", None);
    assert_eq!(
        (a.verdict, a.message.as_deref()),
        (Verdict::Permanent, Some("channel_not_found"))
    );
    assert_eq!(
        judge(Slack, 410, "channel_is_archived", None).verdict,
        Verdict::Permanent
    );
    assert_eq!(
        judge(Slack, 400, "no_text", None).verdict,
        Verdict::Permanent
    );
    let a = judge(Slack, 429, "rate_limited", Some("30"));
    assert_eq!(
        (a.verdict, a.retry_after),
        (Verdict::Retryable, Some(Duration::from_secs(30)))
    );
    assert_eq!(judge(Slack, 503, "", None).verdict, Verdict::Retryable);
}

#[test]
fn discord_rate_limits_use_the_json_retry_after() {
    use ProviderKind::Discord;
    assert_eq!(judge(Discord, 204, "", None).verdict, Verdict::Success);
    let a = judge(
        Discord,
        429,
        r#"{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}"#,
        Some("2"),
    );
    assert_eq!(a.verdict, Verdict::Retryable);
    assert_eq!(a.retry_after, Some(Duration::from_millis(1500)));
    assert_eq!(
        judge(Discord, 429, "", Some("3")).retry_after,
        Some(Duration::from_secs(3))
    );
    let a = judge(
        Discord,
        404,
        r#"{"message": "Unknown Webhook", "code": 10015}"#,
        None,
    );
    assert_eq!(a.verdict, Verdict::Permanent);
    assert!(a.message.unwrap().contains("Unknown Webhook"));
    assert_eq!(
        judge(Discord, 400, r#"{"message": "Invalid Form Body"}"#, None).verdict,
        Verdict::Permanent
    );
    assert_eq!(judge(Discord, 502, "", None).verdict, Verdict::Retryable);
}

#[test]
fn pagerduty_400_is_permanent_with_its_message() {
    use ProviderKind::PagerDuty;
    assert_eq!(
        judge(PagerDuty, 202, r#"{"status":"success"}"#, None).verdict,
        Verdict::Success
    );
    let a = judge(
        PagerDuty,
        400,
        r#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}"#,
        None,
    );
    assert_eq!(a.verdict, Verdict::Permanent);
    assert_eq!(
        a.message.as_deref(),
        Some(
            "Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)"
        )
    );
    assert_eq!(judge(PagerDuty, 429, "", None).verdict, Verdict::Retryable);
    assert_eq!(judge(PagerDuty, 500, "", None).verdict, Verdict::Retryable);
}

#[test]
fn other_providers_judge_by_their_rules() {
    use ProviderKind::*;
    let a = judge(
        GitHub,
        403,
        r#"{"message": "API rate limit exceeded for user"}"#,
        Some("60"),
    );
    assert_eq!(
        (a.verdict, a.retry_after),
        (Verdict::Retryable, Some(Duration::from_secs(60)))
    );
    let a = judge(
        GitHub,
        403,
        r#"{"message": "Resource not accessible by integration"}"#,
        None,
    );
    assert_eq!(a.verdict, Verdict::Permanent);
    let a = judge(
        GitHub,
        422,
        r#"{"message": "Validation Failed", "errors": [{"message": "label is bad"}]}"#,
        None,
    );
    assert_eq!(
        (a.verdict, a.message.as_deref()),
        (Verdict::Permanent, Some("Validation Failed: label is bad"))
    );
    assert_eq!(judge(GitHub, 201, "{}", None).verdict, Verdict::Success);
    let a = judge(
        Jira,
        400,
        r#"{"errorMessages": [], "errors": {"project": "project is required"}}"#,
        None,
    );
    assert_eq!(
        (a.verdict, a.message.as_deref()),
        (Verdict::Permanent, Some("project: project is required"))
    );
    assert_eq!(judge(Jira, 201, "{}", None).verdict, Verdict::Success);
    assert_eq!(judge(Jira, 429, "", None).verdict, Verdict::Retryable);
    assert_eq!(judge(Teams, 202, "", None).verdict, Verdict::Success);
    assert_eq!(judge(Teams, 400, "", None).verdict, Verdict::Permanent);
    assert_eq!(judge(Teams, 429, "", None).verdict, Verdict::Retryable);
    assert_eq!(judge(Mattermost, 200, "ok", None).verdict, Verdict::Success);
    let a = judge(
        Mattermost,
        400,
        r#"{"message": "Unable to parse incoming data"}"#,
        None,
    );
    assert_eq!(
        (a.verdict, a.message.as_deref()),
        (Verdict::Permanent, Some("Unable to parse incoming data"))
    );
    assert_eq!(
        judge(
            GoogleChat,
            400,
            r#"{"error": {"code": 400, "message": "Invalid JSON", "status": "INVALID_ARGUMENT"}}"#,
            None
        )
        .message
        .as_deref(),
        Some("INVALID_ARGUMENT: Invalid JSON")
    );
    assert_eq!(judge(Datadog, 202, "{}", None).verdict, Verdict::Success);
    assert_eq!(
        judge(Datadog, 403, r#"{"errors": ["Forbidden"]}"#, None)
            .message
            .as_deref(),
        Some("Forbidden")
    );
    assert_eq!(judge(Zapier, 200, "{}", None).verdict, Verdict::Success);
    assert_eq!(judge(Webhook, 408, "", None).verdict, Verdict::Retryable);
    assert_eq!(judge(Webhook, 302, "", None).verdict, Verdict::Permanent);
}

// ---------------------------------------------------------------- catalog

#[test]
fn catalog_lists_all_twelve_providers_with_their_settings() {
    let list = catalog();
    let names: Vec<&str> = list.iter().map(|p| p.name).collect();
    let kinds: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names, kinds);
    assert_eq!(names.len(), 12);
    let json = serde_json::to_value(&list).unwrap();
    let type_ok = |t: &str| {
        ["string", "boolean", "integer", "string[]", "object"].contains(&t)
            || (t.starts_with("enum(") && t.ends_with(')'))
    };
    for (info, entry) in list.iter().zip(json.as_array().unwrap()) {
        assert!(!info.title.is_empty() && !info.description.is_empty());
        for s in &info.settings {
            assert!(
                type_ok(s.kind),
                "{}: {} has type {}",
                info.name,
                s.name,
                s.kind
            );
            assert!(!s.description.is_empty());
        }
        if info.name != "webhook" {
            assert!(
                info.settings.iter().any(|s| s.name == "template"),
                "{}",
                info.name
            );
        }
        assert!(
            entry["settings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s.get("type").is_some())
        );
    }
    let required = |name: &str| -> Vec<&str> {
        list.iter()
            .find(|p| p.name == name)
            .unwrap()
            .settings
            .iter()
            .filter(|s| s.required)
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(required("pagerduty"), ["routing_key"]);
    assert_eq!(required("jira"), ["email", "api_token", "project_key"]);
    assert_eq!(required("github"), ["token", "repository"]);
    assert_eq!(required("email"), ["to"]);
    let slack = list.iter().find(|p| p.name == "slack").unwrap();
    assert_eq!(slack.default_rate_limit.unwrap().per_second, 1.0);
    assert!(
        slack
            .limits
            .iter()
            .any(|l| l.name == "blocks" && l.value == 50)
    );
}

#[test]
fn every_catalog_setting_is_read_by_its_provider() {
    // A setting the catalog lists but the parser never reads would be
    // refused as unknown; `null` counts as absent, so this parses only if
    // every listed name is taken.
    for info in catalog() {
        let kind = ProviderKind::parse(info.name).unwrap();
        let (url, mut settings) = valid(kind);
        for s in &info.settings {
            if settings.get(s.name).is_none() {
                settings[s.name] = Value::Null;
            }
        }
        let parsed = Provider::parse(kind, url, &settings, &UrlPolicy::default());
        assert!(parsed.is_ok(), "{}: {:?}", info.name, parsed.err());
        assert_eq!(parsed.unwrap().kind(), kind);
    }
}

#[test]
fn every_provider_renders_the_example_event() {
    let data = training_data();
    for kind in ProviderKind::ALL {
        let (url, settings) = valid(kind);
        let p = provider(kind, url, settings);
        let out = p
            .render(&EventInput {
                id: EVENT_ID,
                event_type: "training.complete",
                timestamp_ms: TIMESTAMP_MS,
                data: &data,
            })
            .unwrap();
        match (kind, out) {
            (ProviderKind::Webhook, None) | (ProviderKind::Email, Some(Rendered::Email(_))) => {}
            (_, Some(Rendered::Http(req))) => {
                assert_eq!(
                    req.header_value("content-type"),
                    Some("application/json"),
                    "{kind}"
                );
                let _: Value = serde_json::from_slice(&req.body).unwrap();
            }
            (kind, other) => panic!("{kind}: unexpected {other:?}"),
        }
    }
}
