//! `herald bench`: measures Herald end to end on this machine.
//!
//! Starts a real `herald serve` as a child process on a temporary data
//! directory (or, with `--database`, `--nodes` of them on a fresh
//! PostgreSQL database), a receiver on loopback that answers 200 and
//! records arrival times, and clients that post events over keep-alive
//! HTTP. Reports what was acknowledged, what was delivered *and recorded*,
//! end-to-end latency (client send to receiver arrival), and the server's
//! memory and CPU.

mod analytics;
mod cluster;
mod database;
mod load;
mod receiver;
mod report;
mod server;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use cluster::Cluster;
use herald_client::{DeliveryCounts, Filter, FilterTest, NewWebhook, WebhookStatus};
use load::{Connections, Load};
use receiver::Clock;
use report::{Figures, Summary, Testbed};
use server::ServerProcess;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// Post events and deliver them as they come.
    Throughput,
    /// Queue deliveries for paused webhooks, then resume them and measure
    /// the drain (and memory while everything is pending).
    Backlog,
    /// Record a week of attempts (`--events`, default 1,000,000) and time
    /// the analytics queries over it.
    Analytics,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BenchArgs {
    #[arg(long, value_enum, default_value = "throughput")]
    scenario: Scenario,
    /// Webhooks subscribed to the bench event (0 = ingest only).
    #[arg(long, default_value_t = 1)]
    webhooks: usize,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Events per request; above 1 uses the batch endpoint.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Events to post [default: 100000, or 1000000 for the backlog].
    #[arg(long)]
    events: Option<usize>,
    /// Stop posting after this many seconds instead of a fixed count.
    #[arg(long)]
    duration: Option<f64>,
    /// Post at this fixed rate (events/s) instead of as fast as possible.
    #[arg(long)]
    rate: Option<f64>,
    /// `max_in_flight` of each bench webhook.
    #[arg(long, default_value_t = 64)]
    max_in_flight: u32,
    /// Repeat the whole measurement this many times (fresh server each).
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// PostgreSQL server to run on (`postgres://user@host/db`): each run
    /// creates a fresh database there, which the user must be allowed to
    /// do, and drops it at the end. SQLite in a temporary directory if
    /// unset.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// `herald serve` processes sharing the database, each with its own
    /// data directory and port; the load is spread over all of them.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// A JSON match filter on every bench webhook, to measure its cost; it
    /// must let every bench event through (checked before the run), e.g.
    /// `{"type": "bench.event", "data.accuracy": {"$gte": 0.5}}`.
    #[arg(long, value_name = "JSON")]
    filter: Option<String>,
    /// A CEL filter on every bench webhook, as `--filter` (the two are
    /// ANDed), e.g. `event.data.experiment == 'resnet34'`.
    #[arg(long, value_name = "CEL")]
    filter_expr: Option<String>,
    /// Extra argument for `herald serve` (repeatable), e.g.
    /// `--server-arg=--sqlite-synchronous=normal`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
}

impl BenchArgs {
    fn events(&self) -> usize {
        self.events.unwrap_or(match (self.scenario, self.duration) {
            (Scenario::Backlog | Scenario::Analytics, _) => 1_000_000,
            (_, Some(_)) => 20_000_000,
            _ => 100_000,
        })
    }

    fn settings(&self) -> Value {
        json!({
            "scenario": match self.scenario {
                Scenario::Throughput => "throughput",
                Scenario::Backlog => "backlog",
                Scenario::Analytics => "analytics",
            },
            "webhooks": self.webhooks,
            "concurrency": self.concurrency,
            "batch": self.batch,
            "events": self.events(),
            "duration_s": self.duration,
            "rate": self.rate,
            "max_in_flight": self.max_in_flight,
            "runs": self.runs,
            "server_args": self.server_args,
            "filter": self.filter,
            "filter_expr": self.filter_expr,
        })
    }

