//! Sending again: a webhook's dead letters by time window, and one event to
//! all or some of its webhooks, each answering how many it queued.

use crate::common::{
    Receiver, Reply, TestServer, WAIT, create_webhook, post_event, wait_until, webhook_body,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn event(id: &str) -> Value {
    json!({"id": id, "type": "report.ready", "data": {"report": id}})
}

#[tokio::test]
async fn failed_deliveries_in_a_window_are_sent_again() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start_with_default(Reply::status(500)).await;
    let webhook = create_webhook(
        &client,
        webhook_body(&receiver.url("/r"), json!({"retry": {"strategy": "none"}})),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    for i in 0..3 {
        post_event(&client, event(&format!("evt_window_{i}"))).await;
    }
    let failed_path = format!("/api/v1/deliveries?status=failed&webhook_id={id}");
    wait_until(WAIT, "three dead letters", || async {
        client.get(&failed_path).await.1["data"]
            .as_array()
            .unwrap()
            .len()
            == 3
    })
    .await;

    let retry = format!("/api/v1/webhooks/{id}/retry");
    // A window in the future holds none of them.
    let (status, answer) = client
        .post(
            &retry,
            json!({"since": "2999-01-01T00:00:00Z", "until": "2999-01-02T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["requeued"], 0);
    for (body, field) in [
        (json!({}), "since"),
        (json!({"max_age_hours": -1}), "max_age_hours"),
        (
            json!({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
            "until",
        ),
        (json!({"since": "yesterday"}), "since"),
    ] {
        let (status, answer) = client.post(&retry, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }

    receiver.script((0..3).map(|_| Reply::ok()));
    let (status, answer) = client.post(&retry, json!({"max_age_hours": 1})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["requeued"], 3);
    receiver.wait_for(6, WAIT).await;
    let delivered_path = format!("/api/v1/deliveries?status=delivered&webhook_id={id}");
    wait_until(WAIT, "three delivered", || async {
        client.get(&delivered_path).await.1["data"]
            .as_array()
            .unwrap()
            .len()
            == 3
    })
    .await;
}

#[tokio::test]
async fn an_event_is_replayed_to_all_or_chosen_webhooks() {
    let server = TestServer::start().await;
    let client = server.client();
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    let one = create_webhook(&client, webhook_body(&first.url("/one"), json!({}))).await;
    create_webhook(&client, webhook_body(&second.url("/two"), json!({}))).await;
    post_event(&client, event("evt_replayed")).await;
    first.wait_for(1, WAIT).await;
    second.wait_for(1, WAIT).await;

    let (status, answer) = client
        .post("/api/v1/events/evt_replayed/replay", json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["deliveries"], 2);
    assert_eq!(
        first.wait_for(2, WAIT).await[1].json()["id"],
        "evt_replayed"
    );
    second.wait_for(2, WAIT).await;

    let (status, answer) = client
        .post(
            "/api/v1/events/evt_replayed/replay",
            json!({"webhook_ids": [one["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["deliveries"], 1);
    first.wait_for(3, WAIT).await;
    second
        .assert_quiet(
            std::time::Duration::from_millis(300),
            2,
            "only the chosen webhook",
        )
        .await;
    let (_, stored) = client.get("/api/v1/events/evt_replayed").await;
    assert_eq!(
        stored["deliveries"].as_array().unwrap().len(),
        5,
        "{stored}"
    );

    let (status, answer) = client
        .post(
            "/api/v1/events/evt_replayed/replay",
            json!({"webhook_ids": ["wh_nope"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["field"], "webhook_ids[0]");
    let (status, _) = client
        .post("/api/v1/events/evt_missing/replay", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
