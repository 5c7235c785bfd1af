//! Event data a third party wrote, rendered for every provider in the
//! catalog: it must never page a channel, plant a link or markup, carry a
//! URL a schema would refuse, break a limit or a title line. Each fixture
//! under `tests/fixtures/hostile/` goes through every provider, in every
//! format, with a template that interpolates the hostile data, and (for
//! mentions) with the mention opt-ins off and on.

mod common;

use common::*;
use herald_providers::{EventInput, Provider, ProviderKind, Rendered, info};
use serde_json::{Value, json};

const FIXTURES: [&str; 3] = ["oversized", "mentions", "urls"];

/// The mention syntaxes: what a provider's broadcasts look like.
fn broadcasts(kind: ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::Slack => &["<!channel>", "<!here>", "<!everyone>"],
        ProviderKind::Discord => &["@everyone", "@here"],
        ProviderKind::GoogleChat => &["<users/all>"],
        ProviderKind::Mattermost => &["@channel", "@all", "@here"],
        _ => &[],
    }
}

fn has_mentions(kind: ProviderKind) -> bool {
    !broadcasts(kind).is_empty()
}

/// Targets that read Markdown.
fn reads_markdown(kind: ProviderKind) -> bool {
    matches!(
        kind,
        ProviderKind::Discord
            | ProviderKind::Mattermost
            | ProviderKind::GitHub
            | ProviderKind::Datadog
            | ProviderKind::Teams
    )
}

/// A template that puts the hostile data everywhere a template can.
fn hostile_template() -> Value {
    json!({"template": {
        "title": "Deploy {{ event.data.title }}",
        "body": "**Run** {{ event.data.message }} {{ event.data.mentions }}",
        "fields": {"From data": "_{{ event.data.title }}_", "Link": "{{ event.data.dashboard_url }}"},
        "links": [
            {"label": "{{ event.data.title }}", "url": "{{ event.data.dashboard_url }}"},
            {"label": "Raw", "url": "https://x.example/{{ event.data.title }}"},
        ],
        "footer": "{{ event.data.title }}",
    }})
}

/// Every way a provider can be set up to render, as extra settings.
fn variants(kind: ProviderKind, fixture: &str) -> Vec<Value> {
    let mut list = match kind {
        ProviderKind::Webhook => return vec![json!({})],
        ProviderKind::Slack
        | ProviderKind::Discord
        | ProviderKind::Mattermost
        | ProviderKind::GoogleChat
        | ProviderKind::Email => vec![json!({}), json!({"use_rich_formatting": false})],
        ProviderKind::Teams => vec![
            json!({}),
            json!({"use_rich_formatting": false}),
            json!({"format": "message_card"}),
            json!({"format": "message_card", "use_rich_formatting": false}),
        ],
        ProviderKind::GitHub => vec![json!({}), json!({"mode": "comment", "issue_number": "7"})],
        _ => vec![json!({})],
    };
    let templated: Vec<Value> = list.iter().map(|v| merge(v, &hostile_template())).collect();
    list.extend(templated);
    if fixture == "mentions" && has_mentions(kind) {
        let mut with_opt_ins = Vec::new();
        for v in &list {
            for (individual, broadcast) in [(true, false), (false, true), (true, true)] {
                with_opt_ins.push(merge(
                    v,
                    &json!({"mention_on_failure": true, "mentions_from_data": individual,
                            "allow_broadcast_from_data": broadcast}),
                ));
            }
        }
        list.extend(with_opt_ins);
    }
    list
}

