//! Creating and editing a webhook: a form built from the provider
//! catalog (each provider's settings with their help), the advanced
//! settings as JSON, and the API's 422 shown at the field it names.
//!
//! The form posts to the console, which sends the JSON the API takes.
//! Editing sends only what changed: the API shows credentials masked, and a
//! masked value sent back unchanged must not replace the real one.

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::console::layout::{self, csrf};
use crate::console::page::{Answer, Form, PageResult, require};
use crate::console::session::Session;
use crate::console::{ConsoleState, encode};

/// The advanced settings edited as JSON text: name, label, help.
const JSON_FIELDS: [(&str, &str, &str); 7] = [
    (
        "retry",
        "Retry policy",
        "{\"strategy\": \"exponential\", \"max_retries\": 5, \"initial_delay_ms\": 1000}",
    ),
    (
        "rate_limit",
        "Rate limit",
        "{\"per_second\": 5}; empty: the provider's default",
    ),
    (
        "batch",
        "Batching",
        "{\"max_events\": 50, \"max_wait_ms\": 5000} or {\"schedule\": \"0 9 * * MON\", \"timezone\": \"Europe/Berlin\"}",
    ),
    (
        "filter",
        "Filter",
        "{\"data\": {\"severity\": {\"$in\": [\"high\", \"critical\"]}}} or {\"expr\": \"event.data.severity == 'high'\"}",
    ),
    (
        "transform",
        "Transformation (plain webhooks and Zapier)",
        "{\"include\": [\"data.id\"], \"method\": \"PUT\"}",
    ),
    ("headers", "Custom headers", "{\"X-Team\": \"ml\"}"),
    ("metadata", "Metadata", "{\"owner\": \"ml-platform\"}"),
];

/// What a form shows: the values to fill in, and the API's refusal.
struct Filled<'a> {
    /// The webhook as the API shows it (edit), or `{}` (new); overridden
    /// by what was posted when the form comes back with an error.
    values: Value,
    posted: Option<&'a Form>,
    error: Option<Answer>,
}

impl Filled<'_> {
    /// The text to put in field `name` (`url`, `settings.channel`, …).
    fn text(&self, name: &str, shown: impl Fn(&Value) -> String) -> String {
        if let Some(form) = self.posted {
            return form.get(name).unwrap_or("").to_string();
        }
        let value = match name.strip_prefix("settings.") {
            Some(setting) => &self.values["settings"][setting],
            None => &self.values[name],
        };
        if value.is_null() {
            String::new()
        } else {
            shown(value)
        }
    }

    /// The error message for field `name`, when the API named it (or a
    /// field under it: `retry.max_retries` is shown at `retry`).
    fn error_at(&self, name: &str) -> Option<String> {
        let answer = self.error.as_ref()?;
        let field = answer.error_field()?;
        owner_of(field).eq(name).then(|| answer.error_message())
    }
}

/// The form field an API error's `field` belongs to: `settings.<name>`
/// for a setting, else the top-level name (`event_types[2]` →
/// `event_types`, `filter.data.x` → `filter`).
fn owner_of(field: &str) -> String {
    let top_end = |s: &str| s.find(['.', '[']).unwrap_or(s.len());
    let top = &field[..top_end(field)];
    if top == "settings" && field.len() > top.len() + 1 {
        let rest = &field[top.len() + 1..];
        return format!("settings.{}", &rest[..top_end(rest)]);
    }
    top.to_string()
}

