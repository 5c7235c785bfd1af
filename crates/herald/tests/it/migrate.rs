//! `herald migrate` with the real binary: it brings the database (the
//! SQLite file in the data directory, or the PostgreSQL database it is
//! given) to the current schema and exits, refuses a data directory a
//! server is using, and leaves what `serve` then opens.

use std::path::Path;
use std::process::Command;

use crate::common::binary::spawn_herald;
use crate::common::{WAIT, create_webhook, database};
use reqwest::StatusCode;
use serde_json::json;

/// `herald migrate` on `data_dir` and the test's database.
async fn migrate(data_dir: &Path) -> std::process::Output {
    let database = database::database_env(data_dir).await;
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("migrate")
        .arg("--data-dir")
        .arg(data_dir)
        .env("HERALD_ADMIN_TOKEN", crate::common::binary::CRASH_TOKEN)
        .env_remove("HERALD_DATABASE_URL")
        .envs(database)
        .output()
        .expect("run herald migrate")
}

/// The schema version a successful `herald migrate` reports.
fn reported_version(out: &std::process::Output) -> u32 {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .split_once("schema version ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no schema version reported: {stdout}"))
}

/// Checks that `herald migrate` built the schema where the test said: the
/// SQLite file, or the PostgreSQL database (with no SQLite file beside it).
async fn assert_schema_in_test_database(data_dir: &Path, out: &std::process::Output) {
    let sqlite_file = data_dir.join("herald.db");
    match database::remembered_url(data_dir) {
        None => assert!(sqlite_file.exists(), "migrate created the SQLite file"),
        Some(url) => {
            assert!(
                !sqlite_file.exists(),
                "migrate was given {url} yet created {}",
                sqlite_file.display()
            );
            assert!(
                database::table_count(&url).await > 0,
                "migrate left {url} without tables"
            );
            // The report names what was migrated, not a file not in use.
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(!stdout.contains("herald.db"), "{stdout}");
        }
    }
}

#[tokio::test]
async fn migrate_prepares_the_database_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    // A PostgreSQL test database starts out empty: the tables found after
    // migrate are migrate's doing.
    if let Some(url) = database::database_url_for(&data_dir).await {
        assert_eq!(database::table_count(&url).await, 0, "{url} starts empty");
    }

    let out = migrate(&data_dir).await;
    let version = reported_version(&out);
    assert!(version > 0, "schema version {version}");
    assert_schema_in_test_database(&data_dir, &out).await;
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
    let out = migrate(&data_dir).await;
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
    let out = migrate(&data_dir).await;
    assert_eq!(
        reported_version(&out),
        version,
        "the schema was already current"
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

/// Two nodes started on one empty database without `HERALD_MASTER_KEY`
/// each generated their own key, then could not open each other's
/// webhooks and routed events nowhere. The database remembers the key it
/// was set up with: a node with another one refuses to start, naming
/// `HERALD_MASTER_KEY`. On SQLite, the same for a restart with a new key.
#[tokio::test]
async fn a_node_with_another_master_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let out = migrate(&first).await;
    reported_version(&out);
    let second = dir.path().join("second");
    match database::remembered_url(&first) {
        // A second node on the same database, with a key of its own.
        Some(url) => database::share_database_new_dir(&second, &url),
        // The same directory, started with another key.
        None => {
            std::fs::create_dir_all(&second).unwrap();
            for file in ["herald.db", "herald.db-wal", "herald.db-shm"] {
                if first.join(file).exists() {
                    std::fs::copy(first.join(file), second.join(file)).unwrap();
                }
            }
        }
    }
    let out = migrate(&second).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started with another key: {stderr}");
    assert!(stderr.contains("HERALD_MASTER_KEY"), "{stderr}");
    // The first node's key still opens it.
    reported_version(&migrate(&first).await);
}