/// The start of a long text, for failure messages.
fn short(s: &str) -> String {
    let cut: String = s.chars().take(300).collect();
    if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

fn merge(a: &Value, b: &Value) -> Value {
    let mut out = a.clone();
    for (k, v) in b.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}

/// What one render produced, ready to inspect.
struct Output {
    kind: ProviderKind,
    what: String,
    /// The JSON body (for email: `{subject, text, html}`), without the
    /// parts that carry the event data as it came by design (Zapier's
    /// `data`, PagerDuty's `custom_details`).
    body: Value,
    /// The body's size in bytes as sent.
    bytes: usize,
    settings: Value,
    broadcast_opt_in: bool,
    /// The links the webhook's notification allows, as normalised.
    links: Vec<String>,
}

fn render_all() -> Vec<Output> {
    let mut out = Vec::new();
    for name in FIXTURES {
        let (event_type, data) = fixture(name);
        let event = EventInput {
            id: EVENT_ID,
            event_type: &event_type,
            timestamp_ms: TIMESTAMP_MS,
            data: &data,
        };
        for kind in ProviderKind::ALL {
            for extra in variants(kind, name) {
                let (url, settings) = valid(kind);
                let settings = merge(&settings, &extra);
                let p = Provider::parse(
                    kind,
                    url,
                    &settings,
                    &herald_core::webhook::UrlPolicy::default(),
                )
                .unwrap_or_else(|e| panic!("{kind} {settings}: {e}"));
                let Some(rendered) = p.render(&event).unwrap() else {
                    assert_eq!(kind, ProviderKind::Webhook);
                    continue;
                };
                let links = p
                    .notification(&event)
                    .unwrap()
                    .links
                    .into_iter()
                    .map(|l| l.url)
                    .collect();
                let (mut body, bytes) = match rendered {
                    Rendered::Email(m) => (
                        json!({"subject": m.subject, "text": m.text, "html": m.html}),
                        m.text.len() + m.html.len(),
                    ),
                    Rendered::Http(req) => {
                        (serde_json::from_slice(&req.body).unwrap(), req.body.len())
                    }
                };
                if kind == ProviderKind::Zapier {
                    body.as_object_mut().unwrap().remove("data");
                }
                if let Some(payload) = body.get_mut("payload").and_then(Value::as_object_mut) {
                    payload.remove("custom_details");
                }
                out.push(Output {
                    kind,
                    what: format!("{kind} {name} {extra}"),
                    body,
                    bytes,
                    broadcast_opt_in: extra["allow_broadcast_from_data"] == json!(true),
                    settings,
                    links,
                });
            }
        }
    }
    assert!(out.len() > 100, "only {} renders", out.len());
    out
}

/// Every string of a JSON value with the path of keys it is under
/// (`embeds/footer/text`; array indices left out).
fn strings<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => out.push((path, s)),
        Value::Array(list) => list.iter().for_each(|v| strings(v, path.clone(), out)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| strings(v, format!("{path}/{k}"), out)),
        _ => {}
    }
}

fn all_strings(v: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    strings(v, String::new(), &mut out);
    out
}

/// Whether `needle` occurs in `s` without a backslash escaping it.
fn unescaped(s: &str, needle: &str) -> bool {
    s.match_indices(needle)
        .any(|(i, _)| s[..i].chars().rev().take_while(|c| *c == '\\').count() % 2 == 0)
}

/// The destinations of live Markdown links `[label](dest)` in `s`.
fn markdown_links(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, _) in s.match_indices("](") {
        let escaped = s[..i].chars().rev().take_while(|c| *c == '\\').count() % 2 == 1;
        let opened = s[..i]
            .match_indices('[')
            .any(|(j, _)| s[..j].chars().rev().take_while(|c| *c == '\\').count() % 2 == 0);
        if escaped || !opened {
            continue;
        }
        let rest = &s[i + 2..];
        out.push(&rest[..rest.find(')').unwrap_or(rest.len())]);
    }
    out
}

/// The places the service shows as plain text, where markup is not read
/// (notification fallbacks and summaries, button titles, issue and event
/// titles, Discord footers).
fn is_plain_place(kind: ProviderKind, path: &str) -> bool {
    let key = path.rsplit('/').next().unwrap_or("");
    matches!(key, "fallback" | "fallbackText" | "summary")
        || (kind == ProviderKind::Teams
            && (path.ends_with("actions/title") || path.ends_with("potentialAction/name")))
        || (matches!(kind, ProviderKind::GitHub | ProviderKind::Datadog) && path == "/title")
        || (kind == ProviderKind::Discord && path.ends_with("footer/text"))
}

#[test]
fn no_broadcast_mention_from_event_data_survives_unless_opted_in() {
    for o in render_all() {
        if o.broadcast_opt_in {
            continue;
        }
        for (_, s) in all_strings(&o.body) {
            for b in broadcasts(o.kind) {
                // Markdown escapes `<`; a zero-width space breaks `@word`.
                assert!(
                    !unescaped(s, b),
                    "{}: {b} is live in {:?}",
                    o.what,
                    short(s)
                );
            }
            // Mattermost turns Slack's <!channel> into @channel, even
            // after a backslash.
            if matches!(o.kind, ProviderKind::Slack | ProviderKind::Mattermost) {
                assert!(!s.contains("<!channel>"), "{}: {:?}", o.what, short(s));
            }
        }
        if o.kind == ProviderKind::Discord {
            assert_eq!(o.body["allowed_mentions"]["parse"], json!([]), "{}", o.what);
        }
        if o.kind == ProviderKind::Zapier {
            assert_eq!(o.body["notification"]["mentions"], json!([]), "{}", o.what);
        }
    }
}

