//! Flow control against real loopback receivers: per-webhook rate limits,
//! back-pressure from a destination's 429, and one hanging destination not
//! slowing the others.

use std::time::{Duration, Instant};

use crate::common::{
    Receiver, Reply, TestServer, WAIT, create_webhook, post_event, wait_for_delivery_status,
    webhook_body,
};
use reqwest::StatusCode;
use serde_json::json;

fn event(id: &str, event_type: &str) -> serde_json::Value {
    json!({"id": id, "type": event_type, "data": {"n": id}})
}

#[tokio::test]
async fn a_rate_limit_holds_in_every_one_second_window_and_loses_nothing() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/limited"),
            json!({"rate_limit": {"per_second": 5}, "max_in_flight": 50}),
        ),
    )
    .await;
    let events: Vec<_> = (0..50)
        .map(|i| event(&format!("evt_rate_{i}"), "rate.test"))
        .collect();
    let (status, body) = client
        .post("/api/v1/events/batch", json!({ "events": events }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let requests = receiver.wait_for(50, Duration::from_secs(20)).await;
    assert_eq!(requests.len(), 50);

    // When Herald sent each request (its attempts' start, what the pacer
    // decides): never a sixth within a second.
    let (_, page) = client
        .get(&format!(
            "/api/v1/webhooks/{}/deliveries?limit=100",
            webhook["id"].as_str().expect("id")
        ))
        .await;
    let mut sent_ms = Vec::new();
    for delivery in page["data"].as_array().expect("deliveries") {
        let id = delivery["id"].as_str().expect("delivery id");
        let delivered = wait_for_delivery_status(&client, id, "delivered", WAIT).await;
        let started = delivered["attempts"][0]["started_at"]
            .as_str()
            .expect("started_at");
        let at = chrono::DateTime::parse_from_rfc3339(started).expect("an RFC 3339 time");
        sent_ms.push(at.timestamp_millis());
    }
    sent_ms.sort_unstable();
    assert_eq!(sent_ms.len(), 50, "every event was delivered");
    let at_most_five_within = |times: &[i64], window_ms: i64, what: &str| {
        for (i, start) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|at| *at - start < window_ms)
                .count();
            assert!(
                in_window <= 5,
                "{in_window} requests {what} within {window_ms} ms from request {i}: {times:?}"
            );
        }
    };
    at_most_five_within(&sent_ms, 1_000, "sent");
    // As the receiver saw them: the same, but for the scheduling jitter of
    // a loaded test machine between sending and arriving (the pacer keeps
    // a 2% margin, 20 ms a second; a busy CI machine can delay one
    // request by more than that).
    let first = requests[0].at;
    let arrived_ms: Vec<i64> = requests
        .iter()
        .map(|r| r.at.duration_since(first).as_millis() as i64)
        .collect();
    at_most_five_within(&arrived_ms, 900, "arrived");
    let span = requests[49].at - requests[0].at;
    assert!(
        span >= Duration::from_millis(9_500),
        "50 requests at 5/s take about 10 s, took {span:?}"
    );
}

#[tokio::test]
async fn rate_limits_are_checked_at_create_time() {
    let server = TestServer::start().await;
    let client = server.client();
    for (limit, field) in [
        (json!({}), "rate_limit"),
        (json!({"per_second": 0}), "rate_limit.per_second"),
        (json!({"per_minute": 2_000_000}), "rate_limit.per_minute"),
        (json!({"per_day": 5}), "rate_limit.per_day"),
    ] {
        let (status, answer) = client
            .post(
                "/api/v1/webhooks",
                webhook_body("https://example.com/h", json!({ "rate_limit": limit })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
}

#[tokio::test]
async fn a_429_with_retry_after_pauses_only_that_webhook() {
    let server = TestServer::start().await;
    let client = server.client();
    let throttled = Receiver::start().await;
    let healthy = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &throttled.url("/throttled"),
            json!({"event_types": ["a.*"], "retry": {"initial_delay_ms": 50}}),
        ),
    )
    .await;
    create_webhook(
        &client,
        webhook_body(&healthy.url("/healthy"), json!({"event_types": ["b.*"]})),
    )
    .await;

    throttled.script([Reply::status(429).header("Retry-After", "2")]);
    post_event(&client, event("evt_bp_first", "a.event")).await;
    let first = throttled.wait_for(1, WAIT).await[0].at;

    // While the throttled webhook waits, its new events wait too, and the
    // other webhook is served at once.
    for i in 0..5 {
        let sent = Instant::now();
        post_event(&client, event(&format!("evt_bp_a{i}"), "a.event")).await;
        post_event(&client, event(&format!("evt_bp_b{i}"), "b.event")).await;
        let got = healthy.wait_for(i + 1, WAIT).await;
        assert!(
            got[i].at.duration_since(sent) < Duration::from_millis(500),
            "the healthy webhook waited {:?}",
            got[i].at.duration_since(sent)
        );
    }
    let all = throttled.wait_for(7, WAIT).await;
    let resumed = all[1].at.duration_since(first);
    assert!(
        resumed >= Duration::from_millis(1_900),
        "the throttled webhook was called again after {resumed:?}, before its Retry-After of 2 s"
    );
    assert!(
        resumed < Duration::from_millis(3_500),
        "the throttled webhook resumed only after {resumed:?}"
    );
}

#[tokio::test]
async fn a_hanging_destination_does_not_slow_the_others() {
    let server = TestServer::start().await;
    let client = server.client();
    let hanging = Receiver::start_with_default(Reply::ok().delay(Duration::from_secs(5))).await;
    let healthy = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &hanging.url("/hangs"),
            json!({"timeout_ms": 1_000, "retry": {"initial_delay_ms": 10}}),
        ),
    )
    .await;
    create_webhook(&client, webhook_body(&healthy.url("/fine"), json!({}))).await;

    let mut latencies = Vec::new();
    for i in 0..200 {
        let sent = Instant::now();
        post_event(&client, event(&format!("evt_hang_{i}"), "load.event")).await;
        let got = healthy.wait_for(i + 1, WAIT).await;
        latencies.push(got[i].at.duration_since(sent));
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    assert!(
        p99 < Duration::from_millis(100),
        "the healthy webhook's p99 was {p99:?} next to a hanging one"
    );
    assert!(
        !hanging.requests().is_empty(),
        "the hanging destination was being called meanwhile"
    );
}
