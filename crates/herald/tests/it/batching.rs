//! Batching: several deliveries in one request, as a JSON array for plain
//! webhooks and as a digest message for chat providers.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{
    Receiver, Reply, TestServer, WAIT, create_webhook, delivery_ids_for_event, wait_until,
    webhook_body,
};
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
        (
            webhook_body(
                "https://example.com/h",
                json!({"batch": {"schedule": "every monday"}}),
            ),
            "batch.schedule",
        ),
        (
            webhook_body(
                "https://example.com/h",
                json!({"batch": {"schedule": "0 9 * * MON", "timezone": "Mars/Olympus"}}),
            ),
            "batch.timezone",
        ),
        (
            webhook_body(
                "https://example.com/h",
                json!({"batch": {"timezone": "UTC"}}),
            ),
            "batch.timezone",
        ),
        (
            webhook_body(
                "https://example.com/h",
                json!({"batch": {"schedule": "0 0 31 2 *"}}),
            ),
            "batch.schedule",
        ),
    ] {
        let (status, answer) = client.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
}

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Waits until just after a tick of "every `period_s` seconds", so that a
/// test's events all land before the next one; returns when that next
/// tick is, as an instant.
async fn just_after_a_tick(period_s: i64) -> Instant {
    let period = period_s * 1000;
    loop {
        let into = now_ms().rem_euclid(period);
        if (100..600).contains(&into) {
            return Instant::now() + Duration::from_millis((period - into) as u64);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_scheduled_digest_collects_events_and_sends_one_message_at_its_tick() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start_with_default(Reply::ok().body("ok")).await;
    let hook = create_webhook(
        &client,
        json!({
            "name": "weekly, quickly", "provider": "slack",
            "url": receiver.url("/services/T/B/X"),
            "batch": {"max_events": 3, "schedule": "*/4 * * * * *", "timezone": "Europe/Berlin"},
        }),
    )
    .await;
    assert_eq!(hook["batch"]["schedule"], "*/4 * * * * *", "{hook}");
    let tick = just_after_a_tick(4).await;
    let (status, body) = client
        .post("/api/v1/events/batch", events("evt_dg", 5))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // Waiting for the tick, visibly.
    let waiting = delivery_ids_for_event(&client, "evt_dg_00").await;
    let (_, delivery) = client
        .get(&format!("/api/v1/deliveries/{}", waiting[0]))
        .await;
    assert_eq!(delivery["status"], "scheduled", "{delivery}");

    let requests = receiver.wait_for(1, WAIT).await;
    assert!(
        requests[0].at + Duration::from_millis(50) >= tick,
        "the digest went out {:?} before its tick",
        tick - requests[0].at
    );
    let text = requests[0].json().to_string();
    assert!(text.contains("5 events"), "{text}");
    assert!(text.contains("job 0") && text.contains("job 2"), "{text}");
    assert!(!text.contains("job 3") && !text.contains("job 4"), "{text}");
    assert!(text.contains("and 2 more events, not listed"), "{text}");
    receiver
        .assert_quiet(Duration::from_millis(1500), 1, "one digest for the tick")
        .await;
    wait_until(WAIT, "all 5 delivered by the one digest", || async {
        let (_, stats) = client.get("/api/v1/stats").await;
        stats["deliveries"]["delivered"] == 5
    })
    .await;
}

#[tokio::test]
async fn a_scheduled_batch_to_a_plain_webhook_sends_every_event_at_the_tick() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/at-the-tick"),
            json!({"batch": {"max_events": 3, "schedule": "*/4 * * * * *"}}),
        ),
    )
    .await;
    let tick = just_after_a_tick(4).await;
    let (status, body) = client
        .post("/api/v1/events/batch", events("evt_st", 4))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let requests = receiver.wait_for(2, WAIT).await;
    for r in &requests {
        assert!(
            r.at + Duration::from_millis(50) >= tick,
            "sent before its tick"
        );
    }
    let mut ids: Vec<String> = requests
        .iter()
        .flat_map(|r| r.json().as_array().unwrap().clone())
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    // The two requests may overlap; what matters is that nothing is left
    // out of a JSON batch.
    ids.sort();
    assert_eq!(ids, ["evt_st_00", "evt_st_01", "evt_st_02", "evt_st_03"]);
}
