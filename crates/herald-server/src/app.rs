//! Startup and shutdown: builds every part from [`Settings`], binds the
//! listener, runs the API and the worker until told to stop.

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::config::Settings;
use crate::console;
use crate::dispatch::Dispatcher;
use crate::metrics::{self, Metrics};
use crate::registry::Registry;
use crate::retention;
use herald_store::prelude::*;
use herald_store::{Engine, MasterKey, PostgresOptions, SqliteOptions, Store, StoreOptions};

/// The file in the data directory naming the address the API listens on,
/// one `host:port` line, so whoever starts Herald with `--listen …:0` (a
/// free port chosen by the system) can find it.
pub const ADDRESS_FILE: &str = "herald.addr";

/// A built, bound, not yet running Herald.
pub struct Application {
    listener: TcpListener,
    /// `--metrics-listen`: serves only `/metrics`, without a token.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    settings: Settings,
    /// Held for the life of the process: one Herald per data directory.
    _lock: File,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        create_data_dir(&settings.data_dir)?;
        let lock = lock_data_dir(&settings.data_dir)?;
        let admin_token = resolve_admin_token(&settings)?;
        let master_key = resolve_master_key(&settings)?;

        let store = open_store(&settings, master_key).await?;
        let registry = Arc::new(Registry::load(store.load_registry().await?));
        let metrics = Metrics::new(settings.metrics_per_webhook);
        let dispatcher =
            Dispatcher::new(store.clone(), registry.clone(), metrics.clone(), &settings)?;

        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        write_address_file(&settings.data_dir, listener.local_addr()?)?;
        let metrics_listener = match settings.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen for metrics on {address}"))?,
            ),
            None => None,
        };
        let state = AppState::new(store, registry, dispatcher, metrics, admin_token, &settings);
        Ok(Application {
            listener,
            metrics_listener,
            state,
            settings,
            _lock: lock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address of the `--metrics-listen` listener, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    /// The admin bearer token in effect.
    pub fn admin_token(&self) -> String {
        self.state.admin_token().to_string()
    }

    /// Serves until `shutdown` resolves, then stops accepting requests, lets
    /// in-flight deliveries finish (up to the grace period) and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let dispatcher = self.state.dispatcher().clone();
        dispatcher.start().await?;
        let sweeper = self.settings.retention.map(|keep| {
            tokio::spawn(retention::sweep_forever(
                self.state.store().clone(),
                keep,
                self.settings.retention_sweep_every,
            ))
        });
        let stopping = tokio_util::sync::CancellationToken::new();
        tokio::spawn({
            let stopping = stopping.clone();
            async move {
                shutdown.await;
                stopping.cancel();
            }
        });
        tokio::spawn(self.state.schemas().clone().follow(stopping.clone()));
        let upkeep = tokio::spawn(metrics::upkeep_forever(self.state.metrics().clone()));
        let ticker = tokio::spawn(api::schedules::run_forever(
            self.state.clone(),
            stopping.clone(),
        ));
        let metrics_server = self.metrics_listener.map(|listener| {
            let router = api::metrics_router(self.state.clone());
            let stopping = stopping.clone();
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(stopping.cancelled_owned())
                    .await
            })
        });
        let serves_api = self.settings.role.serves_api();
        let mcp = if serves_api {
            let route = api::mcp::McpRoute {
                listener: self.listener.local_addr()?,
                read_only: self.settings.mcp_read_only,
                hosts: self.settings.mcp_allowed_hosts.clone(),
                max_body_bytes: self.settings.max_body_bytes,
                stopping: stopping.clone(),
            };
            Some(api::mcp::routes(&self.state, route)?)
        } else {
            None
        };
        let console = serves_api.then(|| {
            console::routes(
                &self.state,
                console::Options {
                    secure_cookies: !self.settings.dev,
                    frame_ancestors: self.settings.console_frame_ancestors.clone(),
                },
            )
        });
        let console_prune =
            serves_api.then(|| tokio::spawn(console::prune_forever(self.state.store().clone())));
        let router = api::router(self.state, serves_api, mcp, console);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(stopping.clone().cancelled_owned())
            .await
            .context("the API server failed")?;
        stopping.cancel();
        if let Some(server) = metrics_server {
            let _ = server.await;
        }
        upkeep.abort();
        if let Some(prune) = console_prune {
            prune.abort();
        }
        // A tick cut short is emitted again at the next start (its
        // idempotency key keeps it single).
        ticker.abort();
        // Each sweep batch is its own transaction: stopping between batches
        // loses nothing.
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        dispatcher.shutdown(self.settings.shutdown_grace).await;
        tracing::info!("Herald stopped");
        Ok(())
    }
}

