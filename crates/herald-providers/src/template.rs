//! Per-webhook templates (`settings.template` and the templated settings such
//! as PagerDuty's `dedup_key`): compiled once when the webhook is saved,
//! rendered for every attempt.
//!
//! Templates are Jinja (minijinja). In scope: `event.id`, `event.type`,
//! `event.timestamp` (RFC 3339), `event.timestamp_ms`, `event.data`, and
//! `notification`, the defaults derived from the event, so a template can
//! extend rather than replace (`{{ notification.title }} (staging)`).
//!
//! Undefined values are chainable: `{{ event.data.a.b.c }}` renders empty
//! when any part is missing, because one event lacking an optional key
//! should not fail its delivery. Errors that remain at render time (a type
//! error, a filter given the wrong argument) fail the attempt with a
//! [`RenderError`] naming the template part.
//!
//! The owner's literal template text is trusted: in `body` and `fields` it
//! reaches the service as markup, as written. Whatever an expression
//! writes (`{{ … }}`, event data or anything computed from it, `safe` or
//! not) is text, which each provider escapes for its own markup. The
//! formatter brackets every expression's output with two private-use
//! characters, and [`Session::render_text`] turns the brackets into a
//! [`Text`]'s ranges; other parts are rendered as plain text.

use std::fmt;
use std::sync::Arc;

use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::RenderError;
use crate::links::web_url;
use crate::notification::{EventInput, Field, Link, Notification, Severity};
use crate::text::Text;
use crate::truncate;
use herald_core::ValidationError;

/// A template source may not be longer than this (characters).
const MAX_SOURCE: usize = 10_000;
const MAX_FIELDS: usize = 50;
const MAX_LINKS: usize = 20;
/// Bounds the work one render may do, so a runaway loop in a template cannot
/// stall a delivery worker (one unit is roughly one instruction).
const FUEL: u64 = 200_000;
/// Bracket what an expression writes, so it is known to be text (see the
/// module documentation). Private-use characters: no text means them, and
/// they are removed from values and refused in template sources.
const TEXT_START: char = '\u{E000}';
const TEXT_END: char = '\u{E001}';

/// Writes a value as the default formatter does (templates produce plain
/// text, so no auto-escaping), bracketed as text.
fn bracket_text(
    out: &mut minijinja::Output<'_>,
    _state: &minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let written = value.to_string().replace([TEXT_START, TEXT_END], "");
    if !written.is_empty() {
        use std::fmt::Write as _;
        out.write_char(TEXT_START)?;
        out.write_str(&written)?;
        out.write_char(TEXT_END)?;
    }
    Ok(())
}

/// A template's output as a [`Text`]: bracketed parts are text, the rest
/// the owner's markup.
fn to_text(rendered: &str) -> Text {
    let mut out = Text::default();
    let mut rest = rendered;
    while let Some(start) = rest.find(TEXT_START) {
        out.push_markup(&rest[..start]);
        let after = &rest[start + TEXT_START.len_utf8()..];
        let end = after.find(TEXT_END).unwrap_or(after.len());
        out.push_text(&after[..end]);
        rest = after.get(end + TEXT_END.len_utf8()..).unwrap_or("");
    }
    out.push_markup(rest);
    out
}

/// `settings.template`: every part optional, every value a template.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateSpec {
    title: Option<String>,
    body: Option<String>,
    severity: Option<String>,
    /// Label → value template, in order. Replaces the derived fields.
    fields: Option<Map<String, Value>>,
    /// Replaces the derived links.
    links: Option<Vec<LinkSpec>>,
    source: Option<String>,
    footer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkSpec {
    label: String,
    url: String,
}

/// Which parts of the notification a webhook's template replaces.
#[derive(Debug, Default)]
struct Parts {
    title: bool,
    body: bool,
    severity: bool,
    source: bool,
    footer: bool,
    fields: Option<Vec<String>>,
    links: Option<usize>,
}

/// A webhook's compiled templates. Cheap to clone (shared).
#[derive(Clone)]
pub(crate) struct Templates {
    env: Arc<Environment<'static>>,
    parts: Arc<Parts>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.env.templates().map(|(name, _)| name).collect();
        f.debug_struct("Templates").field("names", &names).finish()
    }
}

/// Collects and compiles templates while a webhook's settings are parsed.
pub(crate) struct TemplateBuilder {
    env: Environment<'static>,
    parts: Parts,
}

