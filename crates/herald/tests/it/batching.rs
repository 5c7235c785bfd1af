//! Batching: several deliveries in one request, as a JSON array for plain
//! webhooks and as a digest message for chat providers.

use crate::common::{Receiver, Reply, TestServer, WAIT, create_webhook, wait_until, webhook_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn events(prefix: &str, n: usize) -> Value {
    let events: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("{prefix}_{i:02}"), "type": "job.done",
                        "data": {"name": format!("job {i}")}})
        })
        .collect();
    json!({ "events": events })
}

#[tokio::test]
async fn twenty_five_events_arrive_as_ten_ten_and_five() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/batched"),
            json!({"batch": {"max_events": 10, "max_wait_ms": 300}}),
        ),
    )
    .await;
    let (status, body) = client
        .post("/api/v1/events/batch", events("evt_b", 25))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let requests = receiver.wait_for(3, WAIT).await;
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| r.json().as_array().expect("a JSON array").len())
        .collect();
    assert_eq!(sizes, [10, 10, 5]);
    let ids: Vec<String> = requests
        .iter()
        .flat_map(|r| r.json().as_array().unwrap().clone())
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..25).map(|i| format!("evt_b_{i:02}")).collect();
    assert_eq!(ids, expected, "every event once, in order");
    assert!(
        requests[0]
            .header("webhook-id")
            .is_some_and(|id| id.starts_with("msg_")),
        "a batch has its own webhook-id"
    );
    assert!(requests[0].header("webhook-signature").is_some());
    wait_until(WAIT, "25 delivered", || async {
        let (_, stats) = client.get("/api/v1/stats").await;
        stats["deliveries"]["delivered"] == 25
    })
    .await;
}

#[tokio::test]
async fn a_chat_digest_is_one_message_within_limits() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start_with_default(Reply::ok().body("ok")).await;
    create_webhook(
        &client,
        json!({
            "name": "digest",
            "provider": "slack",
            "url": receiver.url("/services/T/B/X"),
            "batch": {"max_events": 40, "max_wait_ms": 300},
        }),
    )
    .await;
    let (status, body) = client
        .post("/api/v1/events/batch", events("evt_d", 40))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let requests = receiver.wait_for(1, WAIT).await;
    let message = requests[0].json();
    assert!(
        message["text"].as_str().unwrap().contains("40 events"),
        "{message}"
    );
    let text = message.to_string();
    assert!(
        text.contains("job 0") && text.contains("job 39"),
        "{message}"
    );
    let blocks = message["blocks"].as_array().map_or(0, Vec::len)
        + message["attachments"][0]["blocks"]
            .as_array()
            .map_or(0, Vec::len);
    assert!(blocks <= 50, "{blocks} blocks");
    receiver
        .assert_quiet(std::time::Duration::from_millis(400), 1, "one digest")
        .await;
    wait_until(WAIT, "40 delivered", || async {
        let (_, stats) = client.get("/api/v1/stats").await;
        stats["deliveries"]["delivered"] == 40
    })
    .await;
}

#[tokio::test]
async fn batch_settings_are_checked() {
    let server = TestServer::start().await;
    let client = server.client();
    for (body, field) in [
        (
            webhook_body("https://example.com/h", json!({"batch": {"max_events": 1}})),
            "batch.max_events",
        ),
        (
            webhook_body(
                "https://example.com/h",
                json!({"batch": {"max_events": 5}, "ordering": "fifo"}),
            ),
            "batch",
        ),
        (
            json!({"name": "pd", "provider": "pagerduty", "settings": {"routing_key": "k"},
                   "batch": {"max_events": 5}}),
            "batch",
        ),
    ] {
        let (status, answer) = client.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
}
