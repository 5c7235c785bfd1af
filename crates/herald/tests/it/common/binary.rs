//! The real `herald` binary as a child process, for tests that kill it or
//! watch its memory.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::process::{Child, Command};

use super::{ApiClient, WAIT, database};

/// The admin token of spawned servers.
pub(crate) const CRASH_TOKEN: &str = "crash-test-token";

/// A free loopback port: bind port 0, note the port, release it.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port()
}

/// Starts `herald serve --dev` on `data_dir` and waits until it is ready.
/// Its stderr goes to `log`, which is shown if it never becomes ready. It
/// stores in the test database of `data_dir` (see [`database`]).
pub(crate) async fn spawn_herald(data_dir: &Path, log: &Path) -> (Child, ApiClient) {
    spawn_herald_with(data_dir, log, &[]).await
}

/// [`spawn_herald`] with extra environment variables.
pub(crate) async fn spawn_herald_with(
    data_dir: &Path,
    log: &Path,
    env: &[(&str, &str)],
) -> (Child, ApiClient) {
    let port = free_port();
    let database = database::database_env(data_dir).await;
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open server log");
    let child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--dev", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .env("HERALD_ADMIN_TOKEN", CRASH_TOKEN)
        // Only HERALD_TEST_DATABASE picks the backend, never a
        // HERALD_DATABASE_URL left in the shell that runs the tests.
        .env_remove("HERALD_DATABASE_URL")
        .envs(database)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        // Never leave a server behind if the test panics.
        .kill_on_drop(true)
        .spawn()
        .expect("spawn herald binary");
    let client = ApiClient::new(format!("http://127.0.0.1:{port}"), Some(CRASH_TOKEN.into()));

    let probe = client.clone();
    let ready = tokio::time::timeout(WAIT, async move {
        let http = reqwest::Client::new();
        loop {
            let ok = http
                .get(probe.url("/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ok {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    if ready.is_err() {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        panic!("herald did not become ready on port {port}; log:\n{log}");
    }
    database::assert_uses_test_database(data_dir).await;
    (child, client)
}

/// The resident memory of a process, in kB.
pub(crate) fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmRSS")
}
