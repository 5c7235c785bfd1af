//! The page shell (header, navigation, main) and the small pieces every
//! page uses: times, status badges, the CSRF field, flash messages.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use super::assets;
use super::session::Session;

/// The console's sections, in navigation order: path, label, and the
/// feature a limited session needs for it (`None`: the overview, always).
const SECTIONS: [(&str, &str, Option<&str>); 8] = [
    ("/ui", "Overview", None),
    ("/ui/webhooks", "Webhooks", Some("webhooks")),
    ("/ui/deliveries", "Deliveries", Some("deliveries")),
    ("/ui/events", "Events", Some("events")),
    ("/ui/event-types", "Event types", Some("event_types")),
    ("/ui/schedules", "Schedules", Some("schedules")),
    ("/ui/providers", "Integrations", Some("webhooks")),
    ("/ui/audit", "Audit log", Some("audit")),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Herald" }
            link rel="stylesheet" href=(assets::STYLESHEET);
            link rel="icon" href=(assets::ICON) type="image/svg+xml";
            script src=(assets::SCRIPT) defer {}
        }
    }
}

/// A page for a signed-in session; `active` is the section's path.
pub(crate) fn page(session: &Session, title: &str, active: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/ui" { (logo()) span { "Herald" } }
                    nav aria-label="Sections" {
                        ul {
                            @for (path, label, feature) in SECTIONS {
                                @if feature.is_none_or(|f| session.allows(f)) {
                                    li {
                                        a href=(path) aria-current=[(path == active).then_some("page")] { (label) }
                                    }
                                }
                            }
                            @if session.is_admin() && !session.row.portal {
                                li { a href="/ui/tenants" aria-current=[("/ui/tenants" == active).then_some("page")] { "Tenants" } }
                            }
                        }
                    }
                    div.who {
                        span { (session.who()) }
                        @if session.row.read_only { span.badge.muted { "read-only" } }
                        form method="post" action="/ui/sign-out" {
                            (csrf(session))
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// A page without a session: sign-in, errors, the portal's landing.
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                main #main { (body) }
            }
        }
    }
}

fn logo() -> Markup {
    PreEscaped(assets::LOGO_SVG.to_string())
}

/// The hidden CSRF field every state-changing form carries.
pub(crate) fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.row.csrf_token); }
}

/// A time from the API (RFC 3339, UTC), shown in the browser's zone by the
/// console script, with UTC on hover; `—` when absent.
pub(crate) fn time(value: &Value) -> Markup {
    match value.as_str() {
        Some(t) => {
            html! { time datetime=(t) title=(format!("{t} UTC")) { (t.replace('T', " ").trim_end_matches('Z')) " UTC" } }
        }
        None => html! { span.muted { "—" } },
    }
}

/// A status or health word as a coloured badge.
pub(crate) fn badge(word: &str) -> Markup {
    let tone = match word {
        "delivered" | "active" | "healthy" | "success" => "good",
        "failed" | "failing" | "disabled" | "dead" => "bad",
        "retrying" | "degraded" | "paused" | "held" | "scheduled" => "warn",
        _ => "muted",
    };
    html! { span class={"badge " (tone)} { (word) } }
}

/// A notice above a page's content: `good` or `bad`.
pub(crate) fn notice(tone: &str, message: &str) -> Markup {
    html! { p class={"notice " (tone)} role="status" { (message) } }
}

/// A JSON value as text for a `<pre>` block.
pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A number, or `—` for a missing one (a rate with no data is `null`).
pub(crate) fn figure(value: &Value, unit: &str) -> String {
    match value.as_f64() {
        Some(n) if unit == "%" => format!("{:.1}%", n * 100.0),
        Some(n) if n.fract() == 0.0 => format!("{n:.0}{unit}"),
        Some(n) => format!("{n:.1}{unit}"),
        None => "—".to_string(),
    }
}

/// "Nothing here yet" with what to do about it.
pub(crate) fn empty(message: &str, next: Markup) -> Markup {
    html! { div.empty { p { (message) } (next) } }
}

/// "Older" link of a cursor-paginated list, when there is more.
pub(crate) fn next_page(base: &str, answer: &Value) -> Markup {
    match answer["next_cursor"].as_str() {
        Some(cursor) => {
            let joiner = if base.contains('?') { '&' } else { '?' };
            let href = format!("{base}{joiner}cursor={}", super::encode(cursor));
            html! { nav.pager aria-label="Pages" { a href=(href) { "Next page →" } } }
        }
        None => html! {},
    }
}
