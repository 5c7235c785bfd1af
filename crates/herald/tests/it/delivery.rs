//! End-to-end delivery against real loopback receivers: auth, matching,
//! retries and their timing, failure classification, idempotency, pausing,
//! test sends, manual retry, batches and the delivery log.

use std::time::Duration;

use crate::common::{
    ApiClient, Receiver, Reply, TestServer, WAIT, create_webhook, delivery_ids_for_event,
    json_header, only_delivery_for_event, post_event, wait_for_delivery_status, webhook_body,
};
use axum::http::Method;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Short window used to check that nothing (more) arrives.
const QUIET: Duration = Duration::from_millis(600);

/// One field of every attempt of a delivery, oldest first.
fn attempt_field(delivery: &Value, field: &str) -> Vec<Value> {
    delivery["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("delivery has no attempts array: {delivery}"))
        .iter()
        .map(|a| a[field].clone())
        .collect()
}

#[tokio::test]
async fn each_auth_type_and_custom_headers_arrive() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();

    let hooks = [
        (
            "/bearer",
            json!({ "type": "bearer", "token": "t" }),
            json!({ "X-Team": "ml-platform", "X-Trace": "abc" }),
        ),
        (
            "/api-key",
            json!({ "type": "api_key", "key": "k-123" }),
            json!({}),
        ),
        (
            "/api-key-custom",
            json!({ "type": "api_key", "key": "k-456", "header": "X-Custom-Key" }),
            json!({}),
        ),
        (
            "/basic",
            json!({ "type": "basic", "username": "alice", "password": "s3cret:pw" }),
            json!({}),
        ),
    ];
    for (path, auth, headers) in hooks {
        create_webhook(
            &client,
            webhook_body(
                &receiver.url(path),
                json!({ "event_types": ["auth.check"], "auth": auth, "headers": headers }),
            ),
        )
        .await;
    }

    let answer = post_event(&client, json!({ "type": "auth.check" })).await;
    assert_eq!(answer["deliveries"], 4, "{answer}");
    let requests = receiver.wait_for(4, WAIT).await;
    let at = |path: &str| {
        requests
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("no request to {path}"))
            .clone()
    };

    let bearer = at("/bearer");
    assert_eq!(bearer.header("authorization"), Some("Bearer t"));
    assert_eq!(bearer.header("x-team"), Some("ml-platform"));
    assert_eq!(bearer.header("x-trace"), Some("abc"));

    let api_key = at("/api-key");
    assert_eq!(api_key.header("x-api-key"), Some("k-123"));
    assert_eq!(api_key.header("authorization"), None);

    let custom = at("/api-key-custom");
    assert_eq!(custom.header("x-custom-key"), Some("k-456"));
    assert_eq!(
        custom.header("x-api-key"),
        None,
        "a custom header replaces the default"
    );

    let basic = at("/basic");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret:pw")
    );
    assert_eq!(basic.header("authorization"), Some(expected.as_str()));
    // Custom headers belong to the webhook that set them only.
    assert_eq!(basic.header("x-team"), None);
}

#[tokio::test]
async fn subscriptions_match_exact_star_and_prefix() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();

    for (path, types) in [
        ("/exact", json!(["training.complete"])),
        ("/star", json!(["*"])),
        ("/prefix", json!(["hpo.*"])),
    ] {
        create_webhook(
            &client,
            webhook_body(&receiver.url(path), json!({ "event_types": types })),
        )
        .await;
    }

    // (event type, webhooks expected to match)
    let events = [
        ("training.complete", 2),
        ("hpo.trial.done", 2),
        ("hpox.a", 1),
        ("hpo", 1),
        ("training.completed", 1),
    ];
    let mut total = 0;
    for (event_type, matched) in events {
        let answer = post_event(&client, json!({ "type": event_type })).await;
        assert_eq!(
            answer["deliveries"], matched,
            "{event_type} should match {matched} webhook(s): {answer}"
        );
        total += matched;
    }

    receiver.wait_for(total, WAIT).await;
    receiver
        .assert_quiet(QUIET, total, "one request per matched webhook")
        .await;
    let requests = receiver.requests();
    let types_at = |path: &str| {
        let mut types: Vec<String> = requests
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.json()["type"].as_str().expect("type").to_string())
            .collect();
        types.sort();
        types
    };
    assert_eq!(types_at("/exact"), ["training.complete"]);
    assert_eq!(types_at("/prefix"), ["hpo.trial.done"]);
    assert_eq!(
        types_at("/star"),
        [
            "hpo",
            "hpo.trial.done",
            "hpox.a",
            "training.complete",
            "training.completed"
        ]
    );
}

