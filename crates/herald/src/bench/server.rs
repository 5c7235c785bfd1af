//! The server under test: a real `herald serve` child process on a temporary
//! data directory, with its memory and CPU read from `/proc`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

pub(crate) const TOKEN: &str = "bench-admin-token-0123456789";

pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) addr: SocketAddr,
    _data_dir: tempfile::TempDir,
    log_path: PathBuf,
}

impl ServerProcess {
    /// Starts `herald serve` (this same executable) and waits until it is
    /// ready. `extra_args` are passed through (e.g. a durability setting);
    /// `env` adds variables (a cluster's shared database and key).
    pub(crate) async fn start(
        extra_args: &[String],
        env: &[(&str, &str)],
    ) -> anyhow::Result<ServerProcess> {
        let data_dir = tempfile::Builder::new().prefix("herald-bench-").tempdir()?;
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_path = data_dir.path().join("server.log");
        let log = std::fs::File::create(&log_path)?;
        let exe = std::env::current_exe().context("cannot find the herald executable")?;
        let child = Command::new(exe)
            .arg("serve")
            .arg("--dev")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(extra_args)
            .env("HERALD_ADMIN_TOKEN", TOKEN)
            .env("HERALD_LOG", "warn")
            .env("HERALD_LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start herald serve")?;
        let mut server = ServerProcess {
            child,
            addr,
            _data_dir: data_dir,
            log_path,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = format!("http://{}/readyz", self.addr);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
                bail!("herald serve exited with {status} during start:\n{log}");
            }
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("herald serve was not ready within 30 s")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client of this node's API, as the admin (the load itself goes
    /// through its own connections, see `load`).
    pub(crate) fn api(&self) -> anyhow::Result<herald_client::Client> {
        let config = herald_client::ClientConfig::new(self.url("")).token(TOKEN);
        Ok(herald_client::Client::new(config)?)
    }

    fn proc_status(&self, key: &str) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Peak resident memory so far, in MiB.
    pub(crate) fn peak_rss_mb(&self) -> f64 {
        self.proc_status("VmHWM:").unwrap_or(0) as f64 / 1024.0
    }

    /// Current resident memory, in MiB.
    pub(crate) fn rss_mb(&self) -> f64 {
        self.proc_status("VmRSS:").unwrap_or(0) as f64 / 1024.0
    }

    /// CPU time (user + system) the server has used, in seconds.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        let Some(pid) = self.child.id() else {
            return 0.0;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return 0.0;
        };
        // Fields after the parenthesised command name; utime and stime are
        // the 14th and 15th fields of the whole line.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / clock_ticks_per_second()
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn clock_ticks_per_second() -> f64 {
    // The kernel's USER_HZ is 100 on every Linux architecture Herald targets.
    100.0
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