impl TemplateBuilder {
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Output is plain text; each provider escapes for its own format,
        // told by the brackets what came from expressions.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_formatter(bracket_text);
        env.set_fuel(Some(FUEL));
        Self {
            env,
            parts: Parts::default(),
        }
    }

    /// Compiles one template, named by its path under `settings`
    /// (`template.title`, `dedup_key`); the error names the same path.
    pub(crate) fn add(&mut self, name: &str, source: &str) -> Result<(), ValidationError> {
        truncate_check(name, source)?;
        if source.contains([TEXT_START, TEXT_END]) {
            return Err(ValidationError::new(
                name,
                "must not contain the private-use characters U+E000 or U+E001",
            ));
        }
        self.env
            .add_template_owned(name.to_string(), source.to_string())
            .map_err(|e| ValidationError::new(name, describe(&e)))?;
        // Unknown filters, tests and functions only show when rendered, so
        // render once against a sample event to catch typos now rather than
        // on the first delivery.
        let sample_data = Value::Object(Map::new());
        let sample = EventInput {
            id: "evt_sample",
            event_type: "sample.event",
            timestamp_ms: 0,
            data: &sample_data,
        };
        let defaults = crate::notification::notification(&sample);
        let ctx = context(&sample, &defaults);
        refuse_unknown_names(
            name,
            self.env.get_template(name).and_then(|t| t.render(&ctx)),
        )
    }

    /// Compiles `settings.template`.
    pub(crate) fn add_spec(&mut self, spec: &TemplateSpec) -> Result<(), ValidationError> {
        let singles = [
            ("title", &spec.title),
            ("body", &spec.body),
            ("severity", &spec.severity),
            ("source", &spec.source),
            ("footer", &spec.footer),
        ];
        for (part, source) in singles {
            if let Some(source) = source {
                self.add(&format!("template.{part}"), source)?;
            }
        }
        self.parts.title = spec.title.is_some();
        self.parts.body = spec.body.is_some();
        self.parts.severity = spec.severity.is_some();
        self.parts.source = spec.source.is_some();
        self.parts.footer = spec.footer.is_some();
        if let Some(fields) = &spec.fields {
            if fields.len() > MAX_FIELDS {
                return Err(ValidationError::new(
                    "template.fields",
                    format!("may hold at most {MAX_FIELDS} fields"),
                ));
            }
            let mut labels = Vec::with_capacity(fields.len());
            for (label, source) in fields {
                let name = format!("template.fields.{label}");
                if truncate::single_line(label).is_empty() {
                    return Err(ValidationError::new(name, "the label must not be blank"));
                }
                let Some(source) = source.as_str() else {
                    return Err(ValidationError::new(name, "must be a string template"));
                };
                self.add(&name, source)?;
                labels.push(label.clone());
            }
            self.parts.fields = Some(labels);
        }
        if let Some(links) = &spec.links {
            if links.len() > MAX_LINKS {
                return Err(ValidationError::new(
                    "template.links",
                    format!("may hold at most {MAX_LINKS} links"),
                ));
            }
            for (i, link) in links.iter().enumerate() {
                self.add(&format!("template.links[{i}].label"), &link.label)?;
                self.add(&format!("template.links[{i}].url"), &link.url)?;
            }
            self.parts.links = Some(links.len());
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Templates {
        Templates {
            env: Arc::new(self.env),
            parts: Arc::new(self.parts),
        }
    }
}

fn truncate_check(name: &str, source: &str) -> Result<(), ValidationError> {
    herald_core::validation::check_len(name, source, 0, MAX_SOURCE)
}

/// `syntax error: unexpected end of input, expected end of variable block (line 1)`.
/// Unknown filters, tests and functions only show when a template is
/// rendered, so templates are rendered once against a sample event when
/// saved: such a name is a mistake to refuse now rather than at the first
/// delivery. Other failures may depend on the data and are left to send
/// time.
pub(crate) fn refuse_unknown_names(
    name: &str,
    sample_render: Result<String, minijinja::Error>,
) -> Result<(), ValidationError> {
    match sample_render {
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::UnknownFilter | ErrorKind::UnknownTest | ErrorKind::UnknownFunction
            ) =>
        {
            Err(ValidationError::new(name, describe(&e)))
        }
        _ => Ok(()),
    }
}

pub(crate) fn describe(e: &minijinja::Error) -> String {
    let mut s = e.kind().to_string();
    if let Some(detail) = e.detail() {
        s.push_str(": ");
        s.push_str(detail);
    }
    if let Some(line) = e.line() {
        s.push_str(&format!(" (line {line})"));
    }
    s
}

#[derive(Serialize)]
struct EventContext<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    timestamp_ms: i64,
    data: &'a Value,
}

fn context(event: &EventInput<'_>, defaults: &Notification) -> minijinja::Value {
    let event = EventContext {
        id: event.id,
        event_type: event.event_type,
        timestamp: event.timestamp(),
        timestamp_ms: event.timestamp_ms,
        data: event.data,
    };
    minijinja::context! {
        event => minijinja::Value::from_serialize(&event),
        notification => minijinja::Value::from_serialize(defaults),
    }
}