fn list_text(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn json_text(v: &Value) -> String {
    if v.as_object().is_some_and(Map::is_empty) {
        String::new()
    } else {
        layout::pretty(v)
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(_) => list_text(v),
        Value::Object(_) => layout::pretty(v),
        other => other.to_string(),
    }
}

/// One labelled input with its help and its error.
fn field(id: &str, label: &str, help: &str, error: Option<String>, input: Markup) -> Markup {
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-error");
    html! {
        div.field data-field=(id) {
            label for=(id) { (label) }
            (input)
            @if !help.is_empty() { p.help id=(help_id) { (help) } }
            @if let Some(e) = error { p.error id=(error_id) role="alert" { (e) } }
        }
    }
}

/// The attributes of an input: id, name, its help and error ids.
fn described(id: &str, has_error: bool) -> String {
    if has_error {
        format!("{id}-help {id}-error")
    } else {
        format!("{id}-help")
    }
}

fn text_input(
    filled: &Filled<'_>,
    name: &str,
    label: &str,
    help: &str,
    required: bool,
    shown: fn(&Value) -> String,
) -> Markup {
    let id = name.replace('.', "-");
    let error = filled.error_at(name);
    let invalid = error.is_some();
    field(
        &id,
        label,
        help,
        error,
        html! {
            input id=(id) type="text" name=(name) value=(filled.text(name, shown)) required[required]
                aria-invalid=[invalid.then_some("true")] aria-describedby=(described(&id, invalid));
        },
    )
}

fn json_input(filled: &Filled<'_>, name: &str, label: &str, help: &str) -> Markup {
    let id = name.replace('.', "-");
    let error = filled.error_at(name);
    let invalid = error.is_some();
    field(
        &id,
        label,
        help,
        error,
        html! {
            textarea id=(id) name=(name) aria-invalid=[invalid.then_some("true")] aria-describedby=(described(&id, invalid)) {
                (filled.text(name, json_text))
            }
        },
    )
}

/// A provider setting's input, by the catalog's type.
fn setting_input(filled: &Filled<'_>, s: &Value) -> Markup {
    let setting = s["name"].as_str().unwrap_or("");
    let name = format!("settings.{setting}");
    let id = name.replace('.', "-");
    let kind = s["type"].as_str().unwrap_or("string");
    let required = s["required"].as_bool() == Some(true);
    let mut help = s["description"].as_str().unwrap_or("").to_string();
    if kind == "string[]" {
        help.push_str(" (comma-separated)");
    }
    if kind == "object" {
        help.push_str(" (JSON)");
    }
    let label = if required {
        format!("{setting} (required)")
    } else {
        setting.to_string()
    };
    let error = filled.error_at(&name);
    let invalid = error.is_some();
    let current = filled.text(&name, scalar_text);
    let input = if kind == "boolean" {
        html! {
            select id=(id) name=(name) aria-describedby=(described(&id, invalid)) aria-invalid=[invalid.then_some("true")] {
                option value="" selected[current.is_empty()] { "default (" (s["default"]) ")" }
                option value="true" selected[current == "true"] { "true" }
                option value="false" selected[current == "false"] { "false" }
            }
        }
    } else if let Some(choices) = kind.strip_prefix("enum(").and_then(|k| k.strip_suffix(')')) {
        html! {
            select id=(id) name=(name) aria-describedby=(described(&id, invalid)) aria-invalid=[invalid.then_some("true")] {
                option value="" selected[current.is_empty()] { "default" }
                @for c in choices.split('|') { option value=(c) selected[current == c] { (c) } }
            }
        }
    } else if kind == "object" {
        html! {
            textarea id=(id) name=(name) aria-describedby=(described(&id, invalid)) aria-invalid=[invalid.then_some("true")] { (current) }
        }
    } else {
        let input_type = if kind == "integer" { "number" } else { "text" };
        html! {
            input id=(id) type=(input_type) name=(name) value=(current) required[required]
                aria-describedby=(described(&id, invalid)) aria-invalid=[invalid.then_some("true")];
        }
    };
    field(&id, &label, &help, error, input)
}

/// The whole form: `action` is where it posts, `provider` the catalog
/// entry whose settings it shows, `editing` the webhook's id.
fn form_page(
    session: &Session,
    registered: &[String],
    catalog: &[Value],
    provider: &Value,
    filled: &Filled<'_>,
    editing: Option<&str>,
) -> Markup {
    let provider_name = provider["name"].as_str().unwrap_or("webhook");
    let action = match editing {
        Some(id) => format!("/ui/webhooks/{}/edit", encode(id)),
        None => "/ui/webhooks/new".to_string(),
    };
    let general_error = filled
        .error
        .as_ref()
        .filter(|a| a.error_field().is_none() || a.status != StatusCode::UNPROCESSABLE_ENTITY)
        .map(Answer::error_message);
    let url_required = provider["url"]["required"].as_bool() == Some(true);
    html! {
        p { a href=(editing.map_or("/ui/webhooks".to_string(), |id| format!("/ui/webhooks/{}", encode(id)))) { "← Back" } }
        h1 { @if editing.is_some() { "Edit webhook" } @else { "New webhook" } }
        @if filled.error.is_some() {
            (layout::notice("bad", &filled.error.as_ref().map(Answer::error_message).unwrap_or_default()))
        }
        @if let Some(e) = general_error { p.muted { (e) } }
        form method="post" action=(action) novalidate {
            (csrf(session))
            section.card {
                @if editing.is_none() {
                    div.field {
                        label for="provider" { "Provider" }
                        select #provider name="provider" data-reload aria-describedby="provider-help" {
                            @for p in catalog {
                                @let name = p["name"].as_str().unwrap_or("");
                                option value=(name) selected[name == provider_name] { (p["title"].as_str().unwrap_or(name)) }
                            }
                        }
                        p.help #provider-help {
                            (provider["description"].as_str().unwrap_or(""))
                            " Changing it reloads the form with that provider's settings; or pick one from "
                            a href="/ui/providers" { "Integrations" } "."
                        }
                    }
                } @else {
                    input type="hidden" name="provider" value=(provider_name);
                    p { "Provider: " strong { (provider["title"].as_str().unwrap_or(provider_name)) } }
                }
                (text_input(filled, "name", "Name", "How the console and alerts name it.", true, scalar_text))
                @if !provider["url"].is_null() {
                    (text_input(filled, "url", if url_required { "URL (required)" } else { "URL" }, provider["url"]["description"].as_str().unwrap_or(""), url_required, scalar_text))
                }
                (text_input(filled, "event_types", "Event types", &event_types_help(registered), true, list_text))
                (text_input(filled, "description", "Description", "", false, scalar_text))
                (text_input(filled, "tags", "Tags", "Comma-separated.", false, list_text))
            }
            @let settings = provider["settings"].as_array().cloned().unwrap_or_default();
            @if !settings.is_empty() {
                section.card {
                    h2 { (provider["title"].as_str().unwrap_or(provider_name)) " settings" }
                    @for s in &settings { (setting_input(filled, s)) }
                }
            }
            details.card open[filled.error.as_ref().and_then(Answer::error_field).is_some_and(|f| JSON_FIELDS.iter().any(|(n, _, _)| owner_of(f) == *n) || f == "ordering" || f == "timeout_ms")] {
                summary { "Delivery settings: retries, rate limit, ordering, batching, filter, transformation" }
                div.field {
                    label for="ordering" { "Ordering" }
                    @let ordering = filled.text("ordering", scalar_text);
                    select #ordering name="ordering" aria-describedby="ordering-help" {
                        option value="" selected[ordering.is_empty()] { "default (none)" }
                        option value="none" selected[ordering == "none"] { "none: as fast as allowed" }
                        option value="fifo" selected[ordering == "fifo"] { "fifo: one at a time, in order" }
                    }
                    p.help #ordering-help { "fifo holds later events back while the oldest is retried." }
                    @if let Some(e) = filled.error_at("ordering") { p.error role="alert" { (e) } }
                }
                (text_input(filled, "timeout_ms", "Timeout (ms)", "How long one request may take, 1000–60000 (default 30000).", false, scalar_text))
                @for (name, label, help) in JSON_FIELDS { (json_input(filled, name, label, &format!("JSON, for example {help}"))) }
            }
            p { button type="submit" { @if editing.is_some() { "Save changes" } @else { "Create webhook" } } }
        }
    }
}