    /// The bench webhooks' filter, if one is asked for.
    fn filter(&self) -> anyhow::Result<Option<Filter>> {
        if self.filter.is_none() && self.filter_expr.is_none() {
            return Ok(None);
        }
        let match_doc = match &self.filter {
            Some(text) => Some(serde_json::from_str(text).context("--filter: not valid JSON")?),
            None => None,
        };
        Ok(Some(Filter {
            match_doc,
            expr: self.filter_expr.clone(),
        }))
    }

    fn testbed(&self) -> Testbed {
        Testbed {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            nodes: self.nodes,
            backend: match self.database {
                Some(_) => "postgresql",
                None => "sqlite",
            },
        }
    }
}

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.nodes > 0, "--nodes must be at least 1");
    if args.nodes > 1 && args.database.is_none() {
        bail!(
            "--nodes {} needs --database: several nodes share one PostgreSQL database, \
             and a SQLite store belongs to a single node",
            args.nodes
        );
    }
    if args.scenario == Scenario::Backlog && args.webhooks == 0 {
        bail!("--webhooks: the backlog scenario needs at least one webhook");
    }
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(
        args.batch > 0 && args.batch <= 1000,
        "--batch must be 1 to 1000"
    );
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    if args.scenario == Scenario::Analytics {
        return analytics::run(args.database.as_deref(), args.events(), args.json).await;
    }

    let mut runs = Vec::with_capacity(args.runs);
    for i in 0..args.runs {
        if !args.json {
            eprintln!("run {} of {}…", i + 1, args.runs);
        }
        let cluster =
            Cluster::start(args.database.as_deref(), args.nodes, &args.server_args).await?;
        let measure = async {
            match args.scenario {
                Scenario::Throughput => throughput(&args, &cluster).await,
                Scenario::Backlog => backlog(&args, &cluster).await,
                Scenario::Analytics => unreachable!("measured without a cluster"),
            }
        };
        // Ctrl-C still stops the nodes and drops the run's database.
        let figures = tokio::select! {
            figures = measure => figures,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        };
        cluster.stop().await;
        runs.push(figures?);
    }
    let summary = Summary::new(runs);
    if args.json {
        println!("{}", summary.to_json(args.settings(), &args.testbed()));
    } else {
        println!("{}", summary.to_table(&args.settings(), &args.testbed()));
    }
    Ok(())
}

/// Creates the bench webhooks pointing at the receiver, through the first
/// node, and waits until every node routes events to them.
async fn create_webhooks(
    cluster: &Cluster,
    receiver: std::net::SocketAddr,
    args: &BenchArgs,
    status: WebhookStatus,
) -> anyhow::Result<Vec<String>> {
    let api = cluster.first().api()?;
    let filter = args.filter()?;
    let mut ids = Vec::new();
    for i in 0..args.webhooks {
        let mut webhook =
            NewWebhook::new(format!("bench-{i}"), format!("http://{receiver}/hook/{i}"));
        webhook.event_types = Some(vec!["bench.event".to_string()]);
        webhook.status = Some(status.clone());
        webhook.max_in_flight = Some(args.max_in_flight);
        webhook.filter = filter.clone();
        let made = api
            .create_webhook(&webhook)
            .await
            .context("creating a webhook failed")?;
        if filter.is_some() && ids.is_empty() {
            // The run counts on every event being delivered.
            let sample = serde_json::from_str(&load::event_json(0))?;
            let test = FilterTest {
                event: sample,
                filter: None,
            };
            let decision = api.test_filter(&made.id, &test).await?;
            if !decision.matches {
                bail!(
                    "the filter must let every bench event through; it refuses them: {}",
                    decision.reason
                );
            }
        }
        ids.push(made.id);
    }
    cluster.wait_routed(args.webhooks).await?;
    Ok(ids)
}

fn load(args: &BenchArgs, cluster: &Cluster, clock: Arc<Clock>) -> anyhow::Result<Arc<Load>> {
    Ok(Arc::new(Load {
        nodes: cluster
            .addrs()
            .into_iter()
            .map(Connections::new)
            .collect::<anyhow::Result<_>>()?,
        turn: AtomicUsize::new(0),
        batch: args.batch,
        events: args.events(),
        deadline: args
            .duration
            .map(|s| Instant::now() + Duration::from_secs_f64(s)),
        clock,
    }))
}

