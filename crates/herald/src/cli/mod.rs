//! The `herald` command line: parses arguments and runs the subcommand.
//! The server commands run the application in this process; the resource
//! commands (one module each) drive a server through `herald-client`.

mod analytics;
mod audit;
mod completions;
pub(crate) mod connection;
mod deliveries;
mod events;
mod failure;
mod input;
mod mcp;
mod output;
mod paging;
mod providers;
mod schedules;
mod server;
mod tenants;
mod webhooks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herald_client::Time;
use herald_server::ServeArgs;

use failure::Failure;

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "Durable, signed webhook and integration delivery",
    after_help = failure::EXIT_CODES_HELP
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API and the delivery worker.
    Serve(ServeArgs),
    /// Bring the database to the current schema and exit (takes the same
    /// settings as `serve`).
    Migrate(ServeArgs),
    /// Measure Herald's throughput, latency and memory on this machine.
    Bench(crate::bench::BenchArgs),
    /// Run a local receiver that prints every webhook it gets (for trying
    /// Herald out).
    Receive {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: std::net::SocketAddr,
    },
    /// Receive a Herald server's deliveries on this machine: print each,
    /// check its signature, and forward it to a local app.
    Listen(crate::listen::ListenArgs),
    /// Check a request's signature as a receiver would.
    #[command(subcommand)]
    Signature(crate::signature::SignatureCommand),
    /// Manage webhooks: list, get, create, update, delete, pause, resume,
    /// enable, test, secrets.
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Webhooks(webhooks::Webhooks),
    /// Send events, read them, replay them.
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Events(events::Events),
    /// Emit an event on a cron pattern: create, list, pause, resume, delete.
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Schedules(schedules::Schedules),
    /// Read deliveries with their attempts; retry a failed one.
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Deliveries(deliveries::Deliveries),
    /// Manage tenants (admin token only).
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Tenants(tenants::Tenants),
    /// Manage tenants' API keys (admin token only).
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Keys(tenants::Keys),
    /// Read the audit log of changes.
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Audit(audit::Audit),
    /// The integration catalog: providers, their settings and limits.
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Providers(providers::Providers),
    /// Delivery figures: summary, stats, tags, a webhook's report, a range.
    #[command(after_help = failure::EXIT_CODES_HELP)]
    Analytics(analytics::Analytics),
    /// Serve Herald's tools to an MCP client (an AI agent) over stdio,
    /// acting on a Herald server through its API.
    Mcp(mcp::McpArgs),
    /// Print a shell completion script (bash, zsh, fish).
    Completions(completions::Completions),
}

/// Entry point of the binary: runs the command and says how it went.
pub(crate) async fn run() -> ExitCode {
    let command = Cli::parse().command;
    let result = match command {
        Command::Serve(args) => server::serve(args).await.map_err(other),
        Command::Migrate(args) => server::migrate(args).await.map_err(other),
        Command::Bench(args) => crate::bench::run(args).await.map_err(other),
        Command::Receive { listen } => crate::receive::run(listen).await.map_err(other),
        Command::Listen(args) => crate::listen::run(args).await.map_err(Failure::of_command),
        // Exit 1 when the request does not verify, as documented.
        Command::Signature(command) => match crate::signature::run(command) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(failure::code::OTHER),
            Err(e) => Err(other(e)),
        },
        Command::Webhooks(c) => c.run().await,
        Command::Events(c) => c.run().await,
        Command::Schedules(c) => c.run().await,
        Command::Deliveries(c) => c.run().await,
        Command::Tenants(c) => c.run().await,
        Command::Keys(c) => c.run().await,
        Command::Audit(c) => c.run().await,
        Command::Providers(c) => c.run().await,
        Command::Analytics(c) => c.run().await,
        Command::Mcp(args) => mcp::run(args).await,
        Command::Completions(c) => c.run(),
    };
    failure::report(result)
}

/// The server commands' failures, with their whole chain of causes.
fn other(e: anyhow::Error) -> Failure {
    Failure::Other(format!("{e:#}"))
}

/// An RFC 3339 time argument.
fn parse_time(option: &str, text: &str) -> Result<Time, Failure> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            Failure::usage(format!(
                "{option}: `{text}` is not an RFC 3339 time such as 2026-11-23T10:00:00Z ({e})"
            ))
        })
}
