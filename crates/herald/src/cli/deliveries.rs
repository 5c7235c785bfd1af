//! `herald deliveries …`: list, show one with its attempts (request and
//! response), retry a failed one.

use clap::{Args, Subcommand};
use herald_client::{Attempt, Delivery, DeliveryDetail, DeliveryFilter, DeliveryStatus};

use super::connection::Connection;
use super::failure::Failure;
use super::output::{self, Out, fields, opt, opt_time, table};
use super::paging::PageArgs;

#[derive(Debug, Args)]
pub(crate) struct Deliveries {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List deliveries, newest first.
    List {
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(DeliveryStatus::KNOWN))]
        status: Option<String>,
        /// Only deliveries to this webhook.
        #[arg(long = "webhook", value_name = "ID")]
        webhook_id: Option<String>,
        /// Only deliveries of this event.
        #[arg(long = "event", value_name = "ID")]
        event_id: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a delivery with every attempt: request headers, response
    /// status, headers and body.
    Get { id: String },
    /// Re-queue a failed delivery with a fresh retry schedule.
    Retry { id: String },
}

impl Deliveries {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        match self.action {
            Action::List {
                status,
                webhook_id,
                event_id,
                page,
            } => {
                let filter = DeliveryFilter {
                    status: status.map(|s| DeliveryStatus::parse(&s)),
                    webhook_id,
                    event_id,
                    limit: page.limit,
                    cursor: page.cursor,
                    ..Default::default()
                };
                out.show(client.list_deliveries(&filter), |page| {
                    let rows = page.data.iter().map(row);
                    table(
                        &[
                            "ID", "STATUS", "EVENT", "TYPE", "WEBHOOK", "ATTEMPTS", "LAST",
                            "CREATED",
                        ],
                        rows,
                    ) + &output::next_page(page.next_cursor.as_deref())
                })
                .await
            }
            Action::Get { id } => out.show(client.get_delivery(&id), |d| view(&d)).await,
            Action::Retry { id } => {
                out.show(client.retry_delivery(&id), |d| {
                    format!("{} is {} again", d.id, d.status)
                })
                .await
            }
        }
    }
}

fn row(d: &Delivery) -> Vec<String> {
    vec![
        d.id.clone(),
        d.status.to_string(),
        d.event_id.clone(),
        d.event_type.clone(),
        d.webhook_id.clone(),
        d.attempt_count.to_string(),
        opt(d.last_status_code),
        output::time(&d.created_at),
    ]
}

/// A delivery and its attempts, one block each.
fn view(detail: &DeliveryDetail) -> String {
    let d = &detail.delivery;
    let mut text = fields(&[
        ("delivery", d.id.clone()),
        ("status", d.status.to_string()),
        ("event", format!("{} ({})", d.event_id, d.event_type)),
        ("webhook", d.webhook_id.clone()),
        ("attempts", d.attempt_count.to_string()),
        ("next attempt", opt_time(d.next_attempt_at.as_ref())),
        ("last error", opt(d.last_error.as_deref())),
        ("created", output::time(&d.created_at)),
        ("delivered", opt_time(d.delivered_at.as_ref())),
        ("test", d.test.to_string()),
    ]);
    for attempt in &detail.attempts {
        text.push_str("\n\n");
        text.push_str(&attempt_view(attempt));
    }
    text
}

fn attempt_view(a: &Attempt) -> String {
    let answer = match (a.status_code, &a.error_category) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(category)) => category.to_string(),
        (None, None) => "no answer".into(),
    };
    let mut text = format!(
        "attempt {} at {}, {} ms: {} ({})",
        a.number,
        output::time(&a.started_at),
        a.duration_ms,
        answer,
        a.outcome
    );
    if let Some(message) = &a.error_message {
        let category = opt(a.error_category.as_ref());
        text.push_str(&format!("\n  error: {category}: {message}"));
    }
    let headers =
        |title: &str, headers: &Option<std::collections::BTreeMap<String, String>>| match headers {
            Some(h) if !h.is_empty() => {
                let lines: Vec<String> = h.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("\n  {title}:\n{}", output::indent(&lines.join("\n"), 4))
            }
            _ => String::new(),
        };
    text.push_str(&headers("request headers", &a.request_headers));
    text.push_str(&headers("response headers", &a.response_headers));
    if let Some(body) = a.response_body.as_deref().filter(|b| !b.is_empty()) {
        // A JSON answer reads better pretty-printed; anything else as sent.
        let shown = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .map(|v| output::json_text(&v))
            .unwrap_or_else(|| body.to_string());
        text.push_str(&format!(
            "\n  response body:\n{}",
            output::indent(&shown, 4)
        ));
    }
    text
}
