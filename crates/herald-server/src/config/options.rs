//! The options of `herald serve`, declared once: each field is a flag
//! (clap, which also reads its `HERALD_*` variable) and a key of the TOML
//! file (serde, the same name in snake_case). Layers merge generically —
//! the file, then the environment and flags over it — by serialising both
//! and laying one over the other, so no field is mirrored by hand.
//!
//! Three settings are never flags, so they never show in a process list:
//! `HERALD_ADMIN_TOKEN` and `HERALD_SMTP_URL` (environment or file) and
//! `HERALD_MASTER_KEY` (environment only: a config file is more often
//! shared than the environment).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use herald_core::network::AllowedNetworks;
use herald_core::webhook::alerts::AlertThresholds;
use herald_providers::ProviderKind;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{
    BacklogLimits, DnsOverrides, LogFormat, McpHosts, Role, Settings, SyncMode, defaults, retention,
};

/// `herald serve` options: flags, `HERALD_*` variables and file keys.
#[derive(Debug, Default, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (lowest precedence).
    #[arg(long, env = "HERALD_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HERALD_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Data directory for the database and generated keys [default: ./herald-data].
    #[arg(long, env = "HERALD_DATA_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL database shared by every node (`postgres://user@host/db`);
    /// the embedded SQLite database is used without it. Prefer the
    /// environment variable when the URL holds a password.
    #[arg(long = "database", env = "HERALD_DATABASE_URL", value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// What this node runs: `all`, `api` or `worker` [default: all].
    #[arg(long, env = "HERALD_ROLE", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Development mode: allow http:// and loopback/private destinations.
    #[arg(long, env = "HERALD_DEV", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<bool>,
    /// Accept http:// destinations outside dev mode (addresses are still
    /// checked).
    #[arg(long, env = "HERALD_ALLOW_HTTP", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_http: Option<bool>,
    /// CIDR ranges to deliver to although they are private, loopback or
    /// link-local, comma-separated (e.g. `10.20.0.0/16,fd00:1::/64`).
    #[arg(long, env = "HERALD_ALLOWED_NETWORKS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_networks: Option<Vec<String>>,
    /// Fixed addresses for host names, comma-separated `host=address`
    /// (like curl --resolve); still subject to the address check.
    #[arg(long, env = "HERALD_DNS_OVERRIDES", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_overrides: Option<Vec<String>>,
    /// Log format [default: auto].
    #[arg(long, env = "HERALD_LOG_FORMAT", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// Seconds shutdown waits for in-flight deliveries [default: 30].
    #[arg(long, env = "HERALD_SHUTDOWN_GRACE_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_secs: Option<u64>,
    /// Largest Retry-After honoured, in seconds [default: 3600, at most 2592000].
    #[arg(long, env = "HERALD_MAX_RETRY_AFTER_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retry_after_secs: Option<u64>,
    /// Largest API request body in bytes [default: 1048576].
    #[arg(long, env = "HERALD_MAX_BODY_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    /// SQLite durability: `full` syncs every commit to disk [default: full].
    #[arg(long, env = "HERALD_SQLITE_SYNCHRONOUS", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlite_synchronous: Option<SyncMode>,
    /// Sender address of email webhooks that set no `from`.
    #[arg(long, env = "HERALD_SMTP_FROM")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_from: Option<String>,
    /// Providers to switch off, comma-separated (e.g. `teams,email`).
    #[arg(long, env = "HERALD_DISABLED_PROVIDERS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_providers: Option<Vec<String>>,
    /// Days finished events and their delivery log are kept; 0 keeps them
    /// forever [default: 30].
    #[arg(long, env = "HERALD_RETENTION_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<f64>,
    /// Events per second each tenant may post; over it the API answers 429
    /// [default: unlimited].
    #[arg(long, env = "HERALD_TENANT_EVENTS_PER_SECOND")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_events_per_second: Option<NonZeroU32>,
    /// Largest `data` of one event in bytes [default: 262144].
    #[arg(long, env = "HERALD_MAX_EVENT_DATA_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_event_data_bytes: Option<usize>,
    /// Also serve `GET /metrics`, without a token, on this address (e.g.
    /// `127.0.0.1:9464`) [default: none; the API listener serves it to the
    /// admin token].
    #[arg(long, env = "HERALD_METRICS_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// Label delivery metrics with `webhook_id` (small installations only).
    #[arg(long, env = "HERALD_METRICS_PER_WEBHOOK", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_per_webhook: Option<bool>,
    /// A webhook is degraded below this share of successful attempts
    /// (webhooks may set their own `alerts`) [default: 0.95].
    #[arg(long, env = "HERALD_ALERT_SUCCESS_RATE_BELOW")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_success_rate_below: Option<f64>,
    /// … over the attempts of this many minutes [default: 15].
    #[arg(long, env = "HERALD_ALERT_WINDOW_MINUTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_window_minutes: Option<u32>,
    /// … once the window holds at least this many attempts [default: 20].
    #[arg(long, env = "HERALD_ALERT_MIN_ATTEMPTS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_min_attempts: Option<u32>,
    /// `herald.queue.backlog` fires when more deliveries than this wait
    /// (0: never) [default: 1000].
    #[arg(long, env = "HERALD_BACKLOG_ALERT_PENDING")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog_alert_pending: Option<u64>,
    /// … or when the oldest has waited longer than this (0: never)
    /// [default: 600].
    #[arg(long, env = "HERALD_BACKLOG_ALERT_AGE_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog_alert_age_secs: Option<u64>,
    /// Host names `/mcp` accepts in `Host` and `Origin` besides loopback
    /// (`localhost`, `127.0.0.1`, `[::1]`), comma-separated, each `name`
    /// (any port) or `name:port` [default: none; DNS-rebinding protection].
    #[arg(long, env = "HERALD_MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_allowed_hosts: Option<Vec<String>>,
    /// `/mcp` offers only the tools that read, and refuses the others.
    #[arg(long, env = "HERALD_MCP_READ_ONLY", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_read_only: Option<bool>,
    /// Origins that may embed the console (the tenant portal) in a frame,
    /// comma-separated `https://host[:port]` [default: none].
    #[arg(long, env = "HERALD_CONSOLE_FRAME_ANCESTORS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_frame_ancestors: Option<Vec<String>>,
    /// `HERALD_ADMIN_TOKEN` (or the file's `admin_token`): never a flag.
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<String>,
    /// `HERALD_SMTP_URL` (or the file's `smtp_url`): never a flag, since it
    /// may hold a password.
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// `HERALD_MASTER_KEY`: the environment only.
    #[arg(skip)]
    #[serde(skip)]
    pub master_key: Option<String>,
}