/// The event types field's help, with the registry's types.
fn event_types_help(registered: &[String]) -> String {
    let mut help = "Comma-separated; wildcards allowed (training.*, *).".to_string();
    if !registered.is_empty() {
        help.push_str(" Registered: ");
        help.push_str(&registered.join(", "));
        help.push('.');
    }
    help
}

/// The registry's live (not archived) event types, by name.
async fn registered(state: &ConsoleState, session: &Session) -> Vec<String> {
    if !session.allows("event_types") && !session.allows("webhooks") {
        return Vec::new();
    }
    let answer = state.call(session, Method::GET, "/event-types", None).await;
    answer.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["archived"].as_bool() != Some(true))
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

/// A comma- or newline-separated list.
fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A JSON error the console makes itself, shaped like the API's.
fn field_error(field: &str, message: String) -> Answer {
    Answer {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: json!({"error": {"code": "validation_error", "message": message, "field": field}}),
    }
}

/// The webhook body the form describes (empty fields left out), or the
/// field whose text is not what it must be.
fn body_of(form: &Form, provider: &Value) -> Result<Map<String, Value>, Answer> {
    let mut body = Map::new();
    body.insert("provider".into(), json!(provider["name"]));
    for name in ["name", "url", "description"] {
        let v = form.text(name);
        if !v.is_empty() {
            body.insert(name.into(), json!(v));
        }
    }
    for name in ["event_types", "tags"] {
        let v = form.text(name);
        if !v.is_empty() {
            body.insert(name.into(), json!(split_list(&v)));
        }
    }
    let ordering = form.text("ordering");
    if !ordering.is_empty() {
        body.insert("ordering".into(), json!(ordering));
    }
    let timeout = form.text("timeout_ms");
    if !timeout.is_empty() {
        let n: u64 = timeout.parse().map_err(|_| {
            field_error(
                "timeout_ms",
                "timeout_ms must be a whole number of milliseconds".into(),
            )
        })?;
        body.insert("timeout_ms".into(), json!(n));
    }
    for (name, _, _) in JSON_FIELDS {
        let text = form.text(name);
        if text.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| field_error(name, format!("{name} is not valid JSON: {e}")))?;
        body.insert(name.into(), v);
    }
    let mut settings = Map::new();
    for s in provider["settings"].as_array().into_iter().flatten() {
        let setting = s["name"].as_str().unwrap_or("");
        let field = format!("settings.{setting}");
        let text = form.text(&field);
        if text.is_empty() {
            continue;
        }
        let kind = s["type"].as_str().unwrap_or("string");
        let value = match kind {
            "boolean" => json!(text == "true"),
            "integer" => json!(
                text.parse::<i64>()
                    .map_err(|_| field_error(&field, format!("{field} must be a whole number")))?
            ),
            "string[]" => json!(split_list(&text)),
            "object" => serde_json::from_str(&text)
                .map_err(|e| field_error(&field, format!("{field} is not valid JSON: {e}")))?,
            _ => json!(text),
        };
        settings.insert(setting.into(), value);
    }
    if !settings.is_empty() {
        body.insert("settings".into(), Value::Object(settings));
    }
    Ok(body)
}

