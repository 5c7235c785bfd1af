//! The address file: a server told to listen on port 0 writes the address
//! it bound to `herald.addr` in its data directory, and that is where it
//! answers, in process and as the real binary, replacing a stale file.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use herald_server::ADDRESS_FILE;
use reqwest::StatusCode;

use crate::common::{TestServer, WAIT, database, wait_for_value};

/// Reads the address file of `data_dir`, if there is one.
fn read_address(data_dir: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(data_dir.join(ADDRESS_FILE)).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{ADDRESS_FILE} holds {text:?}, not an address: {e}")),
    )
}

async fn health(addr: SocketAddr) -> StatusCode {
    reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap_or_else(|e| panic!("nothing answers at {addr}, the address in {ADDRESS_FILE}: {e}"))
        .status()
}

#[tokio::test]
async fn the_address_file_names_the_address_the_server_answers_on() {
    let server = TestServer::start().await;
    let addr = read_address(server.data_dir()).expect("the server writes its address file");
    assert_ne!(
        addr.port(),
        0,
        "the file names the port bound, not the one asked for"
    );
    assert_eq!(server.url(""), format!("http://{addr}"));
    assert_eq!(health(addr).await, StatusCode::OK);
}

#[tokio::test]
async fn the_binary_on_port_zero_replaces_a_stale_address_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    // What a server killed earlier would have left behind.
    let stale: SocketAddr = "127.0.0.1:9".parse().unwrap();
    std::fs::write(data_dir.join(ADDRESS_FILE), format!("{stale}\n")).unwrap();
    let database = database::database_env(&data_dir).await;
    let _child = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env("HERALD_ADMIN_TOKEN", "address-file-test-token")
        .env_remove("HERALD_DATABASE_URL")
        .envs(database)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn herald binary");

    let addr = wait_for_value(WAIT, "a fresh address in the address file", || async {
        read_address(&data_dir).filter(|addr| *addr != stale)
    })
    .await;
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    assert_eq!(health(addr).await, StatusCode::OK);
    // The temporary file it was written through is gone: renamed into place.
    assert!(!data_dir.join(format!("{ADDRESS_FILE}.tmp")).exists());
}