#[test]
fn no_live_link_or_markup_from_event_data() {
    for o in render_all() {
        let allowed: Vec<String> = o
            .links
            .iter()
            .map(|u| u.replace('(', "%28").replace(')', "%29"))
            .collect();
        for (path, s) in all_strings(&o.body) {
            let plain_target = matches!(
                o.kind,
                ProviderKind::PagerDuty | ProviderKind::Jira | ProviderKind::Zapier
            ) || (o.kind == ProviderKind::Email && path != "/html");
            if plain_target || is_plain_place(o.kind, &path) {
                continue;
            }
            if reads_markdown(o.kind) {
                for dest in markdown_links(s) {
                    assert!(
                        allowed.iter().any(|a| a == dest),
                        "{}: a live link to {dest} in {:?}",
                        o.what,
                        short(s)
                    );
                }
                for live in ["<script", "<img", "<b>", "<https://evil", "`code`", "||"] {
                    assert!(
                        !unescaped(s, live),
                        "{}: {live} is live in {:?}",
                        o.what,
                        short(s)
                    );
                }
            }
            // Slack and Google Chat links are <url|text>, which Mattermost
            // also reads, even after a backslash.
            if matches!(
                o.kind,
                ProviderKind::Slack
                    | ProviderKind::GoogleChat
                    | ProviderKind::Email
                    | ProviderKind::Mattermost
            ) {
                for live in ["<script", "<img", "<https://evil", "<b>html"] {
                    assert!(
                        !s.contains(live),
                        "{}: {live} is live in {:?}",
                        o.what,
                        short(s)
                    );
                }
            }
        }
    }
}

/// The URLs a body sends as links: URL-valued keys, Markdown link
/// destinations and HTML `href`s.
fn sent_urls(o: &Output) -> Vec<String> {
    let mut out = Vec::new();
    for (path, s) in all_strings(&o.body) {
        let key = path.rsplit('/').next().unwrap_or("");
        if matches!(
            key,
            "url" | "href" | "title_link" | "uri" | "avatar_url" | "icon_url"
        ) {
            out.push(s.to_string());
        }
        if reads_markdown(o.kind) && !is_plain_place(o.kind, &path) {
            out.extend(markdown_links(s).into_iter().map(str::to_string));
        }
        for (i, _) in s.match_indices("href=\"") {
            let rest = &s[i + 6..];
            let url = &rest[..rest.find('"').unwrap()];
            out.push(url.replace("&amp;", "&"));
        }
    }
    out
}

#[test]
fn every_url_sent_parses_as_an_encoded_web_url() {
    let mut seen = 0;
    for o in render_all() {
        for u in sent_urls(&o) {
            seen += 1;
            let parsed = url::Url::parse(&u).unwrap_or_else(|e| panic!("{}: {u}: {e}", o.what));
            assert!(
                matches!(parsed.scheme(), "http" | "https"),
                "{}: {u}",
                o.what
            );
            assert!(
                parsed.host_str().is_some_and(|h| !h.is_empty()),
                "{}: {u}",
                o.what
            );
            assert!(
                parsed.username().is_empty() && parsed.password().is_none(),
                "{}: {u}",
                o.what
            );
            let bad = u.chars().find(|c| {
                c.is_whitespace() || c.is_control() || !c.is_ascii() || "<>\"{}|\\^`".contains(*c)
            });
            assert_eq!(bad, None, "{}: {u}", o.what);
        }
    }
    assert!(seen > 100, "only {seen} URLs checked");
}

