//! Ordered delivery: FIFO per webhook, and FIFO per key with parallelism
//! across keys, holding under failures and retries.

use crate::common::{Receiver, Recorded, Reply, TestServer, WAIT, create_webhook, webhook_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Replies for `n` requests where every `every`-th request fails once.
fn failing_every(every: usize, n: usize) -> Vec<Reply> {
    (1..=n)
        .map(|k| {
            if k % every == 0 {
                Reply::status(500)
            } else {
                Reply::ok()
            }
        })
        .collect()
}

/// The event ids of the requests that were answered 200, in arrival order.
fn delivered_ids(requests: &[Recorded], every: usize) -> Vec<String> {
    requests
        .iter()
        .enumerate()
        .filter(|(i, _)| (i + 1) % every != 0)
        .map(|(_, r)| r.json()["id"].as_str().unwrap().to_string())
        .collect()
}

async fn post_batch(client: &crate::common::ApiClient, events: Vec<Value>) {
    let (status, body) = client
        .post("/api/v1/events/batch", json!({ "events": events }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn fifo_keeps_exact_event_order_through_failures() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    // The default reply is 200; the script makes every 7th request fail.
    receiver.script(failing_every(7, 200));
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/fifo"),
            json!({
                "ordering": "fifo",
                "max_in_flight": 10,
                "retry": {"initial_delay_ms": 10, "jitter": false},
            }),
        ),
    )
    .await;
    let events: Vec<Value> = (0..100)
        .map(|i| json!({"id": format!("evt_fifo_{i:03}"), "type": "step.done", "data": {"i": i}}))
        .collect();
    post_batch(&client, events).await;

    // 100 successes plus one failure in every 7 requests.
    let requests = receiver
        .wait_until(WAIT * 3, "100 deliveries", |r| r.len() - r.len() / 7 >= 100)
        .await;
    let expected: Vec<String> = (0..100).map(|i| format!("evt_fifo_{i:03}")).collect();
    assert_eq!(delivered_ids(&requests, 7)[..100], expected[..]);
    // A failed head is retried before anything after it.
    for (i, r) in requests.iter().enumerate() {
        if (i + 1) % 7 == 0 && i + 1 < requests.len() {
            assert_eq!(r.json()["id"], requests[i + 1].json()["id"], "request {i}");
        }
    }
}

#[tokio::test]
async fn per_key_ordering_keeps_each_key_in_order() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    receiver.script(failing_every(5, 100));
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/keyed"),
            json!({
                "ordering_key": "/data/run",
                "max_in_flight": 10,
                "retry": {"initial_delay_ms": 10, "jitter": false},
            }),
        ),
    )
    .await;
    assert_eq!(webhook["ordering_key"], "/data/run");
    let events: Vec<Value> = (0..60)
        .map(|i| {
            json!({"id": format!("evt_key_{i:02}"), "type": "step.done",
                   "data": {"run": format!("run-{}", i % 3), "i": i}})
        })
        .collect();
    post_batch(&client, events).await;

    let requests = receiver
        .wait_until(WAIT * 3, "60 deliveries", |r| {
            let mut ok = std::collections::HashSet::new();
            for (i, req) in r.iter().enumerate() {
                if (i + 1) % 5 != 0 {
                    ok.insert(req.json()["id"].as_str().unwrap().to_string());
                }
            }
            ok.len() >= 60
        })
        .await;
    for run in 0..3 {
        let seen: Vec<i64> = requests
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + 1) % 5 != 0)
            .map(|(_, r)| r.json())
            .filter(|b| b["data"]["run"] == format!("run-{run}"))
            .map(|b| b["data"]["i"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = (0..60).filter(|i| i % 3 == run).collect();
        assert_eq!(seen, expected, "run-{run} out of order");
    }
}

#[tokio::test]
async fn an_ordering_key_must_be_a_json_pointer() {
    let server = TestServer::start().await;
    let client = server.client();
    let (status, answer) = client
        .post(
            "/api/v1/webhooks",
            webhook_body("https://example.com/h", json!({"ordering_key": "data.run"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["field"], "ordering_key");
    let (status, answer) = client
        .post(
            "/api/v1/webhooks",
            webhook_body("https://example.com/h", json!({"ordering": "random"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["field"], "ordering");
}
