//! A full disk, against the real binary: the data directory and the log on
//! a small tmpfs (so this test needs root, as CI has; it fails, saying so,
//! without). While the disk is full, ingest answers 503
//! `storage_unavailable` with a `Retry-After` and `/readyz` says not ready;
//! every request is answered even though the log cannot be written; what
//! was acknowledged is delivered; and work is accepted again as soon as
//! room is made, without a restart (and after one).
//!
//! On PostgreSQL the database is elsewhere and has room: the full disk is
//! then only the data directory's and the log's, and events keep being
//! accepted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::binary::spawn_herald;
use crate::common::{ApiClient, Receiver, WAIT, create_webhook, database, webhook_body};

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "the full-disk test mounts a {megabytes} MiB tmpfs and needs root (CI runs as root): \
             mount exited with {status}"
        );
        SmallDisk { path, _dir: dir }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Fills what room is left with a file, so the next writes fail.
    fn fill(&self, name: &str) {
        let mut file = std::fs::File::create(self.path.join(name)).unwrap();
        let block = vec![0u8; 64 * 1024];
        use std::io::Write;
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// One attempt to post an event: its status and body, or the transport
/// error when nothing came back.
async fn post(client: &ApiClient, data: Value) -> Result<(StatusCode, Value, Option<String>), String> {
    let http = reqwest::Client::new();
    let response = http
        .post(client.url("/api/v1/events"))
        .bearer_auth(client.token().unwrap())
        .json(&json!({"type": "disk.fill", "data": data}))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body, retry_after))
}

async fn ready(client: &ApiClient) -> StatusCode {
    reqwest::get(client.url("/readyz"))
        .await
        .map(|r| r.status())
        .unwrap_or(StatusCode::BAD_GATEWAY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_503_and_work_is_accepted_again_once_there_is_room() {
    let disk = SmallDisk::mount(16);
    let data_dir = disk.path().join("data");
    let log = disk.path().join("herald.log");
    let (mut child, client) = spawn_herald(&data_dir, &log).await;
    let on_postgres = database::postgres_admin_url().is_some();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(&receiver.url("/disk"), json!({"event_types": ["disk.*"]})),
    )
    .await;

    // Room to give back later, then events until the disk is full.
    let reserve = disk.path().join("reserve");
    std::fs::write(&reserve, vec![0u8; 6 << 20]).unwrap();
    let blob = "x".repeat(64 * 1024);
    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    let started = Instant::now();
    while refused < 5 && started.elapsed() < Duration::from_secs(60) {
        match post(&client, json!({"blob": blob})).await {
            Ok((StatusCode::ACCEPTED, body, _)) => {
                acknowledged.insert(body["id"].as_str().unwrap().to_string());
                if on_postgres && acknowledged.len() == 40 {
                    // The database has room: only the data directory and
                    // the log are full. Fill them for good measure.
                    disk.fill("filler");
                }
                if on_postgres && acknowledged.len() >= 60 {
                    break;
                }
            }
            Ok((StatusCode::SERVICE_UNAVAILABLE, body, retry_after)) => {
                assert_eq!(body["error"]["code"], "storage_unavailable", "{body}");
                let wait: u64 = retry_after
                    .expect("a 503 says when to come back")
                    .parse()
                    .expect("Retry-After in seconds");
                assert!((1..=60).contains(&wait), "Retry-After {wait}");
                refused += 1;
            }
            Ok((status, body, _)) => panic!("a full disk answered {status}: {body}"),
            Err(e) => panic!("a request went unanswered while the disk was full: {e}"),
        }
    }
    if on_postgres {
        assert_eq!(refused, 0, "the database had room");
        assert_eq!(ready(&client).await, StatusCode::OK);
    } else {
        assert_eq!(refused, 5, "the disk never filled");
        assert_eq!(
            ready(&client).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready while writes fail"
        );
        // Room again: accepted at once, without a restart.
        std::fs::remove_file(&reserve).unwrap();
        let accepted_at = Instant::now();
        loop {
            match post(&client, json!({"small": true})).await {
                Ok((StatusCode::ACCEPTED, body, _)) => {
                    acknowledged.insert(body["id"].as_str().unwrap().to_string());
                    break;
                }
                Ok((status, body, _)) => assert!(
                    accepted_at.elapsed() < WAIT,
                    "still {status} {body} {:?} after room was made",
                    accepted_at.elapsed()
                ),
                Err(e) => panic!("unanswered: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let deadline = Instant::now() + WAIT;
        while ready(&client).await != StatusCode::OK {
            assert!(Instant::now() < deadline, "still not ready with room");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Nothing acknowledged is lost: every event arrives.
    let delivered = |requests: &[crate::common::Recorded]| -> BTreeSet<String> {
        requests
            .iter()
            .filter_map(|r| r.json()["id"].as_str().map(str::to_string))
            .collect()
    };
    receiver
        .wait_until(Duration::from_secs(30), "every acknowledged event", |r| {
            acknowledged.is_subset(&delivered(r))
        })
        .await;

    // And after a restart on the nearly full disk, work is accepted too.
    if on_postgres {
        std::fs::remove_file(disk.path().join("filler")).unwrap();
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status();
    let _ = tokio::time::timeout(WAIT, child.wait()).await;
    let (_child, client) = spawn_herald(&data_dir, &log).await;
    let (status, body, _) = post(&client, json!({"after": "restart"}))
        .await
        .expect("an answer after the restart");
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}