/// The texts a provider's limit applies to, from what was sent.
fn limited<'a>(o: &'a Output, limit: &str) -> Vec<&'a str> {
    let b = &o.body;
    let s = |v: &'a Value| v.as_str().into_iter().collect::<Vec<_>>();
    let each = |list: &'a Value, key: &'static str| -> Vec<&'a str> {
        list.as_array()
            .map(|l| l.iter().filter_map(|v| v[key].as_str()).collect())
            .unwrap_or_default()
    };
    let slack_blocks = || {
        b["blocks"].as_array().into_iter().flatten().chain(
            b["attachments"][0]["blocks"]
                .as_array()
                .into_iter()
                .flatten(),
        )
    };
    match (o.kind, limit) {
        (ProviderKind::Slack, "header_text") => s(&b["blocks"][0]["text"]["text"]),
        (ProviderKind::Slack, "section_text") => slack_blocks()
            .filter(|blk| blk["type"] == "section")
            .filter_map(|blk| blk["text"]["text"].as_str())
            .collect(),
        (ProviderKind::Slack, "field_text") => slack_blocks()
            .flat_map(|blk| each(&blk["fields"], "text"))
            .collect(),
        (ProviderKind::Slack, "button_text") => slack_blocks()
            .flat_map(|blk| blk["elements"].as_array().into_iter().flatten())
            .filter_map(|e| e["text"]["text"].as_str())
            .collect(),
        (ProviderKind::Slack, "text") => s(&b["text"]),
        (ProviderKind::Discord, "content") => s(&b["content"]),
        (ProviderKind::Discord, "embed_title") => s(&b["embeds"][0]["title"]),
        (ProviderKind::Discord, "embed_description") => s(&b["embeds"][0]["description"]),
        (ProviderKind::Discord, "field_name") => each(&b["embeds"][0]["fields"], "name"),
        (ProviderKind::Discord, "field_value") => each(&b["embeds"][0]["fields"], "value"),
        (ProviderKind::Discord, "footer") => s(&b["embeds"][0]["footer"]["text"]),
        (ProviderKind::Teams, "title") => {
            let card = &b["attachments"][0]["content"];
            let mut t = s(&b["title"]);
            if o.settings["use_rich_formatting"] != json!(false) {
                t.extend(s(&card["body"][0]["items"][0]["text"]));
            }
            t
        }
        (ProviderKind::GoogleChat, "text") => {
            if o.settings["use_rich_formatting"] == json!(false) {
                s(&b["text"])
            } else {
                Vec::new()
            }
        }
        (ProviderKind::Email, "subject") => s(&b["subject"]),
        (ProviderKind::PagerDuty, "summary") => s(&b["payload"]["summary"]),
        (ProviderKind::PagerDuty, "dedup_key") => s(&b["dedup_key"]),
        (ProviderKind::Jira, "summary") => s(&b["fields"]["summary"]),
        (ProviderKind::GitHub, "title") => s(&b["title"]),
        (ProviderKind::GitHub, "body") => s(&b["body"]),
        (ProviderKind::Datadog, "title") => s(&b["title"]),
        (ProviderKind::Datadog, "text") => s(&b["text"]),
        (kind, name) => panic!("{kind}: the test does not know where limit {name} applies"),
    }
}