#[tokio::test]
async fn two_failures_then_success_takes_three_attempts_with_growing_gaps() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.script([
        Reply::status(500).body("boom"),
        Reply::status(500).body("boom again"),
    ]);
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/flaky"),
            json!({ "retry": {
                "strategy": "exponential", "initial_delay_ms": 200,
                "multiplier": 2.0, "jitter": false
            } }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "job.done", "id": "flaky-1" })).await;
    let delivery_id = only_delivery_for_event(&client, "flaky-1").await;
    let requests = receiver.wait_for(3, WAIT).await;
    let gap1 = requests[1].at - requests[0].at;
    let gap2 = requests[2].at - requests[1].at;
    // Exponential without jitter: ~200 ms, then ~400 ms.
    assert!(
        gap1 >= Duration::from_millis(180),
        "first retry came after {gap1:?}, expected ~200ms"
    );
    assert!(gap2 > gap1, "gaps should grow: {gap1:?} then {gap2:?}");
    assert!(
        gap2 >= Duration::from_millis(360),
        "second retry came after {gap2:?}, expected ~400ms"
    );

    // Retries of one message keep its Standard Webhooks id.
    let ids: Vec<_> = requests.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids[0].is_some(), "webhook-id header missing");
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "webhook-id changed: {ids:?}"
    );

    let delivery = wait_for_delivery_status(&client, &delivery_id, "delivered", WAIT).await;
    assert_eq!(delivery["attempt_count"], 3, "{delivery:#}");
    assert_eq!(delivery["last_status_code"], 200);
    assert!(delivery["delivered_at"].is_string(), "{delivery:#}");
    assert_eq!(
        attempt_field(&delivery, "number"),
        [json!(1), json!(2), json!(3)]
    );
    assert_eq!(
        attempt_field(&delivery, "status_code"),
        [json!(500), json!(500), json!(200)]
    );
    assert_eq!(
        attempt_field(&delivery, "outcome"),
        [json!("retry"), json!("retry"), json!("success")]
    );
    assert_eq!(
        attempt_field(&delivery, "error_category"),
        [json!("http_5xx"), json!("http_5xx"), Value::Null]
    );
    assert_eq!(
        attempt_field(&delivery, "response_body"),
        [json!("boom"), json!("boom again"), json!("ok")]
    );
    receiver
        .assert_quiet(QUIET, 3, "a delivered message is not sent again")
        .await;
}

#[tokio::test]
async fn http_400_fails_at_once() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(400).body("bad payload")]);
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/strict"),
            json!({ "retry": { "max_retries": 5, "initial_delay_ms": 100, "jitter": false } }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "job.done", "id": "rejected-1" })).await;
    let delivery_id = only_delivery_for_event(&client, "rejected-1").await;
    let delivery = wait_for_delivery_status(&client, &delivery_id, "failed", WAIT).await;
    assert_eq!(delivery["attempt_count"], 1, "{delivery:#}");
    assert_eq!(delivery["last_status_code"], 400);
    assert_eq!(attempt_field(&delivery, "status_code"), [json!(400)]);
    assert_eq!(
        attempt_field(&delivery, "error_category"),
        [json!("http_4xx")]
    );
    assert_eq!(attempt_field(&delivery, "outcome"), [json!("failed")]);
    assert_eq!(
        attempt_field(&delivery, "response_body"),
        [json!("bad payload")]
    );
    // With a 100 ms retry delay, a retry would have shown up by now.
    receiver
        .assert_quiet(QUIET, 1, "a 4xx is not retried")
        .await;
}

