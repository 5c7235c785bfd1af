//! Configuration: one typed struct, loaded once from defaults, then an
//! optional TOML file, then `HERALD_*` environment variables, then flags
//! (each layer overriding the one before).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use herald_core::network::{AddressPolicy, AllowedNetworks};
use herald_core::webhook::UrlPolicy;
use herald_providers::ProviderKind;
use herald_store::Synchronous;
use secrecy::SecretString;
use serde::Deserialize;

mod dns;
pub(crate) mod smtp;

pub use dns::DnsOverrides;
pub(crate) use smtp::SmtpServer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// JSON when stderr is not a terminal, readable text when it is.
    #[default]
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Every commit reaches the disk before it is acknowledged.
    #[default]
    Full,
    /// Commits survive a crash of Herald but not a power cut.
    Normal,
}

/// What a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ValueEnum)]
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

/// The default bound on one event's `data`.
const DEFAULT_MAX_EVENT_DATA_BYTES: usize = 256 * 1024;

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
}

impl Settings {
    /// Defaults with the given data directory and an OS-chosen port, the
    /// starting point of tests and embedders.
    pub fn new(data_dir: PathBuf) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: None,
            role: Role::All,
            admin_token: None,
            dev: false,
            allow_http: false,
            allowed_networks: AllowedNetworks::default(),
            dns_overrides: DnsOverrides::default(),
            log_format: LogFormat::Auto,
            shutdown_grace: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(3600),
            max_body_bytes: 1024 * 1024,
            synchronous: SyncMode::Full,
            smtp_url: None,
            smtp_from: None,
            disabled_providers: Vec::new(),
            retention: Some(Duration::from_secs(30 * 86_400)),
            retention_sweep_every: Duration::from_secs(60),
            master_key: None,
            tenant_events_per_second: None,
            max_event_data_bytes: DEFAULT_MAX_EVENT_DATA_BYTES,
        }
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

/// `herald serve` flags; each also reads its `HERALD_*` variable.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (lowest precedence).
    #[arg(long, env = "HERALD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HERALD_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory for the database and generated keys [default: ./herald-data].
    #[arg(long, env = "HERALD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL database shared by every node (`postgres://user@host/db`);
    /// the embedded SQLite database is used without it. Prefer the
    /// environment variable when the URL holds a password.
    #[arg(long = "database", env = "HERALD_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// What this node runs: `all`, `api` or `worker` [default: all].
    #[arg(long, env = "HERALD_ROLE", value_enum)]
    pub role: Option<Role>,
    /// Development mode: allow http:// and loopback/private destinations.
    #[arg(long, env = "HERALD_DEV", num_args = 0..=1, default_missing_value = "true")]
    pub dev: Option<bool>,
    /// Accept http:// destinations outside dev mode (addresses are still
    /// checked).
    #[arg(long, env = "HERALD_ALLOW_HTTP", num_args = 0..=1, default_missing_value = "true")]
    pub allow_http: Option<bool>,
    /// CIDR ranges to deliver to although they are private, loopback or
    /// link-local, comma-separated (e.g. `10.20.0.0/16,fd00:1::/64`).
    #[arg(long, env = "HERALD_ALLOWED_NETWORKS")]
    pub allowed_networks: Option<String>,
    /// Fixed addresses for host names, comma-separated `host=address`
    /// (like curl --resolve); still subject to the address check.
    #[arg(long, env = "HERALD_DNS_OVERRIDES")]
    pub dns_overrides: Option<String>,
    /// Log format.
    #[arg(long, env = "HERALD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Seconds shutdown waits for in-flight deliveries [default: 30].
    #[arg(long, env = "HERALD_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Largest Retry-After honoured, in seconds [default: 3600].
    #[arg(long, env = "HERALD_MAX_RETRY_AFTER_SECS")]
    pub max_retry_after_secs: Option<u64>,
    /// Largest API request body in bytes [default: 1048576].
    #[arg(long, env = "HERALD_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// SQLite durability: `full` syncs every commit to disk.
    #[arg(long, env = "HERALD_SQLITE_SYNCHRONOUS", value_enum)]
    pub sqlite_synchronous: Option<SyncMode>,
    /// Sender address of email webhooks that set no `from`.
    #[arg(long, env = "HERALD_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Providers to switch off, comma-separated (e.g. `teams,email`).
    #[arg(long, env = "HERALD_DISABLED_PROVIDERS", value_delimiter = ',')]
    pub disabled_providers: Option<Vec<String>>,
    /// Days finished events and their delivery log are kept; 0 keeps them
    /// forever [default: 30].
    #[arg(long, env = "HERALD_RETENTION_DAYS")]
    pub retention_days: Option<f64>,
    /// Events per second each tenant may post; over it the API answers 429
    /// [default: unlimited].
    #[arg(long, env = "HERALD_TENANT_EVENTS_PER_SECOND")]
    pub tenant_events_per_second: Option<NonZeroU32>,
    /// Largest `data` of one event in bytes [default: 262144].
    #[arg(long, env = "HERALD_MAX_EVENT_DATA_BYTES")]
    pub max_event_data_bytes: Option<usize>,
}

