//! The circuit breaker and Herald's own events: consecutive failed
//! deliveries disable a webhook, which holds what arrives meanwhile and
//! sends it in order once enabled; `herald.*` events tell an ops webhook.

use std::time::Duration;

use crate::common::{
    ApiClient, Receiver, Recorded, Reply, TestServer, WAIT, create_webhook, post_event, wait_until,
    webhook_body,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn job(id: &str) -> Value {
    json!({"id": id, "type": "job.finished", "data": {"job": id}})
}

/// Every request the receiver got whose body has this `type`.
fn of_type(requests: &[Recorded], event_type: &str) -> Vec<Value> {
    requests
        .iter()
        .map(Recorded::json)
        .filter(|b| b["type"] == event_type)
        .collect()
}

async fn webhook_status(client: &ApiClient, id: &str) -> Value {
    let (status, webhook) = client.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{webhook}");
    webhook
}

#[tokio::test]
async fn consecutive_failures_disable_a_webhook_that_holds_then_sends_in_order() {
    let server = TestServer::start().await;
    let client = server.client();
    let ops = Receiver::start().await;
    let catch_all = Receiver::start().await;
    let broken = Receiver::start_with_default(Reply::status(500)).await;
    create_webhook(
        &client,
        webhook_body(&ops.url("/ops"), json!({"event_types": ["herald.*"]})),
    )
    .await;
    create_webhook(&client, webhook_body(&catch_all.url("/all"), json!({}))).await;
    let webhook = create_webhook(
        &client,
        webhook_body(
            &broken.url("/broken"),
            json!({
                "event_types": ["job.*"],
                "retry": {"strategy": "none"},
                "max_in_flight": 1,
                "auto_disable_after": 10,
            }),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap().to_string();
    assert_eq!(webhook["auto_disable_after"], 10);

    for i in 0..10 {
        post_event(&client, job(&format!("evt_fail_{i}"))).await;
    }
    let requests = ops
        .wait_until(WAIT, "herald.webhook.disabled", |r| {
            !of_type(r, "herald.webhook.disabled").is_empty()
        })
        .await;
    let disabled = &of_type(&requests, "herald.webhook.disabled")[0];
    assert_eq!(disabled["data"]["webhook_id"], id.as_str());
    assert_eq!(disabled["data"]["consecutive_failures"], 10);
    let webhook = webhook_status(&client, &id).await;
    assert_eq!(webhook["status"], "disabled", "{webhook}");
    assert!(
        webhook["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("10 consecutive"),
        "{webhook}"
    );
    assert!(webhook["disabled_at"].is_string(), "{webhook}");

    // Every dead letter was announced too.
    let requests = ops
        .wait_until(WAIT, "10 herald.delivery.failed", |r| {
            of_type(r, "herald.delivery.failed").len() >= 10
        })
        .await;
    let failed = of_type(&requests, "herald.delivery.failed");
    assert_eq!(failed[0]["data"]["webhook_id"], id.as_str());
    assert_eq!(failed[0]["data"]["event_type"], "job.finished");
    assert!(failed[0]["data"]["delivery_id"].is_string());

    // Meanwhile events are held, not sent and not dropped.
    for i in 0..5 {
        post_event(&client, job(&format!("evt_held_{i}"))).await;
    }
    broken
        .assert_quiet(
            Duration::from_millis(400),
            10,
            "a disabled webhook is not called",
        )
        .await;
    let (_, held) = client
        .get(&format!("/api/v1/webhooks/{id}/deliveries?status=pending"))
        .await;
    assert_eq!(held["data"].as_array().unwrap().len(), 5, "{held}");

    broken.script((0..5).map(|_| Reply::ok()));
    let (status, enabled) = client
        .post(&format!("/api/v1/webhooks/{id}/enable"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["status"], "active");
    assert_eq!(enabled["disabled_reason"], Value::Null);
    let sent = broken.wait_for(15, WAIT).await;
    let order: Vec<Value> = sent[10..].iter().map(|r| r.json()["id"].clone()).collect();
    let expected: Vec<Value> = (0..5).map(|i| json!(format!("evt_held_{i}"))).collect();
    assert_eq!(order, expected, "held deliveries go out in event order");
    ops.wait_until(WAIT, "herald.webhook.enabled", |r| {
        !of_type(r, "herald.webhook.enabled").is_empty()
    })
    .await;

    // A catch-all subscription does not receive Herald's own events.
    let all = catch_all.requests();
    assert!(
        all.iter()
            .all(|r| !r.json()["type"].as_str().unwrap().starts_with("herald.")),
        "`*` received operational events"
    );
    assert_eq!(all.len(), 15);
}

#[tokio::test]
async fn enabling_can_discard_what_was_held() {
    let server = TestServer::start().await;
    let client = server.client();
    let broken = Receiver::start_with_default(Reply::status(404)).await;
    let webhook = create_webhook(
        &client,
        webhook_body(&broken.url("/gone"), json!({"auto_disable_after": 1})),
    )
    .await;
    let id = webhook["id"].as_str().unwrap().to_string();
    post_event(&client, job("evt_first")).await;
    wait_until(WAIT, "the webhook to be disabled", || async {
        webhook_status(&client, &id).await["status"] == "disabled"
    })
    .await;
    for i in 0..3 {
        post_event(&client, job(&format!("evt_dropped_{i}"))).await;
    }
    let (status, enabled) = client
        .post(
            &format!("/api/v1/webhooks/{id}/enable?discard_held=true"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["discarded_held"], 3);
    let (_, skipped) = client
        .get(&format!("/api/v1/webhooks/{id}/deliveries?status=skipped"))
        .await;
    let skipped = skipped["data"].as_array().unwrap().clone();
    assert_eq!(skipped.len(), 3);
    assert!(
        skipped[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("discarded")
    );
    broken
        .assert_quiet(
            Duration::from_millis(300),
            1,
            "discarded deliveries are not sent",
        )
        .await;

    // Enabling an enabled webhook is a conflict; nobody sets `disabled`.
    let (status, answer) = client
        .post(&format!("/api/v1/webhooks/{id}/enable"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (status, answer) = client
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["field"], "status");
}

#[tokio::test]
async fn a_success_resets_the_count_and_zero_never_disables() {
    let server = TestServer::start().await;
    let client = server.client();
    let flaky = Receiver::start().await;
    let never = Receiver::start_with_default(Reply::status(500)).await;
    let flaky_hook = create_webhook(
        &client,
        webhook_body(
            &flaky.url("/flaky"),
            json!({"event_types": ["job.*"], "retry": {"strategy": "none"},
                   "max_in_flight": 1, "auto_disable_after": 3}),
        ),
    )
    .await;
    let never_hook = create_webhook(
        &client,
        webhook_body(
            &never.url("/never"),
            json!({"event_types": ["other.*"], "retry": {"strategy": "none"},
                   "auto_disable_after": 0}),
        ),
    )
    .await;
    // fail, fail, ok, fail, fail: never three in a row.
    flaky.script([
        Reply::status(500),
        Reply::status(500),
        Reply::ok(),
        Reply::status(500),
        Reply::status(500),
    ]);
    for i in 0..5 {
        post_event(&client, job(&format!("evt_flaky_{i}"))).await;
        flaky.wait_for(i + 1, WAIT).await;
    }
    for i in 0..12 {
        post_event(
            &client,
            json!({"id": format!("evt_never_{i}"), "type": "other.thing", "data": {}}),
        )
        .await;
    }
    never.wait_for(12, WAIT).await;
    // Every attempt is recorded before the state is read.
    wait_until(WAIT, "all 17 deliveries to settle", || async {
        let (_, stats) = client.get("/api/v1/stats").await;
        let d = &stats["deliveries"];
        d["delivered"].as_u64().unwrap_or(0) + d["failed"].as_u64().unwrap_or(0) == 17
    })
    .await;
    for (hook, name) in [(&flaky_hook, "flaky"), (&never_hook, "never")] {
        let webhook = webhook_status(&client, hook["id"].as_str().unwrap()).await;
        assert_eq!(webhook["status"], "active", "{name}: {webhook}");
    }
}

#[tokio::test]
async fn auto_recover_probes_and_enables_when_the_destination_is_back() {
    let server = TestServer::start().await;
    let client = server.client();
    let ops = Receiver::start().await;
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &ops.url("/ops"),
            json!({"event_types": ["herald.webhook.*"]}),
        ),
    )
    .await;
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/recovering"),
            json!({
                "event_types": ["job.*"],
                "retry": {"strategy": "none", "initial_delay_ms": 100},
                "auto_disable_after": 2,
                "auto_recover": true,
            }),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap().to_string();
    // Two failures disable it; the first probe fails too, the second succeeds.
    receiver.script([Reply::status(503), Reply::status(503), Reply::status(503)]);
    post_event(&client, job("evt_down_1")).await;
    post_event(&client, job("evt_down_2")).await;
    wait_until(WAIT, "the webhook to be disabled", || async {
        webhook_status(&client, &id).await["status"] == "disabled"
    })
    .await;
    post_event(&client, job("evt_held_while_down")).await;

    wait_until(WAIT, "the webhook to recover", || async {
        webhook_status(&client, &id).await["status"] == "active"
    })
    .await;
    let requests = receiver
        .wait_until(WAIT, "the held event", |r| {
            r.iter().any(|q| q.json()["id"] == "evt_held_while_down")
        })
        .await;
    let probes = requests
        .iter()
        .filter(|r| r.json()["type"] == "herald.probe")
        .count();
    assert_eq!(probes, 2, "one failed probe, then one that worked");
    ops.wait_until(WAIT, "herald.webhook.enabled", |r| {
        !of_type(r, "herald.webhook.enabled").is_empty()
    })
    .await;
}

/// PATCHes read, changed and wrote back the whole webhook under a lock the
/// breaker never took: one landing around the breaker's disable put the
/// webhook back to active. Writes now apply to the version read, so
/// changes racing the breaker keep it disabled and keep their own edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_racing_the_breaker_never_reactivate_a_disabled_webhook() {
    let server = TestServer::start().await;
    let client = server.client();
    let broken = Receiver::start_with_default(Reply::status(500)).await;
    for round in 0..5 {
        let webhook = create_webhook(
            &client,
            webhook_body(
                &broken.url("/broken"),
                json!({"event_types": [format!("race{round}.*")], "auto_disable_after": 1,
                       "retry": {"max_retries": 0}}),
            ),
        )
        .await;
        let id = webhook["id"].as_str().unwrap().to_string();
        let patchers: Vec<_> = (0..4)
            .map(|p| {
                let (client, id) = (client.clone(), id.clone());
                tokio::spawn(async move {
                    for n in 0..40 {
                        let (status, body) = client
                            .patch(
                                &format!("/api/v1/webhooks/{id}"),
                                json!({"description": format!("patcher {p} edit {n}")}),
                            )
                            .await;
                        assert_eq!(status, StatusCode::OK, "{body}");
                    }
                })
            })
            .collect();
        post_event(
            &client,
            json!({"type": format!("race{round}.fail"), "data": {}}),
        )
        .await;
        for patcher in patchers {
            patcher.await.unwrap();
        }
        wait_until(WAIT, "the breaker to disable the webhook", || {
            let client = client.clone();
            let id = id.clone();
            async move { webhook_status(&client, &id).await["status"] == "disabled" }
        })
        .await;
        // Edits after the disable keep it disabled too.
        let (status, patched) = client
            .patch(
                &format!("/api/v1/webhooks/{id}"),
                json!({"description": "after"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert_eq!(patched["status"], "disabled", "{patched}");
        assert_eq!(patched["description"], "after", "{patched}");
    }
}
