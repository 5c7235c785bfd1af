//! Durability across restarts: a graceful restart in the middle of a retry
//! schedule, and a SIGKILL of the real binary while events are being posted.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::binary::{CRASH_TOKEN, spawn_herald};
use crate::common::{
    Receiver, Reply, TestServer, WAIT, create_webhook, only_delivery_for_event, post_event,
    wait_for_delivery_status, wait_for_value, webhook_body,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Notify;

#[tokio::test]
async fn graceful_restart_mid_retry_completes_the_delivery() {
    let mut server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500).body("not yet")]);
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/durable"),
            json!({ "retry": { "initial_delay_ms": 1500, "max_retries": 3, "jitter": false } }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "job.done", "id": "durable-1" })).await;
    let delivery_id = only_delivery_for_event(&client, "durable-1").await;

    // Restart only once the failed first attempt is on disk, so the retry
    // can only come from the persisted schedule.
    receiver.wait_for(1, WAIT).await;
    wait_for_value(WAIT, "first attempt recorded as retrying", || {
        let client = client.clone();
        let delivery_id = delivery_id.clone();
        async move {
            let (_, d) = client
                .get(&format!("/api/v1/deliveries/{delivery_id}"))
                .await;
            (d["status"] == "retrying" && d["attempt_count"] == 1).then_some(())
        }
    })
    .await;

    server.restart().await;
    let client = server.client();

    let requests = receiver.wait_for(2, WAIT).await;
    let delivery = wait_for_delivery_status(&client, &delivery_id, "delivered", WAIT).await;
    assert_eq!(delivery["attempt_count"], 2, "{delivery:#}");
    let codes: Vec<&Value> = delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(200)], "{delivery:#}");

    // The restart neither lost the schedule nor fired the retry early.
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(1400),
        "retry came {gap:?} after the failure; initial_delay_ms is 1500"
    );
    receiver
        .assert_quiet(
            Duration::from_millis(500),
            2,
            "the restarted server sends the delivery once",
        )
        .await;
}

const EVENTS: usize = 5_000;
const POSTERS: usize = 32;
/// Kill the process once this many events have been accepted.
const KILL_AFTER: usize = 2_500;

#[tokio::test]
async fn sigkill_mid_stream_loses_no_accepted_event() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let logs = tempfile::tempdir().expect("log dir");
    let log = logs.path().join("herald.log");
    let receiver = Receiver::start().await;

    let (mut child, client) = spawn_herald(data_dir.path(), &log).await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/crash"),
            json!({ "retry": { "initial_delay_ms": 100, "jitter": false } }),
        ),
    )
    .await;

    let accepted_count = Arc::new(AtomicUsize::new(0));
    let kill_now = Arc::new(Notify::new());
    let mut posters = tokio::task::JoinSet::new();
    for poster in 0..POSTERS {
        let client = client.clone();
        let accepted_count = accepted_count.clone();
        let kill_now = kill_now.clone();
        posters.spawn(async move {
            let http = reqwest::Client::new();
            let mut accepted = Vec::new();
            for n in (poster..EVENTS).step_by(POSTERS) {
                let id = format!("crash-{n}");
                // The id also travels in `data`, so the receiver can tell
                // events apart whatever the envelope's id is.
                let event = json!({ "type": "crash.test", "id": id, "data": { "event_id": id } });
                let url = client.url("/api/v1/events");
                let sent = http
                    .post(url)
                    .bearer_auth(CRASH_TOKEN)
                    .json(&event)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::ACCEPTED => {
                        accepted.push(id);
                        if accepted_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                            kill_now.notify_one();
                        }
                    }
                    // Once the process is gone, nothing more is accepted.
                    _ => break,
                }
            }
            accepted
        });
    }

    kill_now.notified().await;
    // `kill` sends SIGKILL on Unix: no shutdown hooks, no flushing.
    child.kill().await.expect("kill herald");

    let mut accepted = BTreeSet::new();
    while let Some(result) = posters.join_next().await {
        accepted.extend(result.expect("poster task"));
    }
    assert!(
        accepted.len() >= KILL_AFTER,
        "only {} events accepted",
        accepted.len()
    );
    assert!(
        accepted.len() < EVENTS,
        "all {EVENTS} events were accepted before the kill; the crash did not land mid-stream"
    );

    let (_child, client) = spawn_herald(data_dir.path(), &log).await;
    let received = |requests: &[crate::common::Recorded]| -> BTreeSet<String> {
        requests
            .iter()
            .filter_map(|r| r.json()["data"]["event_id"].as_str().map(str::to_string))
            .collect()
    };
    let what = format!("all {} accepted events to arrive", accepted.len());
    let requests = receiver
        .wait_until(Duration::from_secs(90), &what, |requests| {
            received(requests).is_superset(&accepted)
        })
        .await;
    let delivered = received(&requests);
    // At least once: what was in flight at the kill may arrive twice.
    let duplicates = requests.len() - delivered.len();
    eprintln!(
        "crash test: {} accepted, {} requests received, {duplicates} duplicates",
        accepted.len(),
        requests.len()
    );
    let missing: Vec<_> = accepted.difference(&delivered).collect();
    assert!(
        missing.is_empty(),
        "accepted but never delivered: {missing:?}"
    );

    // The restarted server also knows every accepted event.
    for id in accepted.iter().take(5) {
        let (status, event) = client.get(&format!("/api/v1/events/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{id}: {event}");
    }
}
