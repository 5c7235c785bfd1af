//! `herald migrate` with the real binary: it brings a data directory to the
//! current schema and exits, refuses a directory a server is using, and
//! leaves what `serve` then opens.

mod common;

use std::process::Command;

use common::binary::spawn_herald;
use common::{WAIT, create_webhook};
use reqwest::StatusCode;
use serde_json::json;

fn migrate(data_dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("migrate")
        .arg("--data-dir")
        .arg(data_dir)
        .env("HERALD_ADMIN_TOKEN", common::binary::CRASH_TOKEN)
        .output()
        .expect("run herald migrate")
}

#[tokio::test]
async fn migrate_prepares_the_database_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");

    let out = migrate(&data_dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("schema version"), "{stdout}");
    assert!(data_dir.join("herald.db").exists());
    assert!(
        data_dir.join("master.key").exists(),
        "the key is made with the database"
    );

    // A running server holds the directory: a second process is refused.
    let log = dir.path().join("herald.log");
    let (mut child, client) = spawn_herald(&data_dir, &log).await;
    let webhook = create_webhook(
        &client,
        json!({"name": "kept", "url": "http://127.0.0.1:9/h"}),
    )
    .await;
    let out = migrate(&data_dir);
    assert!(
        !out.status.success(),
        "migrate must not run beside a server"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already using"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    child.kill().await.unwrap();
    let _ = tokio::time::timeout(WAIT, child.wait()).await;

    // Run again on a database in use before: nothing to do, data intact.
    let out = migrate(&data_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut child, client) = spawn_herald(&data_dir, &log).await;
    let (status, body) = client
        .get(&format!(
            "/api/v1/webhooks/{}",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    child.kill().await.unwrap();
}
