//! `herald webhooks …`: list, read, create, change, delete, pause,
//! resume, enable, test, and the signing secret.

use clap::{Args, Subcommand};
use herald_client::{
    Auth, BulkDeleted, Client, HealthState, NewWebhook, RetryPolicy, RetrySchedule, RetryWindow,
    RotateSecret, Signing, TestRequest, TestResult, Webhook, WebhookFilter, WebhookPatch,
    WebhookStatus,
};
use serde_json::{Map, Value, json};

use super::connection::Connection;
use super::failure::Failure;
use super::input;
use super::output::{self, Out, fields, list, opt, opt_time, table};
use super::paging::PageArgs;
use super::parse_time;

#[derive(Debug, Args)]
pub(crate) struct Webhooks {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List webhooks, oldest first.
    List {
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(WebhookStatus::KNOWN))]
        status: Option<String>,
        /// Only webhooks with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only webhooks that would receive an event of this type.
        #[arg(long)]
        event_type: Option<String>,
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(HealthState::KNOWN))]
        health: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one webhook with its health.
    Get { id: String },
    /// Create a webhook; its signing secret is shown once, in the answer.
    Create {
        #[command(flatten)]
        fields: Fields,
        /// Your own signing secret (`whsec_` + base64 of 24–64 bytes);
        /// generated when absent.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Change a webhook: each field given replaces the stored one.
    Update {
        id: String,
        #[command(flatten)]
        fields: Fields,
        /// Reset a field to its default (repeatable), e.g. `--reset description`.
        #[arg(long = "reset", value_name = "FIELD")]
        reset: Vec<String>,
    },
    /// Delete webhooks with their delivery logs (several ids: one request).
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Pause: deliveries are kept and held until `resume`.
    Pause { id: String },
    /// Resume a paused webhook: what it held goes out, oldest first.
    Resume { id: String },
    /// Enable a webhook the circuit breaker disabled.
    Enable {
        id: String,
        /// Skip the deliveries it held instead of sending them.
        #[arg(long)]
        discard_held: bool,
    },
    /// Send one signed request now and show what came back.
    Test {
        id: String,
        /// Event type of the test (default `herald.test`).
        #[arg(long = "type", value_name = "TYPE")]
        event_type: Option<String>,
        /// Event data: JSON, `@file.json` or `@-` (stdin).
        #[arg(long)]
        data: Option<String>,
    },
    /// Show the signing secret (and public key) and those still in grace.
    Secret { id: String },
    /// Issue a new signing secret; the old one keeps signing for the grace
    /// period (0 revokes it at once).
    RotateSecret {
        id: String,
        /// Hours the replaced secret keeps signing (default 24, at most 720).
        #[arg(long)]
        grace_period_hours: Option<f64>,
        /// The new secret, instead of a generated one.
        #[arg(long)]
        secret: Option<String>,
    },
    /// What the retry policy means in time: each attempt's wait, when it
    /// starts after the first try, and the total.
    RetrySchedule { id: String },
    /// Re-queue the webhook's failed deliveries of a time window.
    RetryFailed {
        id: String,
        /// Failed since this time (RFC 3339).
        #[arg(long, conflicts_with = "max_age_hours")]
        since: Option<String>,
        /// … until this time (default now).
        #[arg(long, requires = "since")]
        until: Option<String>,
        /// Failed within the last this many hours.
        #[arg(long)]
        max_age_hours: Option<f64>,
    },
}

/// The common fields of create and update; `--from-file` gives any of the
/// API's fields as JSON, and the flags override it.
#[derive(Debug, Args)]
struct Fields {
    /// JSON object with any webhook fields (see docs/API.md); `-` for stdin.
    #[arg(long, value_name = "FILE")]
    from_file: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// The webhook's destination, its `url` field (for integrations the
    /// service's hook URL). Not `--url`, which is Herald's own address.
    #[arg(long = "webhook-url", value_name = "URL")]
    webhook_url: Option<String>,
    /// `webhook` (signed JSON, the default) or an integration: see
    /// `herald providers`.
    #[arg(long)]
    provider: Option<String>,
    /// Event types to receive (repeatable or comma-separated): exact,
    /// `prefix.*` or `*`.
    #[arg(
        long = "event-type",
        short = 'e',
        value_delimiter = ',',
        value_name = "TYPE"
    )]
    event_types: Vec<String>,
    /// A tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    #[arg(long)]
    description: Option<String>,
    /// A custom request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The provider's settings as a JSON object (or `@file.json`).
    #[arg(long, value_name = "JSON")]
    settings: Option<String>,
    /// Only events matching this JSON match document (or `@file.json`),
    /// such as `{"data": {"severity": "high"}}`: the filter's `match`.
    #[arg(long, value_name = "JSON")]
    filter: Option<String>,
    /// Only events for which this CEL expression is true, such as
    /// `event.data.severity == 'high'`: the filter's `expr`.
    #[arg(long, value_name = "CEL")]
    filter_expr: Option<String>,
    /// How requests are signed.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(herald_client::SignatureScheme::KNOWN))]
    signature: Option<String>,
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["active", "paused"]))]
    status: Option<String>,
    /// Retries after the first attempt (0–20).
    #[arg(long)]
    max_retries: Option<u32>,
    /// Request timeout (1,000–300,000).
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Concurrent deliveries to this webhook (1–1,000).
    #[arg(long)]
    max_in_flight: Option<u32>,
}