async fn catalog(state: &ConsoleState, session: &Session) -> PageResult<Vec<Value>> {
    Ok(state.get(session, "/providers").await?["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["enabled"].as_bool() != Some(false))
        .collect())
}

fn pick<'a>(catalog: &'a [Value], name: &str) -> Option<&'a Value> {
    catalog.iter().find(|p| p["name"] == name)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    provider: String,
}

fn render(session: &Session, status: StatusCode, title: &str, body: Markup) -> Response {
    (status, layout::page(session, title, "/ui/webhooks", body)).into_response()
}

/// `GET /ui/webhooks/new?provider=…`.
pub(crate) async fn new(
    State(state): State<ConsoleState>,
    session: Session,
    Query(q): Query<NewQuery>,
) -> PageResult<Response> {
    require(&session, "webhooks")?;
    let catalog = catalog(&state, &session).await?;
    let provider = pick(&catalog, &q.provider)
        .or_else(|| pick(&catalog, "webhook"))
        .or(catalog.first())
        .cloned()
        .unwrap_or(Value::Null);
    let filled = Filled {
        values: json!({}),
        posted: None,
        error: None,
    };
    let body = form_page(
        &session,
        &registered(&state, &session).await,
        &catalog,
        &provider,
        &filled,
        None,
    );
    Ok(render(&session, StatusCode::OK, "New webhook", body))
}

/// `POST /ui/webhooks/new`.
pub(crate) async fn create(State(state): State<ConsoleState>, form: Form) -> PageResult<Response> {
    let session = form.session.clone();
    require(&session, "webhooks")?;
    let catalog = catalog(&state, &session).await?;
    let provider = pick(&catalog, &form.text("provider"))
        .cloned()
        .unwrap_or(Value::Null);
    let answer = match body_of(&form, &provider) {
        Ok(body) => {
            state
                .call(
                    &session,
                    Method::POST,
                    "/webhooks",
                    Some(Value::Object(body)),
                )
                .await
        }
        Err(refusal) => refusal,
    };
    if answer.is_success() {
        let id = answer.body["id"].as_str().unwrap_or("");
        return Ok(Redirect::to(&format!(
            "/ui/webhooks/{}?done={}",
            encode(id),
            encode("Created. Send a test event to check the destination.")
        ))
        .into_response());
    }
    let filled = Filled {
        values: json!({}),
        posted: Some(&form),
        error: Some(answer.clone()),
    };
    let body = form_page(
        &session,
        &registered(&state, &session).await,
        &catalog,
        &provider,
        &filled,
        None,
    );
    Ok(render(
        &session,
        refusal_status(&answer),
        "New webhook",
        body,
    ))
}

/// The status a form page answers with when the API refused it.
fn refusal_status(answer: &Answer) -> StatusCode {
    if answer.status.is_client_error() {
        answer.status
    } else {
        StatusCode::BAD_GATEWAY
    }
}

