//! `herald events …`: send one or a batch (now or later), read, list,
//! replay, cancel.

use clap::{Args, Subcommand};
use herald_client::{EventDetail, EventFilter, NewEvent};
use serde_json::Value;

use super::connection::Connection;
use super::failure::Failure;
use super::input;
use super::output::{self, Out, fields, list, opt, table};
use super::paging::PageArgs;

#[derive(Debug, Args)]
pub(crate) struct Events {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Send one event to every webhook subscribed to its type.
    Send {
        /// The event type, e.g. `training.complete`.
        #[arg(long = "type", value_name = "TYPE")]
        event_type: String,
        /// The event's data: JSON, `@file.json` or `@-` (stdin); default `{}`.
        #[arg(long)]
        data: Option<String>,
        /// Your own event id: sending it again changes nothing.
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        source: Option<String>,
        /// Sent as `Idempotency-Key`.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// Deliver at this RFC 3339 time (at most 90 days ahead) instead of
        /// at once; `herald events cancel` until then.
        #[arg(long, value_name = "TIME", conflicts_with = "delay_ms")]
        deliver_at: Option<String>,
        /// Deliver this many milliseconds from now.
        #[arg(long, value_name = "MS")]
        delay_ms: Option<u64>,
    },
    /// Cancel a scheduled event's deliveries that are not yet due.
    Cancel { id: String },
    /// Send several events in one request, all stored or none: a JSON
    /// array of events (`{"type", "data", "id"?, "source"?}`) or
    /// `{"events": [...]}`.
    SendBatch {
        /// `@file.json`, `@-` (stdin) or the JSON itself.
        events: String,
    },
    /// Show an event with its deliveries.
    Get { id: String },
    /// List events, newest first.
    List {
        #[arg(long = "type", value_name = "TYPE")]
        event_type: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Send a stored event again: to every webhook subscribed now, or to
    /// the ones named.
    Replay {
        id: String,
        /// Only to this webhook (repeatable).
        #[arg(long = "webhook", value_name = "ID")]
        webhooks: Vec<String>,
    },
}

impl Events {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        match self.action {
            Action::Send {
                event_type,
                data,
                id,
                source,
                idempotency_key,
                deliver_at,
                delay_ms,
            } => {
                let data = match data {
                    Some(d) => input::json_arg("--data", &d)?,
                    None => Value::Object(Default::default()),
                };
                let event = NewEvent {
                    event_type,
                    data: Some(data),
                    id,
                    source,
                    deliver_at: deliver_at.as_deref().map(parse_time).transpose()?,
                    delay_ms,
                };
                let mut call = client.send_event(&event);
                if let Some(key) = &idempotency_key {
                    call = call.idempotency_key(key);
                }
                out.show(call, |a| {
                    format!("sent {} to {} webhook(s)", a.id, a.deliveries)
                })
                .await
            }
            Action::SendBatch { events } => {
                let events = batch(&events)?;
                out.show(client.send_events(&events), |answer| {
                    let rows = answer
                        .data
                        .iter()
                        .map(|a| vec![a.id.clone(), a.deliveries.to_string()]);
                    table(&["EVENT", "WEBHOOKS"], rows)
                })
                .await
            }
            Action::Cancel { id } => {
                out.show(client.cancel_event(&id), |c| {
                    format!(
                        "cancelled {} scheduled delivery(ies) of {}",
                        c.cancelled, c.id
                    )
                })
                .await
            }
            Action::Get { id } => out.show(client.get_event(&id), |e| view(&e)).await,
            Action::List { event_type, page } => {
                let filter = EventFilter {
                    event_type,
                    limit: page.limit,
                    cursor: page.cursor,
                };
                out.show(client.list_events(&filter), |page| {
                    let rows = page.data.iter().map(|e| {
                        vec![
                            e.id.clone(),
                            e.event_type.clone(),
                            opt(e.source.as_deref()),
                            output::time(&e.created_at),
                        ]
                    });
                    table(&["ID", "TYPE", "SOURCE", "CREATED"], rows)
                        + &output::next_page(page.next_cursor.as_deref())
                })
                .await
            }
            Action::Replay { id, webhooks } => {
                let only = (!webhooks.is_empty()).then_some(webhooks.as_slice());
                out.show(client.replay_event(&id, only), |r| {
                    format!(
                        "replayed {} to {} webhook(s): {}",
                        r.event_id,
                        r.deliveries,
                        list(&r.webhook_ids)
                    )
                })
                .await
            }
        }
    }
}

/// `--deliver-at`'s time, with its zone.
fn parse_time(text: &str) -> Result<herald_client::Time, Failure> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            Failure::usage(format!(
                "--deliver-at: expected an RFC 3339 time such as 2026-12-24T09:00:00Z ({e})"
            ))
        })
}

/// The events of a batch argument, each checked for its shape here so a
/// mistake names the event (`events[2]`) before anything is sent.
fn batch(text: &str) -> Result<Vec<NewEvent>, Failure> {
    let value = input::json_arg("events", text)?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("events") {
            Some(Value::Array(items)) => items,
            _ => return Err(Failure::usage("events: expected {\"events\": [...]}")),
        },
        _ => return Err(Failure::usage("events: expected a JSON array of events")),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value(item).map_err(|e| Failure::usage(format!("events[{i}]: {e}")))
        })
        .collect()
}

fn view(e: &EventDetail) -> String {
    let event = &e.event;
    let mut text = fields(&[
        ("id", event.id.clone()),
        ("type", event.event_type.clone()),
        ("source", opt(event.source.as_deref())),
        ("created", output::time(&event.created_at)),
        ("deliver at", output::opt_time(event.deliver_at.as_ref())),
    ]);
    text.push_str("\ndata:\n");
    text.push_str(&output::indent(&output::json_text(&event.data), 2));
    text.push_str("\n\ndeliveries:\n");
    let rows = e.deliveries.iter().map(|d| {
        vec![
            d.delivery_id.clone(),
            d.webhook_id.clone(),
            d.status.to_string(),
            d.attempt_count.to_string(),
            opt(d.last_status_code),
            if d.test { "test".into() } else { String::new() },
        ]
    });
    text.push_str(&output::indent(
        &table(
            &[
                "DELIVERY",
                "WEBHOOK",
                "STATUS",
                "ATTEMPTS",
                "LAST STATUS",
                "",
            ],
            rows,
        ),
        2,
    ));
    text
}
