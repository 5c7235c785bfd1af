//! Configuration: one typed struct, [`Settings`], loaded once. The options
//! (`options.rs`) are one set of fields read from an optional TOML file,
//! then `HERALD_*` environment variables, then flags, each layer overriding
//! the one before; every default lives in `defaults` below, and
//! [`Settings::new`] (for tests and embedders) starts from the same ones.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use herald_core::network::{AddressPolicy, AllowedNetworks};
use herald_core::webhook::UrlPolicy;
use herald_core::webhook::alerts::AlertThresholds;
use herald_providers::ProviderKind;
use herald_store::Synchronous;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

mod dns;
mod mcp_hosts;
mod options;
pub(crate) mod smtp;

pub use dns::DnsOverrides;
pub use mcp_hosts::McpHosts;
pub use options::ServeArgs;
pub(crate) use smtp::SmtpServer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// JSON when stderr is not a terminal, readable text when it is.
    #[default]
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Every commit reaches the disk before it is acknowledged.
    #[default]
    Full,
    /// Commits survive a crash of Herald but not a power cut.
    Normal,
}

/// What a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The API and the delivery worker.
    #[default]
    All,
    /// The API only: events are stored and left for worker nodes.
    Api,
    /// The delivery worker only; the listener serves `/healthz` and
    /// `/readyz` for load balancers and nothing else.
    Worker,
}

impl Role {
    pub(crate) fn serves_api(self) -> bool {
        self != Role::Worker
    }

    pub(crate) fn delivers(self) -> bool {
        self != Role::Api
    }
}

/// Every default, in one place.
mod defaults {
    use std::time::Duration;

    pub(super) const LISTEN: &str = "127.0.0.1:8080";
    pub(super) const DATA_DIR: &str = "herald-data";
    pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
    pub(super) const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
    pub(super) const MAX_BODY_BYTES: usize = 1024 * 1024;
    pub(super) const RETENTION_DAYS: f64 = 30.0;
    pub(super) const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(60);
    pub(super) const MAX_EVENT_DATA_BYTES: usize = 256 * 1024;
    pub(super) const BACKLOG_ALERT_PENDING: u64 = 1000;
    pub(super) const BACKLOG_ALERT_AGE_SECS: u64 = 600;
}

/// Everything `herald serve` runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// Where the database and generated files live.
    pub data_dir: PathBuf,
    /// `postgres://…`: the shared PostgreSQL database of a cluster. `None`
    /// keeps the embedded SQLite database in `data_dir`.
    pub database_url: Option<SecretString>,
    /// What this node runs.
    pub role: Role,
    /// The admin bearer token; generated and stored in `data_dir` if unset.
    pub admin_token: Option<SecretString>,
    /// Development mode: allows `http://`, any host for integrations and
    /// any destination address (loopback, private, …).
    pub dev: bool,
    /// Outside dev mode, accept `http://` destinations too. Only the
    /// scheme: the address rule still holds.
    pub allow_http: bool,
    /// Outside dev mode, ranges delivered to even though they are
    /// loopback, private, link-local or otherwise not public.
    pub allowed_networks: AllowedNetworks,
    /// Static addresses for host names (like curl's `--resolve`), used
    /// for HTTP destinations and webhooks' own mail servers; the address
    /// rule still applies to them.
    pub dns_overrides: DnsOverrides,
    pub log_format: LogFormat,
    /// How long shutdown waits for in-flight deliveries.
    pub shutdown_grace: Duration,
    /// Upper bound on a destination's `Retry-After`.
    pub max_retry_after: Duration,
    /// Largest request body the API accepts.
    pub max_body_bytes: usize,
    /// SQLite durability level.
    pub synchronous: SyncMode,
    /// The mail server email webhooks use unless they name their own:
    /// `smtp://user:pass@host:587` (STARTTLS), `smtps://…` (implicit TLS),
    /// `…?tls=none` (plain, for a local relay).
    pub smtp_url: Option<SecretString>,
    /// The sender address of email webhooks that set none.
    pub smtp_from: Option<String>,
    /// Providers switched off: their deliveries are recorded as skipped.
    pub disabled_providers: Vec<ProviderKind>,
    /// How long finished events, deliveries and attempts are kept (`None`:
    /// forever).
    pub retention: Option<Duration>,
    /// How often the retention sweep runs.
    pub retention_sweep_every: Duration,
    /// The key that seals stored secrets (base64 or hex of 32 bytes); read
    /// from, or created as, `master.key` in `data_dir` if unset.
    pub master_key: Option<SecretString>,
    /// Events per second one tenant may post (`None`: unlimited).
    pub tenant_events_per_second: Option<NonZeroU32>,
    /// Largest `data` of one event, in bytes of JSON.
    pub max_event_data_bytes: usize,
    /// A second address serving only `GET /metrics`, without a token (for
    /// a Prometheus on a private network); `None`: only the API listener
    /// serves it, to the admin token.
    pub metrics_listen: Option<SocketAddr>,
    /// Adds `webhook_id` to the delivery series (small installations only:
    /// one series per webhook and outcome).
    pub metrics_per_webhook: bool,
    /// When a webhook counts as degraded, unless it sets its own `alerts`.
    pub alerts: AlertThresholds,
    /// When `herald.queue.backlog` fires.
    pub backlog_alert: BacklogLimits,
    /// The hosts `/mcp` accepts in `Host` and `Origin` besides loopback.
    pub mcp_allowed_hosts: McpHosts,
    /// `/mcp` offers only the tools that read.
    pub mcp_read_only: bool,
    /// Origins (`https://app.example.com`) that may show the console in a
    /// frame, for embedding the tenant portal; empty: no site may.
    pub console_frame_ancestors: Vec<String>,
}

