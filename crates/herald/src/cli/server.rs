//! `serve` and `migrate`: run the application from the `herald-server`
//! library.

use herald_server::{Application, ServeArgs, Settings, telemetry};

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.with_secrets_from_env().resolve()?;
    telemetry::init(settings.log_format);
    log_destination_policy(&settings);
    let app = Application::build(settings).await?;
    tracing::info!(address = %app.local_addr(), "Herald is listening");
    app.run_until_stopped(shutdown_signal()).await
}

pub(crate) async fn migrate(args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.with_secrets_from_env().resolve()?;
    telemetry::init(settings.log_format);
    let version = herald_server::migrate(&settings).await?;
    println!(
        "{}: schema version {version}",
        herald_server::database_name(&settings)
    );
    Ok(())
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
