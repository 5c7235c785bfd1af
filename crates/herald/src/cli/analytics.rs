//! `herald analytics …`: the summary (the default), delivery counts,
//! tags, one webhook's report, and figures over a time range.

use clap::{Args, Subcommand};
use herald_client::{AnalyticsQuery, AnalyticsRange, Granularity, Summary, WebhookReport};

use super::connection::Connection;
use super::failure::Failure;
use super::output::{self, Out, fields, ms, opt, opt_time, percent, table};
use super::parse_time;

#[derive(Debug, Args)]
pub(crate) struct Analytics {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    view: Option<View>,
}

#[derive(Debug, Subcommand)]
enum View {
    /// Webhooks by status, the last 24 hours, and each webhook's figures
    /// (what `herald analytics` alone shows).
    Summary,
    /// Deliveries by status.
    Stats,
    /// Every tag in use, with how many webhooks carry it.
    Tags,
    /// One webhook's report over its last days.
    Webhook {
        id: String,
        /// UTC days, today included (1–730, default 7).
        #[arg(long)]
        days: Option<u32>,
    },
    /// Attempts over a time range, in buckets, optionally grouped.
    Range {
        /// RFC 3339 start (default 24 hours ago).
        #[arg(long)]
        start: Option<String>,
        /// RFC 3339 end (default now).
        #[arg(long)]
        end: Option<String>,
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(Granularity::KNOWN))]
        granularity: Option<String>,
        /// Group by any of webhook_id, provider, event_type, outcome,
        /// status_code (comma-separated).
        #[arg(long, value_delimiter = ',')]
        group_by: Vec<String>,
        /// Only these webhooks (comma-separated).
        #[arg(long = "webhook", value_delimiter = ',', value_name = "ID")]
        webhook_id: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        provider: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        event_type: Vec<String>,
        /// `success` or an error category (comma-separated).
        #[arg(long, value_delimiter = ',')]
        outcome: Vec<String>,
        /// HTTP statuses, 0 for none (comma-separated).
        #[arg(long, value_delimiter = ',')]
        status_code: Vec<u16>,
    },
}

impl Analytics {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        match self.view.unwrap_or(View::Summary) {
            View::Summary => out.show(client.summary(), |s| summary(&s)).await,
            View::Stats => {
                out.show(client.stats(), |s| {
                    let d = s.deliveries;
                    fields(&[
                        ("pending", d.pending.to_string()),
                        ("delivering", d.delivering.to_string()),
                        ("retrying", d.retrying.to_string()),
                        ("delivered", d.delivered.to_string()),
                        ("failed", d.failed.to_string()),
                        ("skipped", d.skipped.to_string()),
                        ("total", d.total.to_string()),
                    ])
                })
                .await
            }
            View::Tags => {
                out.show(client.tags(), |tags| {
                    let rows = tags
                        .data
                        .iter()
                        .map(|t| vec![t.tag.clone(), t.webhooks.to_string()]);
                    table(&["TAG", "WEBHOOKS"], rows)
                })
                .await
            }
            View::Webhook { id, days } => {
                out.show(client.webhook_analytics(&id, days), |r| report(&r))
                    .await
            }
            View::Range {
                start,
                end,
                granularity,
                group_by,
                webhook_id,
                provider,
                event_type,
                outcome,
                status_code,
            } => {
                let query = AnalyticsQuery {
                    start: start.map(|t| parse_time("--start", &t)).transpose()?,
                    end: end.map(|t| parse_time("--end", &t)).transpose()?,
                    granularity: granularity.map(|g| Granularity::parse(&g)),
                    group_by,
                    webhook_id,
                    provider,
                    event_type,
                    outcome,
                    status_code,
                };
                out.show(client.analytics(&query), |r| range(&r)).await
            }
        }
    }
}