impl ServeArgs {
    /// Takes the settings that are never flags from the environment
    /// (empty values count as unset). Only the binary calls this, so tests
    /// never read the real `HERALD_*` variables.
    pub fn with_secrets_from_env(mut self) -> ServeArgs {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        self.admin_token = self.admin_token.or_else(|| var("HERALD_ADMIN_TOKEN"));
        self.smtp_url = self.smtp_url.or_else(|| var("HERALD_SMTP_URL"));
        self.master_key = self.master_key.or_else(|| var("HERALD_MASTER_KEY"));
        self
    }

    /// Resolves every layer into settings: the file (if `config` names one)
    /// under these options, then the defaults under both; then validates.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let merged = match &self.config {
            Some(path) => read_file(path)?.overlaid_with(self)?,
            None => self,
        };
        merged.into_settings()
    }

    /// `self` with every option `top` sets laid over it.
    fn overlaid_with(self, top: ServeArgs) -> anyhow::Result<ServeArgs> {
        let master_key = top.master_key.clone().or(self.master_key.clone());
        let (serde_json::Value::Object(mut merged), serde_json::Value::Object(over)) =
            (serde_json::to_value(&self)?, serde_json::to_value(&top)?)
        else {
            anyhow::bail!("options are a table");
        };
        merged.extend(over);
        let mut options: ServeArgs = serde_json::from_value(merged.into())?;
        options.config = top.config.or(self.config);
        options.master_key = master_key;
        Ok(options)
    }

    /// The defaults under whatever is set, parsed into settings.
    pub(crate) fn into_settings(self) -> anyhow::Result<Settings> {
        let disabled_providers = self
            .disabled_providers
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
            .map(|list| AllowedNetworks::parse(&list.join(",")))
            .transpose()
            .map_err(|e| anyhow::anyhow!("HERALD_ALLOWED_NETWORKS: {e}"))?
            .unwrap_or_default();
        let dns_overrides = self
            .dns_overrides
            .map(|list| DnsOverrides::parse(&list.join(",")))
            .transpose()
            .map_err(|e| anyhow::anyhow!("HERALD_DNS_OVERRIDES: {e}"))?
            .unwrap_or_default();
        let mcp_allowed_hosts = self
            .mcp_allowed_hosts
            .map(|list| McpHosts::parse(&list))
            .transpose()
            .map_err(|e| anyhow::anyhow!("HERALD_MCP_ALLOWED_HOSTS: {e}"))?
            .unwrap_or_default();
        let console_frame_ancestors = self
            .console_frame_ancestors
            .map(|list| frame_ancestors(&list))
            .transpose()
            .map_err(|e| anyhow::anyhow!("HERALD_CONSOLE_FRAME_ANCESTORS: {e}"))?
            .unwrap_or_default();
        let secret = |v: Option<String>| v.filter(|v| !v.is_empty()).map(SecretString::from);
        let settings = Settings {
            listen: self
                .listen
                .unwrap_or_else(|| defaults::LISTEN.parse().expect("a valid default")),
            data_dir: self
                .data_dir
                .unwrap_or_else(|| PathBuf::from(defaults::DATA_DIR)),
            database_url: secret(self.database_url),
            role: self.role.unwrap_or_default(),
            admin_token: secret(self.admin_token),
            dev: self.dev.unwrap_or(false),
            allow_http: self.allow_http.unwrap_or(false),
            allowed_networks,
            dns_overrides,
            log_format: self.log_format.unwrap_or_default(),
            shutdown_grace: self
                .shutdown_grace_secs
                .map_or(defaults::SHUTDOWN_GRACE, Duration::from_secs),
            max_retry_after: self
                .max_retry_after_secs
                .map_or(defaults::MAX_RETRY_AFTER, Duration::from_secs),
            max_body_bytes: self.max_body_bytes.unwrap_or(defaults::MAX_BODY_BYTES),
            synchronous: self.sqlite_synchronous.unwrap_or_default(),
            smtp_url: secret(self.smtp_url),
            smtp_from: self.smtp_from,
            disabled_providers,
            retention: retention(self.retention_days.unwrap_or(defaults::RETENTION_DAYS))?,
            retention_sweep_every: defaults::RETENTION_SWEEP_EVERY,
            master_key: secret(self.master_key),
            tenant_events_per_second: self.tenant_events_per_second,
            max_event_data_bytes: self
                .max_event_data_bytes
                .unwrap_or(defaults::MAX_EVENT_DATA_BYTES),
            metrics_listen: self.metrics_listen,
            metrics_per_webhook: self.metrics_per_webhook.unwrap_or(false),
            alerts: {
                let d = AlertThresholds::default();
                AlertThresholds {
                    success_rate_below: self
                        .alert_success_rate_below
                        .unwrap_or(d.success_rate_below),
                    window_minutes: self.alert_window_minutes.unwrap_or(d.window_minutes),
                    min_attempts: self.alert_min_attempts.unwrap_or(d.min_attempts),
                }
            },
            mcp_allowed_hosts,
            mcp_read_only: self.mcp_read_only.unwrap_or(false),
            console_frame_ancestors,
            backlog_alert: BacklogLimits {
                pending: self
                    .backlog_alert_pending
                    .unwrap_or(defaults::BACKLOG_ALERT_PENDING),
                oldest_age: Duration::from_secs(
                    self.backlog_alert_age_secs
                        .unwrap_or(defaults::BACKLOG_ALERT_AGE_SECS),
                ),
            },
        };
        settings.validate()?;
        Ok(settings)
    }
}