#[tokio::test]
async fn slow_receiver_is_recorded_as_timeout() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::ok().delay(Duration::from_secs(4))]);
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/slow"),
            json!({ "timeout_ms": 1000, "retry": { "max_retries": 0 } }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "job.done", "id": "slow-1" })).await;
    let delivery_id = only_delivery_for_event(&client, "slow-1").await;
    let delivery = wait_for_delivery_status(&client, &delivery_id, "failed", WAIT).await;
    assert_eq!(
        attempt_field(&delivery, "error_category"),
        [json!("timeout")]
    );
    assert_eq!(attempt_field(&delivery, "status_code"), [Value::Null]);
    let duration = delivery["attempts"][0]["duration_ms"]
        .as_u64()
        .expect("duration_ms");
    // The attempt was cut at the 1 s timeout, not at the 4 s reply.
    assert!(
        (900..3000).contains(&duration),
        "attempt took {duration} ms with timeout_ms 1000"
    );
}

#[tokio::test]
async fn retry_after_on_429_is_honoured() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(429)
        .header("Retry-After", "2")
        .body("slow down")]);
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/limited"),
            json!({ "retry": { "initial_delay_ms": 100, "jitter": false } }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "job.done", "id": "limited-1" })).await;
    let delivery_id = only_delivery_for_event(&client, "limited-1").await;
    let requests = receiver.wait_for(2, WAIT).await;
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(1900),
        "retry came {gap:?} after a 429 with Retry-After: 2"
    );

    let delivery = wait_for_delivery_status(&client, &delivery_id, "delivered", WAIT).await;
    assert_eq!(
        attempt_field(&delivery, "status_code"),
        [json!(429), json!(200)]
    );
    assert_eq!(
        attempt_field(&delivery, "outcome"),
        [json!("retry"), json!("success")]
    );
}

#[tokio::test]
async fn duplicate_event_id_delivers_once() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    create_webhook(&client, webhook_body(&receiver.url("/once"), json!({}))).await;

    let event = json!({ "type": "job.done", "id": "dup-1", "data": { "n": 1 } });
    let first = client
        .send(Method::POST, "/api/v1/events", Some(&event), &[])
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(first.body, json!({ "id": "dup-1", "deliveries": 1 }));
    assert_ne!(first.header("idempotent-replayed"), Some("true"));

    let again = client
        .send(Method::POST, "/api/v1/events", Some(&event), &[])
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body, first.body, "replay returns the original answer");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    receiver.wait_for(1, WAIT).await;
    receiver
        .assert_quiet(QUIET, 1, "a duplicate event id is delivered once")
        .await;
    assert_eq!(delivery_ids_for_event(&client, "dup-1").await.len(), 1);
}

#[tokio::test]
async fn duplicate_idempotency_key_delivers_once() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    create_webhook(&client, webhook_body(&receiver.url("/once"), json!({}))).await;

    // No event id: the key alone must identify the retry of the same post.
    let event = json!({ "type": "job.done", "data": { "n": 1 } });
    let key = [("Idempotency-Key", "post-attempt-7f3a")];
    let first = client
        .send(Method::POST, "/api/v1/events", Some(&event), &key)
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(first.body["deliveries"], 1);
    let event_id = first.body["id"].as_str().expect("event id").to_string();

    let again = client
        .send(Method::POST, "/api/v1/events", Some(&event), &key)
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body, first.body, "replay returns the original answer");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    receiver.wait_for(1, WAIT).await;
    receiver
        .assert_quiet(QUIET, 1, "a duplicate Idempotency-Key is delivered once")
        .await;
    let (_, events) = client.get("/api/v1/events").await;
    let ids: Vec<&Value> = events["data"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&json!(event_id)], "only one event was stored");
}