impl Templates {
    /// Renders the templates of one attempt against a shared context.
    pub(crate) fn session<'t>(
        &'t self,
        event: &EventInput<'_>,
        defaults: &Notification,
    ) -> Session<'t> {
        Session {
            templates: self,
            ctx: context(event, defaults),
        }
    }

    /// The derived notification with the webhook's `settings.template`
    /// applied.
    pub(crate) fn apply(
        &self,
        event: &EventInput<'_>,
        defaults: Notification,
    ) -> Result<Notification, RenderError> {
        let p = &*self.parts;
        if !(p.title || p.body || p.severity || p.source || p.footer)
            && p.fields.is_none()
            && p.links.is_none()
        {
            return Ok(defaults);
        }
        let s = self.session(event, &defaults);
        let mut n = defaults.clone();
        if p.title {
            let title = s.render("template.title")?;
            let title = title.trim();
            // An empty title would leave some services with nothing to show.
            if !title.is_empty() {
                n.title = title.to_string();
            }
        }
        if p.body {
            n.body = s.render_text("template.body")?.trim();
        }
        if p.severity {
            let word = s.render("template.severity")?;
            if !word.trim().is_empty() {
                n.severity = Severity::from_word(&word).ok_or_else(|| {
                    RenderError::new(
                        "template.severity",
                        format!(
                            "`{}` is not a severity (info, success, warning, error, critical)",
                            truncate::line(&word, 40)
                        ),
                    )
                })?;
            }
        }
        if p.source {
            let source = s.render("template.source")?;
            let source = source.trim();
            if !source.is_empty() {
                n.footer.source = source.to_string();
                n.footer.text = format!(
                    "{} · {} · {}",
                    n.footer.source,
                    n.footer.event_id,
                    event.human_time()
                );
            }
        }
        if p.footer {
            n.footer.text = s.render("template.footer")?.trim().to_string();
        }
        if let Some(labels) = &p.fields {
            let mut fields = Vec::with_capacity(labels.len());
            for label in labels {
                let value = s.render_text(&format!("template.fields.{label}"))?.trim();
                // An empty value means "not for this event": leave the row out.
                if !value.is_empty() {
                    fields.push(Field {
                        label: label.clone(),
                        value,
                    });
                }
            }
            n.fields = fields;
        }
        if let Some(count) = p.links {
            let mut links = Vec::with_capacity(count);
            for i in 0..count {
                // A link whose data is missing or not a web URL is left out
                // rather than failing the message.
                let Some(url) = web_url(&s.render(&format!("template.links[{i}].url"))?) else {
                    continue;
                };
                let label = s.render(&format!("template.links[{i}].label"))?;
                let label = label.trim();
                links.push(Link {
                    label: if label.is_empty() { "Open link" } else { label }.to_string(),
                    url,
                });
            }
            n.links = links;
        }
        Ok(n)
    }
}

/// One attempt's rendering context.
pub(crate) struct Session<'t> {
    templates: &'t Templates,
    ctx: minijinja::Value,
}

impl Session<'_> {
    /// A part that is plain text everywhere (a title, a key, a number).
    pub(crate) fn render(&self, name: &str) -> Result<String, RenderError> {
        Ok(self
            .render_bracketed(name)?
            .replace([TEXT_START, TEXT_END], ""))
    }

    /// A part that may carry the owner's markup (`body`, `fields`).
    pub(crate) fn render_text(&self, name: &str) -> Result<Text, RenderError> {
        Ok(to_text(&self.render_bracketed(name)?))
    }

    fn render_bracketed(&self, name: &str) -> Result<String, RenderError> {
        let template = self
            .templates
            .env
            .get_template(name)
            .map_err(|e| RenderError::new(name, describe(&e)))?;
        template
            .render(&self.ctx)
            .map_err(|e| RenderError::new(name, describe(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_output_is_text_and_the_rest_markup() {
        let mut b = TemplateBuilder::new();
        b.add(
            "t",
            "**{{ event.data.x }}** {% if event.data.x %}[docs](https://d.example){% endif %}{{ event.data.none }}{{ '\\ue000' ~ event.data.x | safe }}",
        )
        .unwrap();
        let t = b.finish();
        let data = serde_json::json!({"x": "*a*"});
        let event = EventInput {
            id: "evt_1",
            event_type: "x.y",
            timestamp_ms: 0,
            data: &data,
        };
        let n = crate::notification::notification(&event);
        let s = t.session(&event, &n);
        let escape = |s: &str| s.replace('*', "\\*");
        let text = s.render_text("t").unwrap();
        assert_eq!(text.as_str(), "***a*** [docs](https://d.example)*a*");
        assert_eq!(
            text.render(escape),
            "**\\*a\\*** [docs](https://d.example)\\*a\\*"
        );
        assert_eq!(s.render("t").unwrap(), text.as_str());
        let mut b = TemplateBuilder::new();
        assert!(b.add("u", "a\u{E001}b").is_err());
    }
}