impl Fields {
    /// The request body: the file, then each flag given over it. The
    /// server checks it all and names any field it refuses.
    fn body(&self) -> Result<Map<String, Value>, Failure> {
        let mut body = match &self.from_file {
            Some(path) => input::object_file("--from-file", path)?,
            None => Map::new(),
        };
        let mut set = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                body.insert(name.to_string(), value);
            }
        };
        set("name", self.name.clone().map(Value::from));
        set("url", self.webhook_url.clone().map(Value::from));
        set("provider", self.provider.clone().map(Value::from));
        set("description", self.description.clone().map(Value::from));
        set(
            "event_types",
            (!self.event_types.is_empty()).then(|| json!(self.event_types)),
        );
        set("tags", (!self.tags.is_empty()).then(|| json!(self.tags)));
        set("status", self.status.clone().map(Value::from));
        set("timeout_ms", self.timeout_ms.map(Value::from));
        set("max_in_flight", self.max_in_flight.map(Value::from));
        set(
            "signature",
            self.signature.as_ref().map(|s| json!({ "scheme": s })),
        );
        if !self.headers.is_empty() {
            body.insert(
                "headers".into(),
                Value::Object(input::headers("--header", &self.headers)?),
            );
        }
        if let Some(settings) = &self.settings {
            let value = input::json_arg("--settings", settings)?;
            if !value.is_object() {
                return Err(Failure::usage("--settings: must be a JSON object"));
            }
            body.insert("settings".into(), value);
        }
        if self.filter.is_some() || self.filter_expr.is_some() {
            // The two flags make one `filter`, replacing the file's.
            let mut filter = Map::new();
            if let Some(doc) = &self.filter {
                filter.insert("match".into(), input::json_arg("--filter", doc)?);
            }
            if let Some(expr) = &self.filter_expr {
                filter.insert("expr".into(), expr.clone().into());
            }
            body.insert("filter".into(), Value::Object(filter));
        }
        if let Some(n) = self.max_retries {
            // Into the file's retry policy, if it has one, not over it.
            match body.get_mut("retry") {
                Some(Value::Object(retry)) => {
                    retry.insert("max_retries".into(), n.into());
                }
                _ => {
                    body.insert("retry".into(), json!({ "max_retries": n }));
                }
            }
        }
        Ok(body)
    }
}