fn summary(s: &Summary) -> String {
    let w = &s.webhooks;
    let day = &s.last_24h;
    let mut text = fields(&[
        (
            "webhooks",
            format!(
                "{} ({} active, {} paused, {} disabled)",
                w.total, w.active, w.paused, w.disabled
            ),
        ),
        (
            "last 24 hours",
            format!(
                "{} attempts, {} successful ({}), {} delivered, {} failed, p95 {}",
                day.attempts,
                day.successful_attempts,
                percent(day.success_rate),
                day.delivered,
                day.failed,
                ms(day.p95_response_time_ms)
            ),
        ),
    ]);
    let rows = s.per_webhook.iter().map(|w| {
        vec![
            w.webhook_id.clone(),
            w.name.clone(),
            w.provider.clone(),
            w.status.to_string(),
            w.attempts_24h.to_string(),
            percent(w.success_rate_24h),
            opt_time(w.last_triggered_at.as_ref()),
        ]
    });
    text.push_str("\n\n");
    text.push_str(&table(
        &[
            "WEBHOOK",
            "NAME",
            "PROVIDER",
            "STATUS",
            "ATTEMPTS 24H",
            "SUCCESS 24H",
            "LAST ATTEMPT",
        ],
        rows,
    ));
    text
}

fn report(r: &WebhookReport) -> String {
    let f = &r.figures;
    let mut text = fields(&[
        ("webhook", r.webhook_id.clone()),
        (
            "period",
            format!(
                "{} days, {} to {}",
                r.period_days,
                output::time(&r.start),
                output::time(&r.end)
            ),
        ),
        ("events", f.total_events.to_string()),
        ("attempts", f.total_attempts.to_string()),
        (
            "delivered / failed",
            format!("{} / {}", f.successful_deliveries, f.failed_deliveries),
        ),
        ("success rate", percent(f.success_rate)),
        ("retries", f.retry_count.to_string()),
        (
            "response time",
            format!(
                "avg {}, p50 {}, p95 {}, p99 {}",
                ms(f.avg_response_time_ms),
                ms(f.p50_response_time_ms),
                ms(f.p95_response_time_ms),
                ms(f.p99_response_time_ms)
            ),
        ),
        (
            "errors",
            format!(
                "{} 4xx, {} 5xx, {} timeouts, {} network",
                f.http_4xx_errors, f.http_5xx_errors, f.timeout_errors, f.network_errors
            ),
        ),
    ]);
    let rows = r.daily.iter().map(|d| {
        vec![
            d.date.clone(),
            d.figures.total_events.to_string(),
            d.figures.total_attempts.to_string(),
            percent(d.figures.success_rate),
            ms(d.figures.p95_response_time_ms),
        ]
    });
    text.push_str("\n\n");
    text.push_str(&table(
        &["DAY", "EVENTS", "ATTEMPTS", "SUCCESS", "P95"],
        rows,
    ));
    text
}

fn range(r: &AnalyticsRange) -> String {
    let groups = &r.meta.group_by;
    let mut header = vec!["BUCKET".to_string()];
    header.extend(groups.iter().map(|g| g.to_uppercase()));
    header.extend(
        ["COUNT", "SUCCESS", "FAILED", "ERROR RATE", "AVG", "P95"]
            .iter()
            .map(|h| h.to_string()),
    );
    let rows = r.data.iter().map(|row| {
        let mut cells = vec![opt(row.time_bucket.as_ref().map(output::time))];
        cells.extend(groups.iter().map(|g| {
            row.dimensions
                .get(g)
                .map(output::json_text)
                .unwrap_or_default()
        }));
        let m = &row.metrics;
        cells.extend([
            m.count.to_string(),
            m.success.to_string(),
            m.failed.to_string(),
            percent(m.error_rate),
            ms(m.avg_ms),
            ms(m.p95_ms),
        ]);
        cells
    });
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    format!(
        "{} to {} by {}\n\n{}",
        output::time(&r.meta.start),
        output::time(&r.meta.end),
        r.meta.granularity,
        table(&header, rows)
    )
}