/// The queue sizes that raise `herald.queue.backlog`; 0 switches a limit
/// off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogLimits {
    pub pending: u64,
    pub oldest_age: Duration,
}

impl Settings {
    /// The defaults, with `data_dir` and an OS-chosen loopback port: the
    /// starting point of tests and embedders, from the same defaults as
    /// `herald serve`.
    pub fn new(data_dir: PathBuf) -> Settings {
        let mut settings = ServeArgs::default()
            .into_settings()
            .expect("the defaults are valid");
        settings.data_dir = data_dir;
        settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        settings
    }

    /// What webhook destinations may be, as the API checks them.
    pub(crate) fn url_policy(&self) -> UrlPolicy {
        if self.dev {
            UrlPolicy::dev()
        } else {
            UrlPolicy::production(self.allow_http, self.allowed_networks.clone())
        }
    }

    /// The rule the sender applies to every address it connects to:
    /// `None` in dev mode.
    pub(crate) fn address_policy(&self) -> Option<AddressPolicy> {
        (!self.dev).then(|| AddressPolicy::new(self.allowed_networks.clone()))
    }

    pub(crate) fn store_synchronous(&self) -> Synchronous {
        match self.synchronous {
            SyncMode::Full => Synchronous::Full,
            SyncMode::Normal => Synchronous::Normal,
        }
    }
}

impl Settings {
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "max_body_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.max_retry_after <= herald_core::retry::RETRY_AFTER_CEILING,
            "max_retry_after_secs must be at most {} (30 days)",
            herald_core::retry::RETRY_AFTER_CEILING.as_secs()
        );
        self.alerts
            .validate()
            .map_err(|e| anyhow::anyhow!("alert_{}: {}", e.field, e.message))?;
        anyhow::ensure!(
            self.max_event_data_bytes >= 2,
            "max_event_data_bytes must be at least 2"
        );
        if let Some(key) = &self.master_key {
            use secrecy::ExposeSecret;
            herald_store::MasterKey::parse(key.expose_secret())
                .map_err(|e| anyhow::anyhow!("HERALD_MASTER_KEY: {e}"))?;
        }
        if let Some(url) = &self.database_url {
            use secrecy::ExposeSecret;
            let url = url.expose_secret();
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "HERALD_DATABASE_URL must be a postgres:// URL"
            );
        }
        if let Some(url) = &self.smtp_url {
            SmtpServer::from_url(url)?;
        }
        if let Some(token) = &self.admin_token {
            use secrecy::ExposeSecret;
            anyhow::ensure!(
                token.expose_secret().len() >= 16,
                "HERALD_ADMIN_TOKEN must be at least 16 characters"
            );
        }
        Ok(())
    }
}

pub(crate) fn retention(days: f64) -> anyhow::Result<Option<Duration>> {
    anyhow::ensure!(
        days.is_finite() && (0.0..=36_500.0).contains(&days),
        "HERALD_RETENTION_DAYS must be between 0 (keep forever) and 36500"
    );
    Ok((days > 0.0).then(|| Duration::from_secs_f64(days * 86_400.0)))
}