impl Webhooks {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        match self.action {
            Action::List {
                status,
                tag,
                event_type,
                health,
                page,
            } => {
                let filter = WebhookFilter {
                    status: status.map(|s| WebhookStatus::parse(&s)),
                    tag,
                    event_type,
                    health: health.map(|h| HealthState::parse(&h)),
                    limit: page.limit,
                    cursor: page.cursor,
                };
                out.show(client.list_webhooks(&filter), |page| {
                    let rows = page.data.iter().map(|w| {
                        vec![
                            w.id.clone(),
                            w.name.clone(),
                            w.provider.clone(),
                            w.status.to_string(),
                            opt(w.health.as_ref().map(|h| &h.state)),
                            list(&w.event_types),
                            opt(w.url.as_deref()),
                        ]
                    });
                    let header = [
                        "ID", "NAME", "PROVIDER", "STATUS", "HEALTH", "EVENTS", "URL",
                    ];
                    table(&header, rows) + &output::next_page(page.next_cursor.as_deref())
                })
                .await
            }
            Action::Get { id } => out.show(client.get_webhook(&id), |w| view(&w)).await,
            Action::Create { fields, secret } => {
                let mut body = fields.body()?;
                if let Some(secret) = secret {
                    body.insert("secret".into(), secret.into());
                }
                let new = NewWebhook {
                    extra: body,
                    ..NewWebhook::default()
                };
                out.show(client.create_webhook(&new), |w| {
                    let mut text = view(&w);
                    if let Some(secret) = &w.secret {
                        text.push_str(&format!(
                            "\n\nsigning secret: {secret}\n(shown in this answer only; \
                             `herald webhooks secret {}` shows it again)",
                            w.id
                        ));
                    }
                    text
                })
                .await
            }
            Action::Update { id, fields, reset } => {
                let mut patch = WebhookPatch {
                    extra: fields.body()?,
                    ..WebhookPatch::default()
                };
                for field in &reset {
                    patch = patch.reset(field);
                }
                if patch.extra.is_empty() {
                    return Err(Failure::usage(
                        "nothing to change: give a field (--name, --webhook-url, …), --from-file or --reset",
                    ));
                }
                out.show(client.update_webhook(&id, &patch), |w| view(&w))
                    .await
            }
            Action::Delete { ids } => delete(&client, out, ids).await,
            Action::Pause { id } => out.show(client.pause_webhook(&id), |w| view(&w)).await,
            Action::Resume { id } => out.show(client.resume_webhook(&id), |w| view(&w)).await,
            Action::Enable { id, discard_held } => {
                out.show(client.enable_webhook(&id, discard_held), |w| {
                    format!(
                        "{}\n\ndiscarded held deliveries: {}",
                        view(&w),
                        w.discarded_held.unwrap_or(0)
                    )
                })
                .await
            }
            Action::Test {
                id,
                event_type,
                data,
            } => {
                let data = data.map(|d| input::json_arg("--data", &d)).transpose()?;
                let request = TestRequest { event_type, data };
                out.show(client.test_webhook(&id, &request), |r| test_view(&r))
                    .await
            }
            Action::Secret { id } => {
                out.show(client.webhook_secret(&id), |s| signing_view(&s))
                    .await
            }
            Action::RotateSecret {
                id,
                grace_period_hours,
                secret,
            } => {
                let request = RotateSecret {
                    secret,
                    grace_period_hours,
                };
                out.show(client.rotate_secret(&id, &request), |s| signing_view(&s))
                    .await
            }
            Action::RetrySchedule { id } => {
                out.show(client.retry_schedule(&id), |s| schedule_view(&s))
                    .await
            }
            Action::RetryFailed {
                id,
                since,
                until,
                max_age_hours,
            } => {
                if since.is_none() && max_age_hours.is_none() {
                    return Err(Failure::usage(
                        "give the window: --since TIME [--until TIME] or --max-age-hours N",
                    ));
                }
                let window = RetryWindow {
                    since: since.map(|t| parse_time("--since", &t)).transpose()?,
                    until: until.map(|t| parse_time("--until", &t)).transpose()?,
                    max_age_hours,
                };
                out.show(client.retry_failed(&id, &window), |r| {
                    format!("re-queued {} failed deliveries", r.requeued)
                })
                .await
            }
        }
    }
}

/// One id: `DELETE`; several: one bulk request. Any id not found exits
/// with the not-found code, after saying which.
async fn delete(client: &Client, out: Out, ids: Vec<String>) -> Result<(), Failure> {
    if let [id] = ids.as_slice() {
        return out
            .done(client.delete_webhook(id), &format!("deleted {id}"))
            .await;
    }
    let answer = client.bulk_delete_webhooks(&ids).json().await?;
    let result: BulkDeleted = serde_json::from_value(answer.clone())
        .map_err(|e| Failure::Unreadable(format!("unexpected answer from Herald: {e}")))?;
    if out.json {
        output::print_json(&answer)?;
    } else {
        let mut text = format!("deleted: {}", list(&result.deleted));
        if !result.not_found.is_empty() {
            text.push_str(&format!("\nnot found: {}", list(&result.not_found)));
        }
        output::print(&text)?;
    }
    if result.not_found.is_empty() {
        Ok(())
    } else {
        Err(Failure::NotFound(format!(
            "no such webhook: {}",
            result.not_found.join(", ")
        )))
    }
}