/// The TOML file: the same settings, snake_case, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    role: Option<Role>,
    admin_token: Option<String>,
    dev: Option<bool>,
    allow_http: Option<bool>,
    allowed_networks: Option<Vec<String>>,
    dns_overrides: Option<Vec<String>>,
    log_format: Option<LogFormat>,
    shutdown_grace_secs: Option<u64>,
    max_retry_after_secs: Option<u64>,
    max_body_bytes: Option<usize>,
    sqlite_synchronous: Option<SyncMode>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    disabled_providers: Option<Vec<String>>,
    retention_days: Option<f64>,
    tenant_events_per_second: Option<NonZeroU32>,
    max_event_data_bytes: Option<usize>,
}

impl ServeArgs {
    /// Resolves every layer into settings. `HERALD_ADMIN_TOKEN`,
    /// `HERALD_MASTER_KEY` and `HERALD_SMTP_URL` (which may hold a password)
    /// are read here rather than as flags so they never show in a process
    /// list; the master key is never read from the file, which is more
    /// often shared than the environment.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let env_token = std::env::var("HERALD_ADMIN_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
        let smtp_url = std::env::var("HERALD_SMTP_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .or(file.smtp_url)
            .map(SecretString::from);
        let disabled_providers = self
            .disabled_providers
            .or(file.disabled_providers)
            .unwrap_or_default()
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|p| {
                ProviderKind::parse(p).ok_or_else(|| {
                    anyhow::anyhow!("HERALD_DISABLED_PROVIDERS: unknown provider `{p}`")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let allowed_networks = self
            .allowed_networks
            .or(file.allowed_networks.map(|list| list.join(",")))
            .map(|list| AllowedNetworks::parse(&list))
            .transpose()
            .map_err(|e| anyhow::anyhow!("HERALD_ALLOWED_NETWORKS: {e}"))?
            .unwrap_or_default();
        let dns_overrides = self
            .dns_overrides
            .or(file.dns_overrides.map(|list| list.join(",")))
            .map(|list| DnsOverrides::parse(&list))
            .transpose()
            .map_err(|e| anyhow::anyhow!("HERALD_DNS_OVERRIDES: {e}"))?
            .unwrap_or_default();
        let settings = Settings {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: self
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("herald-data")),
            database_url: self
                .database_url
                .or(file.database_url)
                .filter(|u| !u.is_empty())
                .map(SecretString::from),
            role: self.role.or(file.role).unwrap_or_default(),
            admin_token: env_token.or(file.admin_token).map(SecretString::from),
            dev: self.dev.or(file.dev).unwrap_or(false),
            allow_http: self.allow_http.or(file.allow_http).unwrap_or(false),
            allowed_networks,
            dns_overrides,
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
            shutdown_grace: Duration::from_secs(
                self.shutdown_grace_secs
                    .or(file.shutdown_grace_secs)
                    .unwrap_or(30),
            ),
            max_retry_after: Duration::from_secs(
                self.max_retry_after_secs
                    .or(file.max_retry_after_secs)
                    .unwrap_or(3600),
            ),
            max_body_bytes: self
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(1024 * 1024),
            synchronous: self
                .sqlite_synchronous
                .or(file.sqlite_synchronous)
                .unwrap_or_default(),
            smtp_url,
            smtp_from: self.smtp_from.or(file.smtp_from),
            disabled_providers,
            retention: retention(self.retention_days.or(file.retention_days).unwrap_or(30.0))?,
            retention_sweep_every: Duration::from_secs(60),
            master_key: std::env::var("HERALD_MASTER_KEY")
                .ok()
                .filter(|k| !k.is_empty())
                .map(SecretString::from),
            tenant_events_per_second: self
                .tenant_events_per_second
                .or(file.tenant_events_per_second),
            max_event_data_bytes: self
                .max_event_data_bytes
                .or(file.max_event_data_bytes)
                .unwrap_or(DEFAULT_MAX_EVENT_DATA_BYTES),
        };
        settings.validate()?;
        Ok(settings)
    }
}

impl Settings {
    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "max_body_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.max_retry_after <= herald_core::retry::RETRY_AFTER_CEILING,
            "max_retry_after_secs must be at most {} (30 days)",
            herald_core::retry::RETRY_AFTER_CEILING.as_secs()
        );
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

fn retention(days: f64) -> anyhow::Result<Option<Duration>> {
    anyhow::ensure!(
        days.is_finite() && (0.0..=36_500.0).contains(&days),
        "HERALD_RETENTION_DAYS must be between 0 (keep forever) and 36500"
    );
    Ok((days > 0.0).then(|| Duration::from_secs_f64(days * 86_400.0)))
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile_dir();
        let path = dir.join("herald.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ndev = true\nshutdown_grace_secs = 7\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..ServeArgs::default()
        };
        let s = args.resolve().unwrap();
        assert_eq!(s.listen.port(), 9100);
        assert!(s.dev);
        assert_eq!(s.shutdown_grace, Duration::from_secs(7));
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile_dir();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let err = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn destination_settings_parse_and_bad_ranges_refuse_to_start() {
        let s = ServeArgs {
            allow_http: Some(true),
            allowed_networks: Some("127.0.0.1/32, 10.20.0.0/16".to_string()),
            dns_overrides: Some("hooks.internal.test=10.20.0.5".to_string()),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap();
        assert!(s.allow_http && !s.dev);
        assert_eq!(s.allowed_networks.to_string(), "127.0.0.1/32,10.20.0.0/16");
        assert!(!s.dns_overrides.is_empty());
        let policy = s.url_policy();
        assert!(policy.allow_http && !policy.any_host);
        assert!(policy.check_address("10.20.1.1".parse().unwrap()).is_ok());
        assert!(policy.check_address("10.21.1.1".parse().unwrap()).is_err());

        let err = ServeArgs {
            allowed_networks: Some("10.0.0.0/8,10.0.0.0/33".to_string()),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "HERALD_ALLOWED_NETWORKS: `10.0.0.0/33` is not a CIDR range such as 10.0.0.0/8 or fd00::/8"
        );
        let err = ServeArgs {
            dns_overrides: Some("hooks.internal.test".to_string()),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(
            format!("{err:#}").starts_with("HERALD_DNS_OVERRIDES: "),
            "{err:#}"
        );
    }

    #[test]
    fn the_file_takes_destination_lists() {
        let dir = tempfile_dir();
        let path = dir.join("herald.toml");
        std::fs::write(
            &path,
            "allowed_networks = [\"192.168.0.0/16\"]\ndns_overrides = [\"a.test=192.168.0.9\"]\n",
        )
        .unwrap();
        let s = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(s.allowed_networks.to_string(), "192.168.0.0/16");
        assert!(!s.dns_overrides.is_empty());
        assert!(!s.allow_http);
    }

    fn tempfile_dir() -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("herald-config-{}", herald_core::ids::new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
