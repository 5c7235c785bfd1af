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
async fn post(
    client: &ApiClient,
    data: Value,
) -> Result<(StatusCode, Value, Option<String>), String> {
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

/// Posts large events until `refusals` in a row are refused (or, with
/// `stop_after`, until that many were accepted); every refusal must be a
/// 503 `storage_unavailable` with a `Retry-After`, and every request must
/// be answered. Returns how many were refused.
async fn fill(
    client: &ApiClient,
    acknowledged: &mut BTreeSet<String>,
    refusals: usize,
    stop_after: Option<usize>,
) -> usize {
    let blob = "x".repeat(200 * 1024);
    let (mut refused, mut accepted) = (0, 0);
    let started = Instant::now();
    while refused < refusals && started.elapsed() < Duration::from_secs(90) {
        match post(client, json!({"blob": blob})).await {
            Ok((StatusCode::ACCEPTED, body, _)) => {
                acknowledged.insert(body["id"].as_str().unwrap().to_string());
                accepted += 1;
                if stop_after.is_some_and(|n| accepted >= n) {
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
    refused
}

/// A small event is accepted within [`WAIT`] (retrying meanwhile).
async fn accepted_soon(client: &ApiClient, acknowledged: &mut BTreeSet<String>, when: &str) {
    let started = Instant::now();
    loop {
        match post(client, json!({"small": when})).await {
            Ok((StatusCode::ACCEPTED, body, _)) => {
                acknowledged.insert(body["id"].as_str().unwrap().to_string());
                return;
            }
            Ok((status, body, _)) => assert!(
                started.elapsed() < WAIT,
                "{when}: still {status} {body} after {:?}",
                started.elapsed()
            ),
            Err(e) => panic!("{when}: unanswered: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Small events keep being accepted for `window` (several checkpoint
/// periods: a checkpoint that takes the room made would refuse them).
async fn keeps_accepting(
    client: &ApiClient,
    acknowledged: &mut BTreeSet<String>,
    window: Duration,
) {
    let started = Instant::now();
    while started.elapsed() < window {
        match post(client, json!({"small": "steady"})).await {
            Ok((StatusCode::ACCEPTED, body, _)) => {
                acknowledged.insert(body["id"].as_str().unwrap().to_string());
            }
            other => panic!(
                "refused {:?} after room was made: {other:?}",
                started.elapsed()
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn stop(child: &mut tokio::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status();
    let _ = tokio::time::timeout(WAIT, child.wait()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_503_and_work_is_accepted_again_once_there_is_room() {
    let disk = SmallDisk::mount(32);
    let data_dir = disk.path().join("data");
    let log = disk.path().join("herald.log");
    // Room to give back later: once without a restart, once with one.
    let reserves = [disk.path().join("reserve-1"), disk.path().join("reserve-2")];
    for reserve in &reserves {
        std::fs::write(reserve, vec![0u8; 4 << 20]).unwrap();
    }
    let (mut child, client) = spawn_herald(&data_dir, &log).await;
    let on_postgres = database::postgres_admin_url().is_some();
    let receiver = Receiver::start().await;
    // Paused while the disk fills, so only ingest writes (as when a
    // destination is down): the WAL then grows fastest.
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/disk"),
            json!({"event_types": ["disk.*"], "status": "paused"}),
        ),
    )
    .await;
    let webhook_path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let mut acknowledged = BTreeSet::new();

    if on_postgres {
        // The database has room: only the data directory and the log fill.
        fill(&client, &mut acknowledged, 1, Some(20)).await;
        disk.fill("filler");
        assert_eq!(fill(&client, &mut acknowledged, 1, Some(20)).await, 0);
        assert_eq!(ready(&client).await, StatusCode::OK);
        std::fs::remove_file(disk.path().join("filler")).unwrap();
    } else {
        assert_eq!(fill(&client, &mut acknowledged, 5, None).await, 5);
        assert_eq!(
            ready(&client).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready while writes fail"
        );
        // Room again: accepted at once, without a restart, and ready.
        std::fs::remove_file(&reserves[0]).unwrap();
        accepted_soon(&client, &mut acknowledged, "room made").await;
        keeps_accepting(&client, &mut acknowledged, Duration::from_secs(3)).await;
        let deadline = Instant::now() + WAIT;
        while ready(&client).await != StatusCode::OK {
            assert!(Instant::now() < deadline, "still not ready with room");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Full again; stopped; a little room made; started again. The
        // first checkpoint used to take that room and refuse the rest.
        assert_eq!(fill(&client, &mut acknowledged, 5, None).await, 5);
    }
    stop(&mut child).await;
    std::fs::remove_file(&reserves[1]).unwrap();
    let (mut child, client) = spawn_herald(&data_dir, &log).await;
    accepted_soon(&client, &mut acknowledged, "after the restart").await;
    keeps_accepting(&client, &mut acknowledged, Duration::from_secs(3)).await;

    // Nothing acknowledged is lost: every event arrives.
    let (status, resumed) = client
        .patch(&webhook_path, json!({"status": "active"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    let delivered = |requests: &[crate::common::Recorded]| -> BTreeSet<String> {
        requests
            .iter()
            .filter_map(|r| r.json()["id"].as_str().map(str::to_string))
            .collect()
    };
    // New events were refused while room was short, to keep room for
    // recording deliveries: they go through at once, none waits for its
    // lease to run out.
    receiver
        .wait_until(Duration::from_secs(30), "every acknowledged event", |r| {
            acknowledged.is_subset(&delivered(r))
        })
        .await;
    stop(&mut child).await;
}