/// What the docs promise about resuming: held deliveries arrive in event
/// order with `ordering: "fifo"`, even when the first answer is the
/// slowest (several in flight at once would let later ones overtake it).
#[tokio::test]
async fn paused_webhook_holds_then_delivers_in_order() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::ok().delay(Duration::from_millis(300))]);
    let client = server.client();
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/held"),
            json!({ "status": "paused", "ordering": "fifo", "max_in_flight": 10 }),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();

    for seq in 1..=5 {
        let answer = post_event(
            &client,
            json!({ "type": "job.done", "id": format!("held-{seq}"), "data": { "seq": seq } }),
        )
        .await;
        assert_eq!(answer["deliveries"], 1, "a paused webhook still matches");
    }
    receiver
        .assert_quiet(QUIET, 0, "a paused webhook holds deliveries")
        .await;

    let (status, list) = client
        .get(&format!("/api/v1/webhooks/{id}/deliveries"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let statuses: Vec<&Value> = list["data"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| &d["status"])
        .collect();
    assert_eq!(statuses, [&json!("pending"); 5], "{list:#}");

    let (status, patched) = client
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");

    let requests = receiver.wait_for(5, WAIT).await;
    let order: Vec<Value> = requests
        .iter()
        .map(|r| r.json()["data"]["seq"].clone())
        .collect();
    assert_eq!(order, [1, 2, 3, 4, 5].map(|n| json!(n)), "delivery order");
}

#[tokio::test]
async fn test_send_reports_and_is_logged() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    // Paused on purpose: a paused webhook can still be tested.
    let webhook = create_webhook(
        &client,
        webhook_body(&receiver.url("/probe"), json!({ "status": "paused" })),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let secret = webhook["secret"].as_str().unwrap();

    let (status, result) = client
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["status_code"], 200);
    assert_eq!(result["response_body"], "ok");
    assert_eq!(result["error"], Value::Null);
    assert!(result["duration_ms"].is_u64(), "{result}");
    let delivery_id = result["delivery_id"].as_str().expect("delivery_id");
    assert!(delivery_id.starts_with("dlv_"), "{result}");
    assert!(
        result["event_id"]
            .as_str()
            .is_some_and(|e| e.starts_with("evt_")),
        "{result}"
    );

    // The request went out synchronously, signed, as the default test type.
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "the test sends exactly one request");
    assert_eq!(requests[0].json()["type"], "herald.test");
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&requests[0].body, &requests[0].headers)
        .expect("test request is signed");

    let (status, delivery) = client
        .get(&format!("/api/v1/deliveries/{delivery_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{delivery}");
    assert_eq!(delivery["test"], true, "{delivery:#}");
    assert_eq!(attempt_field(&delivery, "test"), [json!(true)]);
    assert_eq!(attempt_field(&delivery, "status_code"), [json!(200)]);

    // A failing test reports the failure and is not retried.
    receiver.script([Reply::status(503).body("down")]);
    let (status, result) = client
        .post(
            &format!("/api/v1/webhooks/{id}/test"),
            json!({ "event_type": "custom.probe", "data": { "hello": "world" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"], false, "{result}");
    assert_eq!(result["status_code"], 503);
    assert_eq!(result["response_body"], "down");
    let second = &receiver.requests()[1];
    assert_eq!(second.json()["type"], "custom.probe");
    assert_eq!(second.json()["data"], json!({ "hello": "world" }));
    receiver
        .assert_quiet(QUIET, 2, "test sends are not retried")
        .await;
}

#[tokio::test]
async fn manual_retry_redelivers_a_failed_delivery() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(410).body("gone for now")]);
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/again"),
            json!({ "retry": { "initial_delay_ms": 100, "jitter": false } }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "job.done", "id": "again-1" })).await;
    let delivery_id = only_delivery_for_event(&client, "again-1").await;
    wait_for_delivery_status(&client, &delivery_id, "failed", WAIT).await;

    let (status, requeued) = client
        .post(
            &format!("/api/v1/deliveries/{delivery_id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{requeued}");
    assert_eq!(requeued["id"], delivery_id.as_str());
    assert_ne!(requeued["status"], "failed", "{requeued}");

    receiver.wait_for(2, WAIT).await;
    let delivery = wait_for_delivery_status(&client, &delivery_id, "delivered", WAIT).await;
    assert_eq!(
        attempt_field(&delivery, "status_code"),
        [json!(410), json!(200)]
    );

    // Only failed deliveries can be retried.
    let (status, error) = client
        .post(
            &format!("/api/v1/deliveries/{delivery_id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["error"]["code"], "invalid_state");
}

#[tokio::test]
async fn batch_ingest_delivers_each_event() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    create_webhook(&client, webhook_body(&receiver.url("/batch"), json!({}))).await;

    let batch = json!({ "events": [
        { "type": "batch.item", "id": "b-1", "data": { "n": 1 } },
        { "type": "batch.item", "id": "b-2", "data": { "n": 2 } },
        { "type": "batch.item", "id": "b-3", "data": { "n": 3 } },
    ] });
    let (status, answer) = client.post("/api/v1/events/batch", batch.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let expected = json!({ "data": [
        { "id": "b-1", "deliveries": 1 },
        { "id": "b-2", "deliveries": 1 },
        { "id": "b-3", "deliveries": 1 },
    ] });
    assert_eq!(answer, expected);

    let requests = receiver.wait_for(3, WAIT).await;
    let mut seen: Vec<i64> = requests
        .iter()
        .map(|r| r.json()["data"]["n"].as_i64().expect("n"))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [1, 2, 3]);

    // Each event is idempotent by its id, also inside a batch.
    let (status, replay) = client.post("/api/v1/events/batch", batch).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replay}");
    assert_eq!(replay, expected);
    receiver
        .assert_quiet(QUIET, 3, "a replayed batch delivers nothing new")
        .await;
}

