//! `herald bench --scenario analytics`: how fast the analytics answer over
//! a week of a busy installation. Records `--events` attempts (default
//! 1,000,000) spread over the last 7 days through the store's own write
//! path (events, claims, attempt records and their rollups, as the engine
//! writes them), then times the queries the analytics API makes: a
//! webhook's 7-day report (day rollups), the tenant's 7 days by hour and
//! webhook, and by 5 minutes. On SQLite in a temporary directory, or on a
//! fresh PostgreSQL database with `--database`.

use std::time::{Duration, Instant};

use anyhow::Context;
use herald_core::delivery::{AttemptOutcome, ErrorCategory};
use herald_core::signing::SigningSecret;
use herald_core::webhook::{Webhook, WebhookSpec};
use herald_store::prelude::*;
use herald_store::rollups::{AnalyticsQuery, Dimension, Granularity};
use herald_store::{
    AttemptRecord, AuditEntry, Engine, Ingest, MasterKey, NewEvent, NextStep, PostgresOptions,
    Store, StoreOptions, now_ms,
};
use rand::Rng;
use serde_json::json;

use super::database::ScratchDatabase;

const TENANT: &str = "tnt_default";
const WEBHOOKS: usize = 10;
const EVENT_TYPES: [&str; 3] = ["training.complete", "task.created", "compliance.alert"];
const WEEK_MS: i64 = 7 * 86_400_000;
const BATCH: usize = 1000;
/// Each query is timed this many times; the median is reported.
const REPEATS: usize = 21;

pub(crate) async fn run(
    database: Option<&str>,
    attempts: usize,
    as_json: bool,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let scratch = match database {
        Some(url) => Some(ScratchDatabase::create(url).await?),
        None => None,
    };
    let engine = match &scratch {
        Some(db) => Engine::Postgres(PostgresOptions::new(db.url())),
        None => Engine::Sqlite(herald_store::SqliteOptions::new(
            dir.path().join("herald.db"),
        )),
    };
    let result = async {
        let store = Store::open(StoreOptions {
            engine,
            master_key: MasterKey::generate(),
        })
        .await
        .context("cannot open the store")?;
        let seeded = Instant::now();
        let webhooks = seed(&store, attempts).await?;
        let seed_time = seeded.elapsed();
        let figures = time_queries(&store, &webhooks[0]).await?;
        Ok::<_, anyhow::Error>((seed_time, figures))
    }
    .await;
    if let Some(db) = scratch {
        db.remove().await?;
    }
    let (seed_time, figures) = result?;
    let backend = if database.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    if as_json {
        let queries: serde_json::Map<String, serde_json::Value> = figures
            .iter()
            .map(|(name, d, rows)| {
                (
                    name.to_string(),
                    json!({"median_ms": d.as_secs_f64() * 1000.0, "rows": rows}),
                )
            })
            .collect();
        println!(
            "{}",
            json!({"scenario": "analytics", "backend": backend, "attempts": attempts,
                   "seed_s": seed_time.as_secs_f64(), "queries": queries})
        );
    } else {
        println!(
            "analytics on {backend}: {attempts} attempts over 7 days recorded in {:.1} s",
            seed_time.as_secs_f64()
        );
        for (name, d, rows) in &figures {
            println!(
                "  {name:<44} {:>8.2} ms (median of {REPEATS}, {rows} rows)",
                d.as_secs_f64() * 1000.0
            );
        }
    }
    Ok(())
}

