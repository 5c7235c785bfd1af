//! Herald's integrations, pure: render an event into each service's native
//! format, validate per-provider settings, judge the service's HTTP answers,
//! and describe every provider for the catalog. No I/O happens here; the
//! server sends what [`Provider::render`] returns and feeds the answer back
//! to [`Provider::judge`]. Several events go out as one request through
//! [`Provider::render_batch`] (a JSON array, or a digest message). What the
//! server asks of a provider before any webhook exists is answered by
//! [`ProviderKind`]: [`accepts_batches`](ProviderKind::accepts_batches),
//! [`url_is_credential`](ProviderKind::url_is_credential),
//! [`mask_settings`](ProviderKind::mask_settings),
//! [`default_rate_limit`](ProviderKind::default_rate_limit).
//!
//! ```
//! use herald_core::webhook::UrlPolicy;
//! use herald_providers::{EventInput, Provider, ProviderKind, Rendered};
//! use serde_json::json;
//!
//! let provider = Provider::parse(
//!     ProviderKind::Slack,
//!     Some("https://hooks.slack.com/services/T000/B000/XXXX"),
//!     &json!({"mention_on_failure": true, "mentions": ["<!channel>"]}),
//!     &UrlPolicy::default(),
//! )?;
//! let data = json!({"experiment_name": "ResNet34", "accuracy": 0.968});
//! let event = EventInput { id: "evt_1", event_type: "training.complete", timestamp_ms: 0, data: &data };
//! let Some(Rendered::Http(request)) = provider.render(&event)? else { unreachable!() };
//! assert!(String::from_utf8(request.body)?.contains("Training complete — ResNet34"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The notification
//!
//! Every event becomes one [`Notification`] (`title`, `body`, `severity`,
//! `fields`, `links`, `mentions`, `footer`) which each provider renders.
//! The defaults come from the event, by these rules:
//!
//! - **title**: `data.title`, else `data.summary`, else the humanized type
//!   (`training.complete` → "Training complete") followed by " — " and the
//!   first of `data.name` or a `*_name` key (in data order) holding text.
//! - **body**: the first of `data.message`, `data.body`, `data.description`,
//!   `data.text` holding text; else empty.
//! - **severity** (`info`, `success`, `warning`, `error`, `critical`): the
//!   first of `data.severity`, `data.level`, `data.priority` that reads as
//!   one (case-insensitive: `critical`/`fatal`/`emergency`/`urgent`/`p1` →
//!   critical; `error`/`failed`/`high`/`major`/`p2` → error;
//!   `warning`/`warn`/`medium`/`minor`/`p3` → warning;
//!   `info`/`notice`/`debug`/`low`/`p4`/`p5` → info;
//!   `success`/`ok`/`passed`/`resolved`/`done` → success; a numeric
//!   `priority` 1 → critical, 2 → error, 3 → warning, 4+ → info); else the
//!   last word of the type (split on `.` `_` `-` `:`): `failed`, `failure`,
//!   `error`, `errored`, `crashed` → error; `complete`, `completed`,
//!   `succeeded`, `success`, `done`, `finished`, `passed`, `resolved` →
//!   success; `alert`, `warning`, `degraded` → warning; `critical`, `fatal`
//!   → critical; else info.
//! - **links**: every `data.url` ("Open link"), `*_url` or `*Url` key whose
//!   value is an `http(s)://` URL, in data order (labelled "View results"
//!   when the key mentions dashboard, result or report, else "Open
//!   &lt;humanized prefix&gt;": `logs_url` → "Open logs"), then the `data.links`
//!   and `data.actions` lists of `{label|text|title|name, url|href}`.
//!   Every URL is trimmed, parsed and written back percent-encoded, with
//!   any credentials removed; only absolute `http(s)` URLs with a host (of
//!   at most 2,048 characters) become links, and duplicates are dropped.
//! - **mentions**: `data.mentions` (a list, or a space-separated string).
//!   What a webhook sends of them is decided by its settings (see
//!   [`Provider::notification`]): none by default.
//! - **fields**: every remaining key with a scalar value (string, number,
//!   boolean), in data order; labels humanized (`gpu_hours` → "Gpu hours",
//!   `learningRate` → "Learning rate"), numbers as JSON writes them. Keys
//!   that supplied the title, name, body, severity, source, links or
//!   mentions are not repeated; `null`, lists and objects are skipped.
//! - **footer**: source (`data.source`, else "Herald") · event id · time
//!   (`2024-11-14 22:13:20 UTC`).
//!
//! The title, the field and link labels, the source and the footer are one
//! line for every provider, templated or not: line breaks and other control
//! characters become spaces, and bidirectional controls (U+202A–U+202E,
//! U+2066–U+2069) are removed, so a title cannot disguise itself.
//!
//! Severity colours: success `#2EB67D`, info `#1D9BD1`, warning `#ECB22E`,
//! error `#E01E5A`, critical `#8B0000` (`theme_color` overrides).
//!
//! # Templates
//!
//! `settings.template` overrides parts with Jinja (minijinja): `title`,
//! `body`, `severity`, `fields` (`{"Label": "{{ event.data.x }}"}`, replaces
//! the derived fields; rows rendering empty are left out), `links`
//! (`[{"label", "url"}]`, replaces the derived links; each URL is
//! normalised like a derived one, and entries whose URL renders empty or
//! not `http(s)` are left out), `source`, `footer`. In
//! scope: `event.id`, `event.type`, `event.timestamp` (RFC 3339),
//! `event.timestamp_ms`, `event.data`, and `notification` (the derived
//! defaults). Templates compile when the webhook is saved (a syntax error
//! or unknown filter is a [`ValidationError`] naming
//! `settings.template.title`) and render per attempt. Undefined values are
//! chainable and render empty, so optional data never fails a delivery; a
//! title or severity rendering empty keeps the default. Remaining runtime
//! errors are a [`RenderError`] naming the part.
//!
//! What the owner wrote in a `body` or `fields` template reaches the
//! service as written, so it may use the service's markup (`**Run**` for
//! Discord, `<https://x|docs>` for Slack, HTML for email); whatever an
//! expression writes (`{{ event.data.x }}`, filtered, `safe` or not) is
//! text and escaped for the service like derived text (see [`Text`]). The
//! other parts (title, footer, source, labels) are text everywhere, because
//! several services show them where no markup works. Templated settings:
//! PagerDuty `dedup_key` and `source`, Google Chat `thread_key`, GitHub
//! `issue_number`, Datadog `metric.name`, `metric.value` and
//! `metric.tags`.
//!
//! Each provider, its settings, payload, limits and error handling are
//! described in `docs/PROVIDERS.md` and by [`catalog()`].

mod catalog;
mod error;
mod example;
mod facts;
mod fit;
mod format;
mod judge;
mod kind;
mod links;
mod mentions;
mod notification;
mod provider;
mod providers;
mod rendered;
mod settings;
mod template;
mod text;
mod transform;
pub mod truncate;

pub use catalog::{LimitInfo, ProviderInfo, RateLimit, SettingInfo, UrlInfo};
pub use error::RenderError;
pub use example::{
    EXAMPLE_EVENT_ID, EXAMPLE_EVENT_TYPE, EXAMPLE_TIMESTAMP_MS, example_config, example_data,
    example_payload,
};
pub use herald_core::ValidationError;
pub use herald_core::retry::Verdict;
pub use judge::{Answer, parse_retry_after};
pub use kind::ProviderKind;
pub use notification::{
    EventInput, Field, Footer, Link, Notification, Severity, humanize, notification,
};
pub use provider::Provider;
pub use providers::email::OwnMailSettings;
pub use providers::{catalog, info};
pub use rendered::{
    EmailAttachment, EmailMessage, HttpMethod, HttpRequest, Rendered, SmtpOverrides, SmtpTls,
};
pub use text::Text;
pub use transform::Transform;
