//! Delivery analytics and webhook health against the real server: after a
//! scripted mix of answers the analytics equal what the receivers saw, and
//! their percentiles agree with the receiver's own delays within one
//! histogram bucket; a webhook's health moves healthy → degraded → failing
//! → disabled → healthy as its destination changes, and the degradation
//! alerts reach an ops webhook once each.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    ApiClient, Receiver, Reply, TestServer, closed_port, create_webhook, post_event, wait_until,
    webhook_body,
};

/// The histogram bucket of a duration, as the rollups keep them.
fn bucket_of(ms: f64) -> usize {
    herald_store::rollups::bucket_of(ms.round() as u64)
}

/// The nearest-rank quantile of durations.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

async fn get_ok(client: &ApiClient, path: &str) -> Value {
    let (status, body) = client.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn wait_for_attempts(client: &ApiClient, webhook_id: &str, attempts: u64) -> Value {
    let path = format!("/api/v1/webhooks/{webhook_id}/analytics?period_days=7");
    wait_until(
        Duration::from_secs(20),
        "the attempts to be recorded",
        || {
            let client = client.clone();
            let path = path.clone();
            async move { get_ok(&client, &path).await["total_attempts"] == json!(attempts) }
        },
    )
    .await;
    get_ok(client, &path).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_equal_what_the_receivers_saw() {
    let server = TestServer::start().await;
    let client = server.client();

    // Twenty answers, each after its own delay: 10, 20, … 200 ms.
    let timed = Receiver::start().await;
    let delays: Vec<f64> = (1..=20).map(|i| f64::from(i) * 10.0).collect();
    timed.script(
        delays
            .iter()
            .map(|&d| Reply::ok().delay(Duration::from_millis(d as u64))),
    );
    let flaky = Receiver::start().await;
    flaky.script([Reply::status(500), Reply::status(500), Reply::ok()]);
    let timed_hook = create_webhook(
        &client,
        webhook_body(
            &timed.url("/timed"),
            json!({"event_types": ["timed.*"], "tags": ["ml", "prod"], "max_in_flight": 1}),
        ),
    )
    .await;
    let flaky_hook = create_webhook(
        &client,
        webhook_body(
            &flaky.url("/flaky"),
            json!({"event_types": ["flaky.*"], "tags": ["prod"],
                   "retry": {"max_retries": 2, "initial_delay_ms": 20, "jitter": false}}),
        ),
    )
    .await;
    let dead_hook = create_webhook(
        &client,
        webhook_body(
            &format!("http://127.0.0.1:{}/dead", closed_port()),
            json!({"event_types": ["dead.*"], "retry": {"max_retries": 0}}),
        ),
    )
    .await;
    for i in 0..20 {
        post_event(&client, json!({"type": "timed.event", "data": {"i": i}})).await;
    }
    post_event(&client, json!({"type": "flaky.event", "data": {}})).await;
    post_event(&client, json!({"type": "dead.event", "data": {}})).await;

    let id = |hook: &Value| hook["id"].as_str().unwrap().to_string();
    let report = wait_for_attempts(&client, &id(&timed_hook), 20).await;
    assert_eq!(timed.requests().len(), 20);
    assert_eq!(report["total_events"], 20);
    assert_eq!(report["successful_deliveries"], 20);
    assert_eq!(report["failed_deliveries"], 0);
    assert_eq!(report["success_rate"], 1.0);
    assert_eq!(report["retry_count"], 0);
    for (field, q) in [
        ("p50_response_time_ms", 0.5),
        ("p95_response_time_ms", 0.95),
        ("p99_response_time_ms", 0.99),
    ] {
        let herald = report[field].as_f64().unwrap();
        let receiver = quantile(&delays, q);
        assert!(
            bucket_of(herald).abs_diff(bucket_of(receiver)) <= 1,
            "{field}: Herald {herald} ms, the receiver's delays {receiver} ms"
        );
    }
    let min = report["min_response_time_ms"].as_f64().unwrap();
    assert!((10.0..60.0).contains(&min), "{report}");
    // Seven UTC days, today last; the days without attempts have no rates.
    let daily = report["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(daily[6]["date"], json!(today));
    assert_eq!(daily[6]["total_attempts"], 20);
    assert_eq!(daily[0]["total_attempts"], 0);
    assert!(daily[0]["success_rate"].is_null());
    assert!(daily[0]["p95_response_time_ms"].is_null());

    let report = wait_for_attempts(&client, &id(&flaky_hook), 3).await;
    assert_eq!(flaky.requests().len(), 3);
    assert_eq!(report["total_events"], 1);
    assert_eq!(report["http_5xx_errors"], 2);
    assert_eq!(report["retry_count"], 2);
    assert_eq!(report["successful_deliveries"], 1);
    assert_eq!(report["success_rate"], 0.3333);

    let report = wait_for_attempts(&client, &id(&dead_hook), 1).await;
    assert_eq!(report["network_errors"], 1);
    assert_eq!(report["failed_deliveries"], 1);
    assert_eq!(report["success_rate"], 0.0);

    // The range API, grouped: every attempt, by webhook and outcome.
    let grouped = get_ok(
        &client,
        "/api/v1/analytics?granularity=1h&group_by=webhook_id,outcome",
    )
    .await;
    let mut seen: Vec<(String, String, u64)> = grouped["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["dimensions"]["webhook_id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                row["dimensions"]["outcome"].as_str().unwrap().to_string(),
                row["metrics"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (id(&timed_hook), "success".to_string(), 20),
        (id(&flaky_hook), "http_5xx".to_string(), 2),
        (id(&flaky_hook), "success".to_string(), 1),
        (id(&dead_hook), "connect".to_string(), 1),
    ];
    expected.sort();
    assert_eq!(seen, expected, "{grouped}");
    // Without groups, every bucket is there, empty ones with null rates.
    let buckets = get_ok(&client, "/api/v1/analytics?granularity=5m").await;
    let data = buckets["data"].as_array().unwrap();
    assert_eq!(
        data.len(),
        24 * 12 + 1,
        "a day of 5 minutes, widened to whole buckets"
    );
    let total: u64 = data
        .iter()
        .map(|b| b["metrics"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 24);
    assert!(data[0]["metrics"]["error_rate"].is_null());
    // Filtered by status code.
    let errors = get_ok(
        &client,
        "/api/v1/analytics?granularity=1d&group_by=provider&status_code=500",
    )
    .await;
    assert_eq!(errors["data"][0]["metrics"]["count"], 2, "{errors}");
    assert_eq!(errors["data"][0]["dimensions"]["provider"], "webhook");

    let summary = get_ok(&client, "/api/v1/stats/summary").await;
    assert_eq!(summary["last_24h"]["attempts"], 24, "{summary}");
    assert_eq!(summary["webhooks"]["total"], 3);
    let per: Vec<&Value> = summary["per_webhook"].as_array().unwrap().iter().collect();
    assert!(
        per.iter().all(|w| w["last_triggered_at"].is_string()),
        "{summary}"
    );

    let tags = get_ok(&client, "/api/v1/tags").await;
    assert_eq!(
        tags["data"],
        json!([{"tag": "ml", "webhooks": 1}, {"tag": "prod", "webhooks": 2}])
    );

    // Bad questions name their field.
    for (path, field) in [
        ("/api/v1/analytics?granularity=2m", "granularity"),
        ("/api/v1/analytics?group_by=colour", "group_by"),
        ("/api/v1/analytics?start=yesterday", "start"),
        ("/api/v1/analytics?status_code=abc", "status_code"),
        ("/api/v1/analytics?outcome=success,a%00b", "outcome"),
        ("/api/v1/analytics?event_type=%00", "event_type"),
        (
            "/api/v1/analytics?start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z",
            "start",
        ),
        (
            "/api/v1/analytics?granularity=1m&start=2000-01-01T00:00:00Z",
            "granularity",
        ),
        (
            "/api/v1/webhooks/wh_x/analytics?period_days=0",
            "period_days",
        ),
        ("/api/v1/webhooks?health=sick", "health"),
    ] {
        let (status, body) = client.get(path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    let (status, _) = client.get("/api/v1/webhooks/wh_missing/analytics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn health_of(client: &ApiClient, id: &str) -> Value {
    get_ok(client, &format!("/api/v1/webhooks/{id}")).await["health"].clone()
}

async fn wait_for_state(client: &ApiClient, id: &str, state: &str) -> Value {
    wait_until(Duration::from_secs(20), &format!("health {state}"), || {
        let client = client.clone();
        async move { health_of(&client, id).await["state"] == state }
    })
    .await;
    health_of(client, id).await
}

async fn send(client: &ApiClient, n: usize) {
    for i in 0..n {
        post_event(client, json!({"type": "job.done", "data": {"i": i}})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_the_destination_and_alerts_fire_once() {
    let server = TestServer::start().await;
    let client = server.client();
    let ops = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &ops.url("/ops"),
            json!({"event_types": ["herald.webhook.degraded", "herald.webhook.recovered"]}),
        ),
    )
    .await;
    let destination = Receiver::start().await;
    let hook = create_webhook(
        &client,
        webhook_body(
            &destination.url("/jobs"),
            json!({
                "event_types": ["job.*"],
                "ordering": "fifo",
                "retry": {"max_retries": 0},
                "auto_disable_after": 8,
                "alerts": {"success_rate_below": 0.9, "min_attempts": 4, "window_minutes": 15},
            }),
        ),
    )
    .await;
    let id = hook["id"].as_str().unwrap().to_string();
    assert_eq!(health_of(&client, &id).await["state"], "unknown");

    // Each step waits until every attempt so far is recorded, so a new
    // script answers only the new events.
    send(&client, 4).await;
    wait_for_attempts(&client, &id, 4).await;
    let health = wait_for_state(&client, &id, "healthy").await;
    assert_eq!(health["success_rate_1h"], 1.0, "{health}");
    assert_eq!(health["consecutive_failures"], 0);
    assert!(health["last_success_at"].is_string());
    assert!(health["p95_ms_1h"].is_number());

    // One failure: 4 of 5 is below 90%.
    destination.script([Reply::status(500)]);
    send(&client, 1).await;
    wait_for_attempts(&client, &id, 5).await;
    let health = wait_for_state(&client, &id, "degraded").await;
    assert_eq!(health["consecutive_failures"], 1, "{health}");
    assert!(
        health["last_error"]
            .as_str()
            .unwrap()
            .starts_with("http_5xx: HTTP 500"),
        "{health}"
    );
    let listed = get_ok(&client, "/api/v1/webhooks?health=degraded").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["data"][0]["id"], json!(id));
    assert_eq!(listed["data"][0]["health"]["state"], "degraded");
    // The alert comes while it is degraded (a webhook is looked at up to
    // once a second).
    ops.wait_for(1, Duration::from_secs(10)).await;

    // Five failures in a row.
    destination.script((0..4).map(|_| Reply::status(500)));
    send(&client, 4).await;
    wait_for_attempts(&client, &id, 9).await;
    wait_for_state(&client, &id, "failing").await;

    // Eight failed deliveries in a row: the circuit breaker disables it.
    destination.script((0..3).map(|_| Reply::status(500)));
    send(&client, 3).await;
    wait_for_state(&client, &id, "disabled").await;

    // Enabled again, with a working destination.
    let (status, body) = client
        .post(&format!("/api/v1/webhooks/{id}/enable"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    send(&client, 2).await;
    let health = wait_for_state(&client, &id, "healthy").await;
    assert_eq!(health["consecutive_failures"], 0, "{health}");

    // One alert each way, however many looks there were.
    ops.wait_for(2, Duration::from_secs(10)).await;
    ops.assert_quiet(Duration::from_millis(2_500), 2, "one alert per transition")
        .await;
    let types: Vec<String> = ops
        .requests()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        ["herald.webhook.degraded", "herald.webhook.recovered"]
    );
    let degraded = ops.requests()[0].json();
    assert_eq!(degraded["data"]["webhook_id"], json!(id));
    assert_eq!(degraded["data"]["severity"], "warning");
    assert_eq!(
        degraded["data"]["dedup_key"],
        ops.requests()[1].json()["data"]["dedup_key"]
    );
}

/// A page of more than 200 webhooks reads health tenant-wide rather than
/// by name: each webhook still gets its own figures, the same as on a
/// short page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_page_of_webhooks_gets_each_its_own_health() {
    let server = TestServer::start().await;
    let client = server.client();
    let destination = Receiver::start().await;
    let busy = create_webhook(
        &client,
        webhook_body(&destination.url("/busy"), json!({"event_types": ["job.*"]})),
    )
    .await;
    let busy_id = busy["id"].as_str().unwrap().to_string();
    for i in 0..210 {
        create_webhook(
            &client,
            webhook_body(
                &destination.url(&format!("/idle/{i}")),
                json!({"event_types": ["other.*"], "status": "paused"}),
            ),
        )
        .await;
    }
    send(&client, 3).await;
    wait_for_attempts(&client, &busy_id, 3).await;

    let long = get_ok(&client, "/api/v1/webhooks?limit=250").await;
    let rows = long["data"].as_array().unwrap();
    assert_eq!(rows.len(), 211);
    for row in rows {
        let state = &row["health"]["state"];
        if row["id"] == busy_id.as_str() {
            assert_eq!(state, "healthy", "{row}");
            assert_eq!(row["health"]["success_rate_1h"], 1.0, "{row}");
        } else {
            assert_eq!(state, "paused", "{row}");
            assert!(row["health"]["success_rate_1h"].is_null(), "{row}");
        }
    }
    let short = get_ok(&client, "/api/v1/webhooks?limit=1").await;
    assert_eq!(short["data"][0]["id"], busy_id.as_str(), "oldest first");
    assert_eq!(short["data"][0]["health"], rows[0]["health"]);
}