/// Ten webhooks, and `attempts` events among them (three types), each
/// claimed and recorded once at a time in the last 7 days: mostly
/// successes, some 5xx, timeouts and connection failures.
async fn seed(store: &Store, attempts: usize) -> anyhow::Result<Vec<String>> {
    let mut webhooks = Vec::new();
    for i in 0..WEBHOOKS {
        let spec: WebhookSpec = serde_json::from_value(json!({
            "name": format!("analytics-{i}"),
            "url": format!("https://hooks.example.com/{i}"),
        }))?;
        let webhook = Webhook::new(
            herald_core::ids::new_id(herald_core::ids::WEBHOOK),
            TENANT.to_string(),
            spec,
            SigningSecret::generate(),
            chrono::Utc::now(),
        );
        let audit = AuditEntry {
            tenant_id: TENANT.to_string(),
            actor: "admin".to_string(),
            action: "webhook.created".to_string(),
            resource_type: "webhook".to_string(),
            resource_id: webhook.id.clone(),
            before: None,
            after: None,
            at_ms: now_ms(),
        };
        store.insert_webhook(&webhook, audit).await?;
        webhooks.push(webhook.id);
    }
    let start = now_ms() - WEEK_MS;
    let step = WEEK_MS as f64 / attempts as f64;
    let mut rng = rand::rng();
    let mut done = 0;
    while done < attempts {
        let n = BATCH.min(attempts - done);
        let version = store.registry_version().await?;
        let webhook = &webhooks[(done / BATCH) % WEBHOOKS];
        let events: Vec<NewEvent> = (0..n)
            .map(|i| {
                let at = start + ((done + i) as f64 * step) as i64;
                let id = herald_core::ids::new_id(herald_core::ids::EVENT);
                NewEvent {
                    body: format!(r#"{{"id":"{id}","type":"bench","data":{{}}}}"#),
                    id,
                    event_type: EVENT_TYPES[(done + i) % EVENT_TYPES.len()].to_string(),
                    source: None,
                    idempotency_key: None,
                    created_at_ms: at,
                    webhook_ids: vec![webhook.clone()],
                    ordering_keys: Vec::new(),
                    traceparent: None,
                    deliver_at_ms: None,
                    digest_at_ms: Vec::new(),
                    schema_errors: None,
                }
            })
            .collect();
        match store.ingest(TENANT, version, events).await? {
            Ingest::Stored(_) => {}
            Ingest::Stale { .. } => anyhow::bail!("the webhooks changed while seeding"),
        }
        let claim = store
            .claim(webhook, now_ms(), n, now_ms() + 600_000, false)
            .await?;
        anyhow::ensure!(
            claim.deliveries.len() == n,
            "claimed {} of {n}",
            claim.deliveries.len()
        );
        let records: Vec<AttemptRecord> = claim
            .deliveries
            .iter()
            .map(|d| {
                let roll: f64 = rng.random();
                let (outcome, status, category, next) = match roll {
                    r if r < 0.95 => (
                        AttemptOutcome::Success,
                        Some(200),
                        None,
                        NextStep::Delivered,
                    ),
                    r if r < 0.98 => (
                        AttemptOutcome::Failed,
                        Some(503),
                        Some(ErrorCategory::Http5xx),
                        NextStep::Failed,
                    ),
                    r if r < 0.99 => (
                        AttemptOutcome::Failed,
                        None,
                        Some(ErrorCategory::Timeout),
                        NextStep::Failed,
                    ),
                    _ => (
                        AttemptOutcome::Failed,
                        None,
                        Some(ErrorCategory::Connect),
                        NextStep::Failed,
                    ),
                };
                // Long-tailed durations: mostly tens of ms, some seconds.
                let duration_ms = (5.0 + 40.0 * (-rng.random::<f64>().max(1e-9).ln())) as u64;
                AttemptRecord {
                    id: herald_core::ids::new_id(herald_core::ids::ATTEMPT),
                    delivery_seq: d.seq,
                    tenant_id: d.tenant_id.clone(),
                    webhook_id: d.webhook_id.clone(),
                    provider: "webhook".to_string(),
                    event_type: d.event_type.clone(),
                    test: false,
                    disable_after: 0,
                    number: 1,
                    started_at_ms: d.queued_at_ms,
                    duration_ms,
                    status_code: status,
                    outcome,
                    error_category: category,
                    error_message: category.map(|c| c.as_str().to_string()),
                    request_headers: "{}".to_string(),
                    response_headers: None,
                    response_body: None,
                    next,
                }
            })
            .collect();
        let outcome = store.record_attempts(records).await?;
        anyhow::ensure!(outcome.failed.is_empty(), "some records failed");
        done += n;
    }
    Ok(webhooks)
}

type Timed = (&'static str, Duration, usize);

async fn time_queries(store: &Store, webhook: &str) -> anyhow::Result<Vec<Timed>> {
    let now = now_ms();
    let day_end = Granularity::Day.bucket_start(now) + 86_400_000;
    let queries = [
        (
            "webhook report, 7 days (day rollups)",
            AnalyticsQuery {
                tenant_id: TENANT.to_string(),
                granularity: Granularity::Day,
                bucket_ms: Some(86_400_000),
                start_ms: day_end - WEEK_MS,
                end_ms: day_end,
                group_by: vec![Dimension::Outcome],
                filters: vec![(Dimension::WebhookId, vec![webhook.to_string()])],
            },
        ),
        (
            "tenant, 7 days by hour and webhook",
            AnalyticsQuery {
                tenant_id: TENANT.to_string(),
                granularity: Granularity::Hour,
                bucket_ms: Some(3_600_000),
                start_ms: now - WEEK_MS,
                end_ms: now + 1,
                group_by: vec![Dimension::WebhookId],
                filters: vec![],
            },
        ),
        (
            "tenant, 7 days by 5 minutes",
            AnalyticsQuery {
                tenant_id: TENANT.to_string(),
                granularity: Granularity::FiveMinutes,
                bucket_ms: Some(300_000),
                start_ms: now - WEEK_MS,
                end_ms: now + 1,
                group_by: vec![],
                filters: vec![],
            },
        ),
    ];
    let mut figures = Vec::new();
    for (name, query) in queries {
        let mut times = Vec::with_capacity(REPEATS);
        let mut rows = 0;
        for _ in 0..REPEATS {
            let started = Instant::now();
            rows = store.analytics(query.clone()).await?.len();
            times.push(started.elapsed());
        }
        times.sort();
        figures.push((name, times[REPEATS / 2], rows));
    }
    Ok(figures)
}
