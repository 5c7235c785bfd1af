//! `herald listen`: webhooks on a developer's laptop. Subscribes a webhook
//! on a Herald server to a local port, prints every delivery, checks its
//! signature with the webhook's own keys, and forwards the exact request
//! to the local app, whose answer goes back to Herald (so the delivery log
//! shows what the app said).

mod relay;
mod subscription;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::cli::connection::Server;
use relay::Relay;
use subscription::Subscription;

#[derive(Debug, clap::Args)]
pub(crate) struct ListenArgs {
    #[command(flatten)]
    server: Server,
    /// Forward each delivery to this URL and answer Herald with its
    /// answer; without it, deliveries are printed and answered 200.
    #[arg(long, value_name = "URL")]
    forward_to: Option<url::Url>,
    /// Event types to subscribe to, comma separated (`training.*,task.created`).
    #[arg(long, value_delimiter = ',', default_value = "*")]
    events: Vec<String>,
    /// Use this webhook (its URL is pointed at this listener) instead of
    /// creating one; it is left in place on exit.
    #[arg(long, value_name = "ID")]
    webhook: Option<String>,
    /// The local port [default: any free one].
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The URL Herald delivers to, when it cannot reach this machine's
    /// loopback (a tunnel) [default: http://HOST:PORT/].
    #[arg(long, value_name = "URL")]
    public_url: Option<url::Url>,
    /// Print the webhook's signing secret, to configure in the app.
    #[arg(long)]
    print_secret: bool,
    /// Forward requests whose signature does not verify too (they are
    /// still printed as INVALID).
    #[arg(long)]
    forward_invalid: bool,
    /// Print each delivery's body.
    #[arg(long)]
    print_body: bool,
    /// Keep the webhook this listener created when it stops.
    #[arg(long)]
    keep: bool,
    /// How long the app may take to answer, in seconds.
    #[arg(long, default_value_t = 25)]
    forward_timeout_secs: u64,
}

pub(crate) async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let client = args
        .server
        .client()
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let local = listener.local_addr()?;
    let target = match &args.public_url {
        Some(url) => url.to_string(),
        None => format!("http://{local}/"),
    };
    let subscription =
        Subscription::start(&client, args.webhook.as_deref(), &target, &args.events).await?;
    println!(
        "Listening on http://{local}/ for webhook {} ({}), events {}",
        subscription.webhook_id,
        if subscription.created {
            "created"
        } else {
            "reused"
        },
        args.events.join(",")
    );
    if args.print_secret {
        println!("Signing secret: {}", subscription.keys.secret);
        if let Some(public_key) = &subscription.keys.public_key {
            println!("Public key: {public_key}");
        }
    }
    match &args.forward_to {
        Some(url) => println!("Forwarding to {url}; Ctrl-C to stop.\n"),
        None => println!("Printing only (no --forward-to); Ctrl-C to stop.\n"),
    }
    let relay = Arc::new(Relay::new(
        subscription.keys.clone(),
        args.forward_to.clone(),
        args.forward_invalid,
        args.print_body,
        Duration::from_secs(args.forward_timeout_secs),
    )?);
    let served = axum::serve(listener, relay::router(relay))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    if subscription.created && !args.keep {
        subscription.remove(&client).await;
    }
    served.context("the listener stopped")
}
