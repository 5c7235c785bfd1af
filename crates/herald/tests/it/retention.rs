//! Retention: finished events and their delivery log are deleted once older
//! than the retention period; anything still waiting is kept.

use std::time::Duration;

use crate::common::{
    Receiver, TestServer, WAIT, create_webhook, post_event, wait_until, webhook_body,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn old_finished_events_are_pruned_and_waiting_ones_kept() {
    let server = TestServer::start_with(|s| {
        s.retention = Some(Duration::from_millis(300));
        s.retention_sweep_every = Duration::from_millis(100);
    })
    .await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(&receiver.url("/live"), json!({"event_types": ["gone.*"]})),
    )
    .await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/held"),
            json!({"event_types": ["kept.*"], "status": "paused"}),
        ),
    )
    .await;
    post_event(
        &client,
        json!({"id": "evt_gone", "type": "gone.x", "data": {}}),
    )
    .await;
    post_event(
        &client,
        json!({"id": "evt_kept", "type": "kept.x", "data": {}}),
    )
    .await;
    receiver.wait_for(1, WAIT).await;

    wait_until(WAIT, "the delivered event to be pruned", || async {
        client.get("/api/v1/events/evt_gone").await.0 == StatusCode::NOT_FOUND
    })
    .await;
    let (_, gone) = client.get("/api/v1/deliveries?event_id=evt_gone").await;
    assert_eq!(gone["data"].as_array().unwrap().len(), 0, "{gone}");

    // Several sweeps later the held one is still there.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, kept) = client.get("/api/v1/events/evt_kept").await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["deliveries"][0]["status"], "pending", "{kept}");
}