fn read_file(path: &Path) -> anyhow::Result<ServeArgs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let invalid = || format!("invalid config file {}", path.display());
    let table: toml::Table = toml::from_str(&text).with_context(invalid)?;
    anyhow::ensure!(
        !table.contains_key("master_key"),
        "{}: the master key is never read from a file; set HERALD_MASTER_KEY",
        path.display()
    );
    table.try_into().with_context(invalid)
}

/// Checks the origins that may frame the console: each `http(s)://host`
/// with an optional port and nothing else, as `frame-ancestors` takes them.
fn frame_ancestors(list: &[String]) -> Result<Vec<String>, String> {
    list.iter()
        .map(|entry| {
            let entry = entry.trim();
            let url = url::Url::parse(entry).map_err(|e| format!("`{entry}`: {e}"))?;
            let bare = matches!(url.scheme(), "https" | "http")
                && url.host_str().is_some()
                && url.path() == "/"
                && url.query().is_none()
                && url.username().is_empty()
                && !entry.ends_with('/');
            if !bare {
                return Err(format!(
                    "`{entry}` must be an origin such as https://app.example.com"
                ));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config file of its own, removed when the guard drops.
    struct ConfigFile(PathBuf);

    impl Drop for ConfigFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn file(contents: &str) -> (ConfigFile, PathBuf) {
        let name = format!("{}.toml", herald_core::ids::new_id("herald-config"));
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).unwrap();
        (ConfigFile(path.clone()), path)
    }

    #[test]
    fn flags_and_the_environment_override_the_file() {
        let (_dir, path) = file(
            "listen = \"127.0.0.1:9000\"\ndev = true\nshutdown_grace_secs = 7\n\
             admin_token = \"from-the-file-0123\"\nretention_days = 2\n",
        );
        let s = ServeArgs {
            config: Some(path),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            // As `with_secrets_from_env` would set it.
            admin_token: Some("from-the-environment".into()),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(s.listen.port(), 9100);
        assert!(s.dev);
        assert_eq!(s.shutdown_grace, Duration::from_secs(7));
        assert_eq!(s.retention, Some(Duration::from_secs(2 * 86_400)));
        use secrecy::ExposeSecret;
        assert_eq!(
            s.admin_token.unwrap().expose_secret(),
            "from-the-environment"
        );
    }

    #[test]
    fn every_default_comes_from_one_place() {
        let served = ServeArgs::default().resolve().unwrap();
        let embedded = Settings::new(PathBuf::from("elsewhere"));
        assert_eq!(served.shutdown_grace, defaults::SHUTDOWN_GRACE);
        assert_eq!(embedded.shutdown_grace, served.shutdown_grace);
        assert_eq!(embedded.max_retry_after, served.max_retry_after);
        assert_eq!(embedded.max_body_bytes, served.max_body_bytes);
        assert_eq!(embedded.retention, served.retention);
        assert_eq!(embedded.max_event_data_bytes, served.max_event_data_bytes);
        assert_eq!(served.listen.to_string(), defaults::LISTEN);
        assert_eq!(embedded.listen.port(), 0, "embedders take any free port");
    }

    #[test]
    fn unknown_file_keys_and_a_master_key_in_the_file_are_refused() {
        let (_dir, path) = file("lisen = \"127.0.0.1:9000\"\n");
        let err = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
        let (_dir, path) = file("master_key = \"abc\"\n");
        let err = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(format!("{err:#}").contains("HERALD_MASTER_KEY"), "{err:#}");
    }

    #[test]
    fn destination_settings_parse_and_bad_ranges_refuse_to_start() {
        let s = ServeArgs {
            allow_http: Some(true),
            allowed_networks: Some(vec!["127.0.0.1/32".into(), " 10.20.0.0/16".into()]),
            dns_overrides: Some(vec!["hooks.internal.test=10.20.0.5".into()]),
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
            allowed_networks: Some(vec!["10.0.0.0/8".into(), "10.0.0.0/33".into()]),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "HERALD_ALLOWED_NETWORKS: `10.0.0.0/33` is not a CIDR range such as 10.0.0.0/8 or fd00::/8"
        );
        let err = ServeArgs {
            dns_overrides: Some(vec!["hooks.internal.test".into()]),
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
    fn the_file_takes_lists_and_flags_take_comma_separated_values() {
        let (_dir, path) = file(
            "allowed_networks = [\"192.168.0.0/16\"]\ndns_overrides = [\"a.test=192.168.0.9\"]\n\
             disabled_providers = [\"teams\"]\n",
        );
        let s = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(s.allowed_networks.to_string(), "192.168.0.0/16");
        assert!(!s.dns_overrides.is_empty());
        assert_eq!(s.disabled_providers, [ProviderKind::Teams]);
        assert!(!s.allow_http);

        // What clap makes of `--disabled-providers teams,email`.
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let cli = <Cli as clap::Parser>::try_parse_from([
            "herald",
            "--disabled-providers",
            "teams,email",
            "--allowed-networks",
            "10.0.0.0/8,fd00::/8",
        ])
        .unwrap();
        let s = cli.serve.resolve().unwrap();
        assert_eq!(
            s.disabled_providers,
            [ProviderKind::Teams, ProviderKind::Email]
        );
        assert_eq!(s.allowed_networks.to_string(), "10.0.0.0/8,fd00::/8");
    }

    #[test]
    fn console_frame_ancestors_are_bare_origins() {
        let ok = frame_ancestors(&[
            "https://app.example.com".into(),
            " http://127.0.0.1:3000".into(),
        ]);
        assert_eq!(
            ok.unwrap(),
            ["https://app.example.com", "http://127.0.0.1:3000"]
        );
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "https://app.example.com/",
            "https://user@app.example.com",
            "https://app.example.com?x=1",
            "javascript:alert(1)",
            "*",
        ] {
            assert!(frame_ancestors(&[bad.into()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn mcp_hosts_parse_and_bad_ones_refuse_to_start() {
        let s = ServeArgs {
            mcp_allowed_hosts: Some(vec![
                "herald.example.com".into(),
                " Herald.Internal:8443".into(),
            ]),
            mcp_read_only: Some(true),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap();
        assert!(s.mcp_read_only);
        assert!(s.mcp_allowed_hosts.allows("herald.example.com", Some(443)));
        assert!(s.mcp_allowed_hosts.allows("herald.internal", Some(8443)));
        assert!(!s.mcp_allowed_hosts.allows("herald.internal", Some(80)));
        assert!(!ServeArgs::default().resolve().unwrap().mcp_read_only);
        let err = ServeArgs {
            mcp_allowed_hosts: Some(vec!["https://herald.example.com/".into()]),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(
            format!("{err:#}").starts_with("HERALD_MCP_ALLOWED_HOSTS: "),
            "{err:#}"
        );
    }

    #[test]
    fn limits_are_validated() {
        let err = ServeArgs {
            max_retry_after_secs: Some(u64::MAX),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("max_retry_after_secs"),
            "{err:#}"
        );
        let err = ServeArgs {
            retention_days: Some(f64::NAN),
            ..ServeArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert!(format!("{err:#}").contains("RETENTION_DAYS"), "{err:#}");
    }
}