/// A webhook for a terminal.
pub(crate) fn view(w: &Webhook) -> String {
    let health = w.health.as_ref();
    let mut pairs = vec![
        ("id", w.id.clone()),
        ("name", w.name.clone()),
        ("provider", w.provider.clone()),
        ("url", opt(w.url.as_deref())),
        ("status", w.status.to_string()),
    ];
    if let Some(reason) = &w.disabled_reason {
        pairs.push((
            "disabled",
            format!("{reason} (since {})", opt_time(w.disabled_at.as_ref())),
        ));
    }
    if let Some(h) = health {
        pairs.push((
            "health",
            format!(
                "{} (1h {}, 24h {}, p95 {}, {} failing in a row{})",
                h.state,
                output::percent(h.success_rate_1h),
                output::percent(h.success_rate_24h),
                output::ms(h.p95_ms_1h),
                h.consecutive_failures,
                h.last_error
                    .as_ref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            ),
        ));
    }
    pairs.extend([
        ("event types", list(&w.event_types)),
        ("tags", list(&w.tags)),
        ("description", opt(w.description.as_deref())),
        (
            "signature",
            opt(w.signature.scheme.as_ref()) + &opt_suffix(w.public_key.as_deref(), "public key"),
        ),
        ("retry", retry_text(&w.retry)),
        ("timeout", opt(w.timeout_ms.map(output::duration_ms))),
        ("max in flight", opt(w.max_in_flight)),
        ("ordering", opt(w.ordering.as_ref())),
        ("auth", auth_text(&w.auth)),
    ]);
    if !w.headers.is_empty() {
        let headers: Vec<String> = w.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        pairs.push(("headers", headers.join("; ")));
    }
    if w.settings.as_object().is_some_and(|s| !s.is_empty()) {
        pairs.push(("settings", w.settings.to_string()));
    }
    if let Some(filter) = &w.filter {
        if let Some(doc) = &filter.match_doc {
            pairs.push(("filter", doc.to_string()));
        }
        if let Some(expr) = &filter.expr {
            pairs.push(("filter expr", expr.clone()));
        }
    }
    pairs.extend([
        ("created", output::time(&w.created_at)),
        ("updated", output::time(&w.updated_at)),
    ]);
    fields(&pairs)
}

fn opt_suffix(value: Option<&str>, what: &str) -> String {
    value.map(|v| format!(" ({what} {v})")).unwrap_or_default()
}

fn retry_text(r: &RetryPolicy) -> String {
    format!(
        "{}, {} retries, first after {}, at most {}{}",
        opt(r.strategy.as_ref()),
        opt(r.max_retries),
        opt(r.initial_delay_ms.map(output::duration_ms)),
        opt(r.max_delay_ms.map(output::duration_ms)),
        if r.jitter == Some(true) {
            ", with jitter"
        } else {
            ""
        }
    )
}

fn auth_text(auth: &Auth) -> String {
    match auth {
        Auth::None => "none".into(),
        Auth::Bearer { token } => format!("bearer {token}"),
        Auth::ApiKey { key, header } => {
            format!(
                "api key {key} in {}",
                header.as_deref().unwrap_or("X-API-Key")
            )
        }
        Auth::Basic { username, password } => format!("basic {username}:{password}"),
        Auth::Unknown => "(a kind this version does not know)".into(),
    }
}

fn test_view(r: &TestResult) -> String {
    let mut pairs = vec![
        ("success", r.success.to_string()),
        ("status", opt(r.status_code)),
        ("duration", format!("{} ms", r.duration_ms)),
        ("error", opt(r.error.as_deref())),
        ("delivery", r.delivery_id.clone()),
        ("event", r.event_id.clone()),
    ];
    if let Some(body) = &r.response_body {
        pairs.push(("response", body.clone()));
    }
    fields(&pairs)
}

fn schedule_view(s: &RetrySchedule) -> String {
    let jitter = s.retry.jitter == Some(true);
    // With jitter a figure is a range: the middle, and its ends.
    let span = |mid: u64, min: u64, max: u64| {
        if jitter && min != max {
            format!(
                "{} ({}–{})",
                output::duration_ms(mid),
                output::duration_ms(min),
                output::duration_ms(max)
            )
        } else {
            output::duration_ms(mid)
        }
    };
    let rows = s.attempts.iter().map(|a| {
        vec![
            a.attempt.to_string(),
            if a.attempt == 1 {
                "-".into()
            } else {
                span(a.delay_ms, a.delay_min_ms, a.delay_max_ms)
            },
            span(a.since_first_ms, a.since_first_min_ms, a.since_first_max_ms),
        ]
    });
    format!(
        "{}\n\n{}\n\n{}",
        fields(&[
            ("webhook", s.webhook_id.clone()),
            ("policy", retry_text(&s.retry)),
        ]),
        table(&["ATTEMPT", "WAIT BEFORE", "SINCE FIRST TRY"], rows),
        fields(&[
            ("total", span(s.total_ms, s.total_min_ms, s.total_max_ms)),
            (
                "worst case",
                format!(
                    "{} (with a {} timeout on every attempt)",
                    output::duration_ms(s.worst_case_ms),
                    output::duration_ms(s.attempt_timeout_ms)
                ),
            ),
        ])
    )
}

fn signing_view(s: &Signing) -> String {
    let mut text = fields(&[
        ("secret", s.secret.clone()),
        ("public key", opt(s.public_key.as_deref())),
    ]);
    if !s.previous.is_empty() {
        let rows = s.previous.iter().map(|p| {
            vec![
                p.secret.clone(),
                opt(p.public_key.as_deref()),
                output::time(&p.expires_at),
            ]
        });
        text.push_str("\n\nstill signing during their grace period:\n");
        text.push_str(&table(&["SECRET", "PUBLIC KEY", "UNTIL"], rows));
    }
    text
}
