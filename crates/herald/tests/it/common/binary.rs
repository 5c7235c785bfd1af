//! The real `herald` binary as a child process, for tests that kill it or
//! watch its memory. It listens on a port the system picks (`--listen
//! 127.0.0.1:0`) and says which in its data directory's address file, so
//! parallel tests never race for a port.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::process::{Child, Command};

use super::{ApiClient, WAIT, database};

/// The admin token of spawned servers.
pub(crate) const CRASH_TOKEN: &str = "crash-test-token";

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
    let database = database::database_env(data_dir).await;
    // An earlier server on this directory (a restart) left its address.
    let address_file = data_dir.join(herald_server::ADDRESS_FILE);
    match std::fs::remove_file(&address_file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot remove {}: {e}", address_file.display()),
    }
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open server log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
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
    let addr = wait_for_address(&mut child, &address_file, log).await;
    let client = ApiClient::new(format!("http://{addr}"), Some(CRASH_TOKEN.into()));

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
        panic!("herald did not become ready on {addr}; log:\n{log}");
    }
    database::assert_uses_test_database(data_dir).await;
    (child, client)
}

/// Waits for the server to write its address file and returns the address,
/// failing with the server's log if it exits or stays silent.
async fn wait_for_address(child: &mut Child, address_file: &Path, log: &Path) -> SocketAddr {
    let deadline = Instant::now() + WAIT;
    loop {
        // The file is renamed into place whole, so once it is there it is
        // complete.
        if let Ok(text) = std::fs::read_to_string(address_file) {
            return text.trim().parse().unwrap_or_else(|e| {
                panic!(
                    "{} holds {text:?}, not an address: {e}",
                    address_file.display()
                )
            });
        }
        let exited = child.try_wait().expect("poll the herald child");
        if exited.is_some() || Instant::now() >= deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!(
                "herald ({}) never wrote {}; log:\n{log}",
                exited.map_or("still running".to_string(), |s| s.to_string()),
                address_file.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
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

/// Real nodes on one fresh PostgreSQL database, sharing a master key,
/// each with its own data directory and log; killed when dropped.
pub(crate) struct Nodes {
    /// The database's URL.
    pub(crate) database: String,
    pub(crate) nodes: Vec<(Child, ApiClient)>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Nodes {
    /// Starts `n` nodes, one at a time: the first migrates the database.
    pub(crate) async fn start(n: usize) -> Nodes {
        let database = database::fresh_database().await;
        let master_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let logs = tempfile::tempdir().unwrap();
        let (mut dirs, mut nodes) = (Vec::new(), Vec::new());
        for i in 0..n {
            let dir = tempfile::tempdir().unwrap();
            database::share_database(dir.path(), &database);
            let log = logs.path().join(format!("node-{i}.log"));
            let env = [
                ("HERALD_DATABASE_URL", database.as_str()),
                ("HERALD_MASTER_KEY", master_key),
            ];
            nodes.push(spawn_herald_with(dir.path(), &log, &env).await);
            dirs.push(dir);
        }
        dirs.push(logs);
        Nodes {
            database,
            nodes,
            _dirs: dirs,
        }
    }

    /// Node `i`'s API.
    pub(crate) fn client(&self, i: usize) -> ApiClient {
        self.nodes[i].1.clone()
    }
}