#[tokio::test]
async fn event_detail_summarises_each_webhook() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let a = create_webhook(&client, webhook_body(&receiver.url("/a"), json!({}))).await;
    let b = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/b"),
            json!({ "event_types": ["training.*"] }),
        ),
    )
    .await;
    create_webhook(
        &client,
        webhook_body(&receiver.url("/c"), json!({ "event_types": ["other"] })),
    )
    .await;

    let data = json!({ "accuracy": 0.968 });
    post_event(
        &client,
        json!({ "type": "training.complete", "id": "run-42", "source": "trainer", "data": data }),
    )
    .await;
    for delivery_id in delivery_ids_for_event(&client, "run-42").await {
        wait_for_delivery_status(&client, &delivery_id, "delivered", WAIT).await;
    }

    let (status, event) = client.get("/api/v1/events/run-42").await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["id"], "run-42");
    assert_eq!(event["type"], "training.complete");
    assert_eq!(event["source"], "trainer");
    assert_eq!(event["data"], data);
    assert!(event["created_at"].is_string(), "{event}");

    let mut summary = event["deliveries"].as_array().expect("deliveries").clone();
    summary.sort_by_key(|d| d["webhook_id"].as_str().unwrap_or_default().to_string());
    let mut expected_hooks = [a["id"].clone(), b["id"].clone()];
    expected_hooks.sort_by_key(|id| id.as_str().unwrap_or_default().to_string());
    assert_eq!(summary.len(), 2, "{event:#}");
    for (entry, hook) in summary.iter().zip(&expected_hooks) {
        assert_eq!(&entry["webhook_id"], hook, "{event:#}");
        assert_eq!(entry["status"], "delivered");
        assert_eq!(entry["attempt_count"], 1);
        assert_eq!(entry["last_status_code"], 200);
        assert!(
            entry["delivery_id"]
                .as_str()
                .is_some_and(|d| d.starts_with("dlv_")),
            "{entry}"
        );
    }
}