/// Delivery counts as the server (any node: they read the same database)
/// has recorded them.
async fn delivery_counts(server: &ServerProcess) -> anyhow::Result<DeliveryCounts> {
    Ok(server.api()?.stats().await?.deliveries)
}

/// Waits until the receiver has seen `expected` deliveries and the server
/// has recorded them all as delivered; returns when the latter was seen.
async fn wait_delivered(
    server: &ServerProcess,
    clock: &Clock,
    expected: u64,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while clock.arrivals() < expected {
        if Instant::now() > deadline {
            bail!(
                "only {} of {expected} deliveries arrived within 10 minutes",
                clock.arrivals()
            );
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), clock.arrived.notified()).await;
    }
    loop {
        let counts = delivery_counts(server).await?;
        if counts.delivered >= expected {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("deliveries were not all recorded within 10 minutes: {counts:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn throughput(args: &BenchArgs, cluster: &Cluster) -> anyhow::Result<Figures> {
    let server = cluster.first();
    let clock = Clock::new(args.events());
    let (receiver_addr, receiver) = receiver::start(clock.clone()).await?;
    create_webhooks(cluster, receiver_addr, args, WebhookStatus::Active).await?;

    let started = Instant::now();
    let load = load(args, cluster, clock.clone())?;
    let result = match args.rate {
        Some(rate) => load.open_loop(rate, args.concurrency.max(256)).await,
        None => load.closed_loop(args.concurrency).await,
    };
    let mut figures = Figures {
        accepted: result.accepted,
        errors: result.errors,
        ingest_events_per_s: Some(result.accepted as f64 / result.elapsed.as_secs_f64()),
        ..Figures::default()
    };
    if args.webhooks > 0 {
        let expected = result.accepted * args.webhooks as u64;
        let done = wait_delivered(server, &clock, expected).await?;
        figures.delivered = Some(expected);
        figures.delivered_per_s = Some(expected as f64 / (done - started).as_secs_f64());
        figures.set_latencies(clock.take_latencies());
    }
    figures.server_peak_rss_mb = Some(cluster.peak_rss_mb());
    figures.server_cpu_s = Some(cluster.cpu_seconds());
    receiver.abort();
    Ok(figures)
}

async fn backlog(args: &BenchArgs, cluster: &Cluster) -> anyhow::Result<Figures> {
    let server = cluster.first();
    let clock = Clock::new(args.events());
    let (receiver_addr, receiver) = receiver::start(clock.clone()).await?;
    let webhooks = create_webhooks(cluster, receiver_addr, args, WebhookStatus::Paused).await?;

    let load = load(args, cluster, clock.clone())?;
    let result = load.closed_loop(args.concurrency).await;
    let expected = result.accepted * args.webhooks as u64;
    let counts = delivery_counts(server).await?;
    let pending = counts.pending;
    if pending != expected {
        bail!("expected {expected} pending deliveries, the server reports {counts:?}");
    }
    let rss_pending = cluster.rss_mb();

    let started = Instant::now();
    let api = server.api()?;
    for id in &webhooks {
        api.resume_webhook(id).await.context("resuming a webhook")?;
    }
    let done = wait_delivered(server, &clock, expected).await?;
    let figures = Figures {
        accepted: result.accepted,
        errors: result.errors,
        ingest_events_per_s: Some(result.accepted as f64 / result.elapsed.as_secs_f64()),
        pending: Some(pending),
        rss_while_pending_mb: Some(rss_pending),
        drain_per_s: Some(expected as f64 / (done - started).as_secs_f64()),
        delivered: Some(expected),
        server_peak_rss_mb: Some(cluster.peak_rss_mb()),
        server_cpu_s: Some(cluster.cpu_seconds()),
        ..Figures::default()
    };
    receiver.abort();
    Ok(figures)
}