/// A total or a count the limit applies to, where it is not one text.
fn measured(o: &Output, limit: &str, unit: &str) -> Option<usize> {
    let b = &o.body;
    let count = |s: &str| match unit {
        "bytes" => s.len(),
        "code_points" => s.chars().count(),
        "utf16_code_units" => s.encode_utf16().count(),
        other => panic!("unknown unit {other}"),
    };
    let text = |v: &Value| v.as_str().map_or(0, count);
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    Some(match (o.kind, limit) {
        (ProviderKind::Slack, "blocks") => len(&b["blocks"]) + len(&b["attachments"][0]["blocks"]),
        (ProviderKind::Slack, "section_fields") => b["attachments"][0]["blocks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|blk| len(&blk["fields"]))
            .max()
            .unwrap_or(0),
        (ProviderKind::Discord, "embed_fields") => len(&b["embeds"][0]["fields"]),
        (ProviderKind::Discord, "embed_total") => {
            let e = &b["embeds"][0];
            text(&e["title"])
                + text(&e["description"])
                + text(&e["footer"]["text"])
                + e["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| text(&f["name"]) + text(&f["value"]))
                    .sum::<usize>()
        }
        (ProviderKind::Teams | ProviderKind::GoogleChat, "payload") => o.bytes,
        (ProviderKind::Teams, "actions") => {
            len(&b["attachments"][0]["content"]["actions"]).max(len(&b["potentialAction"]))
        }
        (ProviderKind::Teams, "facts") => {
            let card = &b["attachments"][0]["content"]["body"];
            card.as_array()
                .into_iter()
                .flatten()
                .map(|i| len(&i["facts"]))
                .chain([len(&b["sections"][0]["facts"])])
                .max()
                .unwrap_or(0)
        }
        (ProviderKind::Mattermost, "text") => {
            let a = &b["attachments"][0];
            text(&b["text"])
                + text(&a["title"])
                + text(&a["text"])
                + text(&a["footer"])
                + a["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| text(&f["title"]) + text(&f["value"]))
                    .sum::<usize>()
        }
        (ProviderKind::Mattermost, "fields") => len(&b["attachments"][0]["fields"]),
        (ProviderKind::GoogleChat, "buttons") => b["cardsV2"][0]["card"]["sections"][0]["widgets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| len(&w["buttonList"]["buttons"]))
            .sum(),
        // Herald's own bounds on mail, which no mail system counts: the
        // recipients are settings, and the body is one part of the text.
        (ProviderKind::Email, "recipients" | "body") => 0,
        // Files come only with `settings.attachments`, and their caps are
        // checked where the list is read; these outputs carry none.
        (ProviderKind::Email, "attachments" | "attachment_bytes" | "attachments_total_bytes") => 0,
        (ProviderKind::Datadog, "metric_tags") => len(&b["series"][0]["tags"]),
        (ProviderKind::PagerDuty, "event") => o.bytes,
        (ProviderKind::Jira, "description") => serde_json::to_vec(&b["fields"]["description"])
            .unwrap()
            .len(),
        _ => return None,
    })
}

#[test]
fn every_limit_holds_in_the_providers_unit() {
    for o in render_all() {
        for l in info(o.kind).limits {
            let max = l.value as usize;
            if let Some(n) = measured(&o, l.name, if l.unit == "items" { "bytes" } else { l.unit })
            {
                assert!(
                    n <= max,
                    "{}: {} is {n} {}, over {max}",
                    o.what,
                    l.name,
                    l.unit
                );
                continue;
            }
            assert_ne!(l.unit, "items", "{}: count {} not checked", o.what, l.name);
            for text in limited(&o, l.name) {
                let n = match l.unit {
                    "bytes" => text.len(),
                    "code_points" => text.chars().count(),
                    "utf16_code_units" => text.encode_utf16().count(),
                    other => panic!("{}: unknown unit {other}", o.what),
                };
                assert!(
                    n <= max,
                    "{}: {} is {n} {}, over {max}: {text:?}",
                    o.what,
                    l.name,
                    l.unit
                );
            }
        }
    }
}

/// Where each provider shows the title as a line of its own.
fn titles(o: &Output) -> Vec<&str> {
    let b = &o.body;
    let rich = o.settings["use_rich_formatting"] != json!(false);
    let v: Vec<&Value> = match o.kind {
        ProviderKind::Slack if rich => vec![&b["blocks"][0]["text"]["text"], &b["text"]],
        ProviderKind::Discord if rich => vec![&b["embeds"][0]["title"]],
        ProviderKind::Teams => vec![
            &b["attachments"][0]["content"]["body"][0]["items"][0]["text"],
            &b["title"],
            &b["summary"],
        ],
        ProviderKind::Mattermost if rich => {
            vec![
                &b["attachments"][0]["title"],
                &b["attachments"][0]["fallback"],
            ]
        }
        ProviderKind::GoogleChat if rich => vec![
            &b["fallbackText"],
            &b["cardsV2"][0]["card"]["header"]["title"],
        ],
        ProviderKind::Email => vec![&b["subject"]],
        ProviderKind::PagerDuty => vec![&b["payload"]["summary"]],
        ProviderKind::Jira => vec![&b["fields"]["summary"]],
        ProviderKind::GitHub | ProviderKind::Datadog => vec![&b["title"]],
        ProviderKind::Zapier => vec![&b["notification"]["title"]],
        _ => Vec::new(),
    };
    v.into_iter().filter_map(Value::as_str).collect()
}

#[test]
fn titles_are_one_line() {
    let mut seen = 0;
    for o in render_all() {
        for t in titles(&o) {
            seen += 1;
            assert!(!t.is_empty(), "{}: an empty title", o.what);
            let bad = t.chars().find(|c| {
                c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            });
            assert_eq!(bad, None, "{}: {t:?}", o.what);
        }
    }
    assert!(seen > 100, "only {seen} titles checked");
}