/// `GET /ui/webhooks/{id}/edit`.
pub(crate) async fn edit(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult<Response> {
    require(&session, "webhooks")?;
    let current = state
        .get(&session, &format!("/webhooks/{}", encode(&id)))
        .await?;
    let catalog = catalog(&state, &session).await?;
    let provider = pick(&catalog, current["provider"].as_str().unwrap_or(""))
        .cloned()
        .unwrap_or(Value::Null);
    let filled = Filled {
        values: current,
        posted: None,
        error: None,
    };
    let body = form_page(
        &session,
        &registered(&state, &session).await,
        &catalog,
        &provider,
        &filled,
        Some(&id),
    );
    Ok(render(&session, StatusCode::OK, "Edit webhook", body))
}

/// The keys whose value the form changed, with their new values; a
/// field emptied goes back to its default (`null`). A changed settings
/// object that still holds a masked credential is refused at that field.
fn changes(current: &Value, mut body: Map<String, Value>) -> Result<Map<String, Value>, Answer> {
    body.remove("provider");
    let mut patch = Map::new();
    let editable = [
        "name",
        "url",
        "description",
        "event_types",
        "tags",
        "ordering",
        "timeout_ms",
        "settings",
    ]
    .into_iter()
    .chain(JSON_FIELDS.iter().map(|(n, _, _)| *n));
    for key in editable {
        let new = body.remove(key).unwrap_or(Value::Null);
        let old = &current[key];
        let same = new == *old
            || (new.is_null()
                && (old.as_array().is_some_and(Vec::is_empty)
                    || old.as_object().is_some_and(Map::is_empty)));
        if same {
            continue;
        }
        // A masked value sent back means "unchanged", which only the whole
        // key can say: a URL that is a credential stays as it is.
        if key == "url" && new.as_str().is_some_and(|u| u.contains("****")) && new == *old {
            continue;
        }
        if key == "settings" {
            for (name, value) in new.as_object().into_iter().flatten() {
                if value.as_str().is_some_and(|v| v.starts_with("****")) {
                    return Err(field_error(
                        &format!("settings.{name}"),
                        format!(
                            "settings.{name} is stored masked: enter it again to change the other settings"
                        ),
                    ));
                }
            }
        }
        patch.insert(key.into(), new);
    }
    Ok(patch)
}

/// `POST /ui/webhooks/{id}/edit`.
pub(crate) async fn update(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult<Response> {
    let session = form.session.clone();
    require(&session, "webhooks")?;
    let path = format!("/webhooks/{}", encode(&id));
    let current = state.get(&session, &path).await?;
    let catalog = catalog(&state, &session).await?;
    let provider = pick(&catalog, current["provider"].as_str().unwrap_or(""))
        .cloned()
        .unwrap_or(Value::Null);
    let answer = match body_of(&form, &provider).and_then(|body| changes(&current, body)) {
        Ok(patch) if patch.is_empty() => {
            return Ok(Redirect::to(&format!(
                "/ui/webhooks/{}?done={}",
                encode(&id),
                encode("Nothing changed.")
            ))
            .into_response());
        }
        Ok(patch) => {
            state
                .call(&session, Method::PATCH, &path, Some(Value::Object(patch)))
                .await
        }
        Err(refusal) => refusal,
    };
    if answer.is_success() {
        return Ok(Redirect::to(&format!(
            "/ui/webhooks/{}?done={}",
            encode(&id),
            encode("Saved.")
        ))
        .into_response());
    }
    let filled = Filled {
        values: current,
        posted: Some(&form),
        error: Some(answer.clone()),
    };
    let body = form_page(
        &session,
        &registered(&state, &session).await,
        &catalog,
        &provider,
        &filled,
        Some(&id),
    );
    Ok(render(
        &session,
        refusal_status(&answer),
        "Edit webhook",
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_land_on_the_field_that_owns_them() {
        assert_eq!(owner_of("url"), "url");
        assert_eq!(owner_of("event_types[2]"), "event_types");
        assert_eq!(owner_of("retry.max_retries"), "retry");
        assert_eq!(owner_of("settings.theme_color"), "settings.theme_color");
        assert_eq!(owner_of("settings.template.body"), "settings.template");
        assert_eq!(owner_of("settings"), "settings");
    }

    #[test]
    fn an_unchanged_field_is_not_sent_and_a_masked_credential_is_refused() {
        let current =
            json!({"name": "a", "tags": [], "settings": {"api_key": "****abcd", "site": "eu"}});
        let body = json!({"name": "a", "settings": {"api_key": "****abcd", "site": "us"}});
        let refusal = changes(&current, body.as_object().cloned().unwrap()).unwrap_err();
        assert_eq!(refusal.error_field(), Some("settings.api_key"));
        let body = json!({"name": "b", "settings": {"api_key": "****abcd", "site": "eu"}});
        let patch = changes(&current, body.as_object().cloned().unwrap()).unwrap();
        assert_eq!(Value::Object(patch), json!({"name": "b"}));
    }
}