#[tokio::test]
async fn delivery_log_masks_secret_headers() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let token = "tok-supersecret-9876";
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/masked"),
            json!({
                "auth": { "type": "bearer", "token": token },
                "headers": { "X-Session-Token": "sess-abcdefgh1234", "X-Team": "ml" }
            }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "job.done", "id": "masked-1" })).await;
    let delivery_id = only_delivery_for_event(&client, "masked-1").await;
    let delivery = wait_for_delivery_status(&client, &delivery_id, "delivered", WAIT).await;

    // The receiver got the real values...
    let request = &receiver.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );

    // ...while the log keeps only the last four characters.
    let logged = &delivery["attempts"][0]["request_headers"];
    let authorization = json_header(logged, "authorization")
        .unwrap_or_else(|| panic!("authorization not logged: {logged}"));
    assert_ne!(authorization, format!("Bearer {token}"));
    assert!(
        !authorization.contains("supersecret"),
        "authorization not masked: {authorization}"
    );
    assert!(authorization.ends_with("9876"), "{authorization}");
    let session = json_header(logged, "x-session-token").expect("custom header logged");
    assert!(
        !session.contains("abcdefgh"),
        "custom secret not masked: {session}"
    );
    assert!(session.ends_with("1234"), "{session}");
    // Non-secret headers are logged as sent.
    assert_eq!(json_header(logged, "x-team"), Some("ml"));
    assert!(json_header(logged, "webhook-id").is_some(), "{logged}");
}

/// A retry that falls due before its failed attempt is committed (here at
/// once: no delay, with many webhooks recording together) is still sent:
/// a lane that found nothing due yet is woken when the record lands,
/// instead of idling until the next event.
#[tokio::test]
async fn a_retry_due_before_its_attempt_is_recorded_is_still_sent() {
    const WEBHOOKS: usize = 40;
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    for i in 0..WEBHOOKS {
        create_webhook(
            &client,
            webhook_body(
                &receiver.url(&format!("/immediate-retry/{i}")),
                json!({"retry": {"max_retries": 3, "initial_delay_ms": 0, "max_delay_ms": 0}}),
            ),
        )
        .await;
    }
    for round in 0..5 {
        receiver.script(vec![Reply::status(500); WEBHOOKS]);
        post_event(
            &client,
            json!({"id": format!("evt_now_{round}"), "type": "a.b", "data": {}}),
        )
        .await;
        // Every failure and its retry, before the next event could wake
        // the webhooks again.
        receiver.wait_for(2 * WEBHOOKS * (round + 1), WAIT).await;
    }
}

