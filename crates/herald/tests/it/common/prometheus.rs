//! A real Prometheus server (Debian's `prometheus` package) scraping a
//! Herald metrics listener every second, for tests that read figures back
//! through its HTTP query API. Killed when dropped.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::{Child, Command};

pub(crate) struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target`'s `/metrics`; fails, saying
    /// what to install, when the binary is missing.
    pub(crate) async fn start(target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: herald\n    static_configs:\n      \
                 - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        // Prometheus cannot report a port the system chose, so one is
        // picked free here and handed to it.
        let port = super::closed_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "the prometheus binary (Debian's `prometheus` package; scripts/test installs it)",
            );
        let prometheus = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{}/-/ready", prometheus.base))
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(Instant::now() < deadline, "prometheus never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        prometheus
    }

    /// The value of an instant `query`, polled until it equals `expected`
    /// (Prometheus scrapes every second); panics after 30 s with the last.
    pub(crate) async fn wait_for_value(&self, query: &str, expected: f64) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answer: Option<Value> = async {
                reqwest::Client::new()
                    .get(format!(
                        "{}/api/v1/query?query={}",
                        self.base,
                        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
                    ))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()
            }
            .await;
            let value = answer.as_ref().and_then(|a| {
                a["data"]["result"][0]["value"][1]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
            });
            if value == Some(expected) {
                return expected;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus never answered {expected} to {query}: {answer:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