/// `herald migrate`: brings the data directory's database to the current
/// schema (and seals rows stored before encryption at rest) without
/// serving, so an upgrade can be checked before traffic moves. Returns the
/// schema version.
pub async fn migrate(settings: &Settings) -> anyhow::Result<u32> {
    create_data_dir(&settings.data_dir)?;
    let _lock = lock_data_dir(&settings.data_dir)?;
    let master_key = resolve_master_key(settings)?;
    let store = open_store(settings, master_key).await?;
    // Every stored webhook must open with the key in use.
    store.load_registry().await?;
    Ok(store.schema_version().await?)
}

/// Opens the configured database: the shared PostgreSQL one, or the
/// embedded SQLite file in the data directory.
async fn open_store(settings: &Settings, master_key: MasterKey) -> anyhow::Result<Store> {
    let engine = match &settings.database_url {
        Some(url) => Engine::Postgres(PostgresOptions::new(url.expose_secret())),
        None => {
            let mut sqlite = SqliteOptions::new(settings.data_dir.join("herald.db"));
            sqlite.synchronous = settings.store_synchronous();
            Engine::Sqlite(sqlite)
        }
    };
    Store::open(StoreOptions { engine, master_key })
        .await
        .context("cannot open the database")
}

/// Where `herald migrate` reports it migrated.
pub fn database_name(settings: &Settings) -> String {
    match &settings.database_url {
        // Never print a password: the host and database only.
        Some(url) => url::Url::parse(url.expose_secret())
            .map(|u| format!("postgres://{}{}", u.host_str().unwrap_or(""), u.path()))
            .unwrap_or_else(|_| "PostgreSQL".to_string()),
        None => settings.data_dir.join("herald.db").display().to_string(),
    }
}

/// Creates the data directory readable by its owner only: it holds the
/// database and the admin token.
fn create_data_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))
}

/// Writes `addr` to [`ADDRESS_FILE`] through a temporary file renamed over
/// it, so a reader finds the previous address or the new one, never part
/// of one. The temporary name can be fixed because the data directory's
/// lock keeps every other Herald out. The file is left in place at exit,
/// stale: a `kill -9` would leave it anyway, so removing it on a clean stop
/// would promise what a crash cannot keep. Whoever starts Herald and wants
/// the new address removes the old file first and waits for it to appear.
fn write_address_file(dir: &Path, addr: SocketAddr) -> anyhow::Result<()> {
    let path = dir.join(ADDRESS_FILE);
    let temporary = dir.join(format!("{ADDRESS_FILE}.tmp"));
    std::fs::write(&temporary, format!("{addr}\n"))
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Takes an exclusive lock on the data directory, so a second Herald on the
/// same SQLite file fails at start instead of double-sending.
fn lock_data_dir(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join("herald.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.try_lock().map_err(|_| {
        anyhow::anyhow!(
            "another Herald is already using the data directory {}",
            dir.display()
        )
    })?;
    Ok(file)
}

/// The configured admin token, or the one stored in the data directory, or
/// a new one: stored with mode 0600 and printed this once.
fn resolve_admin_token(settings: &Settings) -> anyhow::Result<SecretString> {
    if let Some(token) = &settings.admin_token {
        return Ok(token.clone());
    }
    let path = settings.data_dir.join("admin-token");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let token = existing.trim().to_string();
        anyhow::ensure!(!token.is_empty(), "{} is empty", path.display());
        return Ok(SecretString::from(token));
    }
    let token = format!("hrld_admin_{}", crate::tokens::random_token());
    let mut file = create_private_file(&path)?;
    writeln!(file, "{token}")?;
    file.sync_all()?;
    // Shown once; it is in the file too, so an unwritable stdout (a full
    // disk) must not stop the start the way `println!` would.
    let _ = writeln!(
        std::io::stdout(),
        "Generated an admin API token (stored in {}; shown only now):\n\n    {token}\n",
        path.display()
    );
    let token = SecretString::from(token);
    debug_assert!(!token.expose_secret().is_empty());
    Ok(token)
}

/// The configured master key, or the one in the data directory's key file,
/// or a new one written there with mode 0600. Losing the key file loses
/// the stored secrets, which is why the first start says where it is.
fn resolve_master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(key) = &settings.master_key {
        return MasterKey::parse(key.expose_secret())
            .map_err(|e| anyhow::anyhow!("HERALD_MASTER_KEY: {e}"));
    }
    let path = settings.data_dir.join("master.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return MasterKey::parse(&existing).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let key = MasterKey::generate();
    let mut file = create_private_file(&path)?;
    writeln!(file, "{}", key.to_base64().as_str())?;
    file.sync_all()?;
    tracing::info!(
        path = %path.display(),
        "generated the master key that seals stored secrets; back it up with the database"
    );
    Ok(key)
}

/// Creates a new file only its owner can read.
fn create_private_file(path: &Path) -> anyhow::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}