/// The event ids of a delivery list, newest first.
async fn listed_events(client: &ApiClient, query: &str) -> Vec<String> {
    let (status, list) = client.get(&format!("/api/v1/deliveries?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {list}");
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: no data array in {list}"))
        .iter()
        .map(|d| d["event_id"].as_str().expect("event_id").to_string())
        .collect()
}

/// What the console's delivery log and overview read: the log by exact
/// event type and by creation window (`since` in, `until` out), each bad
/// filter named, and how long the oldest delivery waiting to be sent has
/// waited (deliveries a paused webhook holds do not wait to be sent).
#[tokio::test]
async fn the_log_filters_by_event_type_and_time_and_stats_show_the_oldest_wait() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    let failing = Receiver::start_with_default(Reply::status(503)).await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/held"),
            json!({ "status": "paused", "event_types": ["stock.held"] }),
        ),
    )
    .await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/orders"),
            json!({ "event_types": ["order.*"] }),
        ),
    )
    .await;
    post_event(&client, json!({ "type": "stock.held", "id": "held-1" })).await;
    let (status, stats) = client.get("/api/v1/stats").await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        stats["queue"],
        json!({ "oldest_pending_age_seconds": null }),
        "a held delivery does not wait to be sent: {stats}"
    );
    // Long enough that, counted, the held delivery would be the oldest by
    // far below.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Three orders, a few milliseconds apart so their times differ.
    let mut created_at = Vec::new();
    for (id, event_type) in [
        ("o-1", "order.created"),
        ("o-2", "order.paid"),
        ("o-3", "order.created"),
    ] {
        post_event(&client, json!({ "type": event_type, "id": id })).await;
        let delivery = only_delivery_for_event(&client, id).await;
        let delivered = wait_for_delivery_status(&client, &delivery, "delivered", WAIT).await;
        created_at.push(delivered["created_at"].as_str().unwrap().to_string());
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let [t1, t2, t3] = &created_at[..] else {
        unreachable!()
    };
    assert!(t1 < t2 && t2 < t3, "{created_at:?}");

    let cases: Vec<(String, &[&str])> = vec![
        ("event_type=order.created".into(), &["o-3", "o-1"]),
        ("event_type=order.paid".into(), &["o-2"]),
        ("event_type=stock.held".into(), &["held-1"]),
        ("event_type=order".into(), &[]),
        (format!("since={t2}"), &["o-3", "o-2"]),
        (format!("until={t2}"), &["o-1", "held-1"]),
        (format!("since={t1}&until={t3}"), &["o-2", "o-1"]),
        (
            format!("event_type=order.created&since={t1}&until={t3}"),
            &["o-1"],
        ),
        (
            "event_type=order.created&status=delivered".into(),
            &["o-3", "o-1"],
        ),
        ("event_type=order.created&status=pending".into(), &[]),
        (format!("status=pending&until={t3}"), &["held-1"]),
    ];
    for (query, events) in cases {
        assert_eq!(listed_events(&client, &query).await, events, "{query}");
    }
    // The cursor walks on under the filters.
    let (_, first) = client
        .get("/api/v1/deliveries?event_type=order.created&limit=1")
        .await;
    assert_eq!(first["data"][0]["event_id"], "o-3", "{first}");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    assert_eq!(
        listed_events(
            &client,
            &format!("event_type=order.created&cursor={cursor}")
        )
        .await,
        ["o-1"]
    );

    let refused: Vec<(String, &str)> = vec![
        ("event_type=order.*".into(), "event_type"),
        ("event_type=".into(), "event_type"),
        ("since=yesterday".into(), "since"),
        ("since=2026-01-31".into(), "since"),
        ("until=2026-13-01T00:00:00Z".into(), "until"),
        (format!("since={t3}&until={t1}"), "until"),
        (format!("since={t2}&until={t2}"), "until"),
    ];
    for (query, field) in refused {
        let (status, answer) = client.get(&format!("/api/v1/deliveries?{query}")).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {answer}"
        );
        assert_eq!(answer["error"]["field"], field, "{query}: {answer}");
    }

    // A delivery waiting for a retry an hour ahead waits to be sent.
    create_webhook(
        &client,
        webhook_body(
            &failing.url("/jobs"),
            json!({
                "event_types": ["job.failed"],
                "retry": { "initial_delay_ms": 3_600_000, "jitter": false },
            }),
        ),
    )
    .await;
    let posted = std::time::Instant::now();
    post_event(&client, json!({ "type": "job.failed", "id": "j-1" })).await;
    let delivery = only_delivery_for_event(&client, "j-1").await;
    wait_for_delivery_status(&client, &delivery, "retrying", WAIT).await;
    let (_, stats) = client.get("/api/v1/stats").await;
    let age = stats["queue"]["oldest_pending_age_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("a number: {stats}"));
    let most = posted.elapsed().as_secs_f64() + 0.05;
    assert!((0.0..=most).contains(&age), "{age} s, at most {most} s");
}
