//! The `herald` command line: parses arguments and runs the subcommand.

use clap::{Parser, Subcommand};

use herald_server::{Application, ServeArgs, Settings, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "Durable, signed webhook and integration delivery"
)]
struct Cli {
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
}

/// Entry point of the binary.
pub(crate) async fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => {
            let settings = args.with_secrets_from_env().resolve()?;
            telemetry::init(settings.log_format);
            log_destination_policy(&settings);
            let app = Application::build(settings).await?;
            tracing::info!(address = %app.local_addr(), "Herald is listening");
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Migrate(args) => {
            let settings = args.with_secrets_from_env().resolve()?;
            telemetry::init(settings.log_format);
            let version = herald_server::migrate(&settings).await?;
            println!(
                "{}: schema version {version}",
                herald_server::database_name(&settings)
            );
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Receive { listen } => crate::receive::run(listen).await,
        Command::Listen(args) => crate::listen::run(args).await,
        Command::Signature(command) => {
            if !crate::signature::run(command)? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// Says at start where deliveries may go, so an operator can tell a
/// refused destination from a misconfigured server.
fn log_destination_policy(settings: &Settings) {
    if settings.dev {
        tracing::warn!("dev mode: http:// and destinations on any address are accepted");
    } else {
        tracing::info!(
            allow_http = settings.allow_http,
            allowed_networks = %settings.allowed_networks,
            "destinations: public addresses only, plus the allowed networks"
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested");
}
