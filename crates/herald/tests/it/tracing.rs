//! W3C trace context across the hop: each attempt carries a `traceparent`,
//! a new span in the trace the event was posted with (or, without one, in
//! a trace of the delivery's own), logged with the attempt.

use std::time::Duration;

use herald_core::trace::TraceParent;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{
    Receiver, Reply, TestServer, create_webhook, only_delivery_for_event, wait_for_delivery_status,
    webhook_body,
};

const POSTED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_continue_the_posted_trace_or_start_their_own() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(503)]);
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/traced"),
            json!({"retry": {"max_retries": 2, "initial_delay_ms": 20, "jitter": false}}),
        ),
    )
    .await;

    let posted = client
        .send(
            Method::POST,
            "/api/v1/events",
            Some(&json!({"id": "evt_traced", "type": "a.b", "data": {}})),
            &[("traceparent", POSTED)],
        )
        .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED, "{:?}", posted.body);
    let requests = receiver.wait_for(2, Duration::from_secs(10)).await;
    let posted_trace = TraceParent::parse(POSTED).unwrap();
    let spans: Vec<TraceParent> = requests
        .iter()
        .map(|r| TraceParent::parse(r.header("traceparent").expect("a traceparent")).unwrap())
        .collect();
    for span in &spans {
        assert_eq!(
            span.trace_id, posted_trace.trace_id,
            "the posted trace continues"
        );
        assert_ne!(
            span.parent_id, posted_trace.parent_id,
            "each attempt is a new span"
        );
    }
    assert_ne!(
        spans[0].parent_id, spans[1].parent_id,
        "the retry is its own span"
    );

    // The delivery log keeps each attempt's traceparent.
    let delivery = only_delivery_for_event(&client, "evt_traced").await;
    let logged =
        wait_for_delivery_status(&client, &delivery, "delivered", Duration::from_secs(10)).await;
    let first = logged["attempts"][0]["request_headers"]["traceparent"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(first, requests[0].header("traceparent").unwrap());

    // Without a traceparent, or with a broken one, each delivery has a
    // trace of its own, shared by its attempts.
    receiver.script([Reply::status(503)]);
    for (id, header) in [("evt_own", None), ("evt_broken", Some("00-zz-nonsense-01"))] {
        let headers: Vec<(&str, &str)> = header.map(|h| ("traceparent", h)).into_iter().collect();
        let answer = client
            .send(
                Method::POST,
                "/api/v1/events",
                Some(&json!({"id": id, "type": "a.b", "data": {}})),
                &headers,
            )
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    }
    let requests = receiver.wait_for(5, Duration::from_secs(10)).await;
    let traces: Vec<[u8; 16]> = requests[2..]
        .iter()
        .map(|r| {
            TraceParent::parse(r.header("traceparent").unwrap())
                .unwrap()
                .trace_id
        })
        .collect();
    assert!(traces.iter().all(|t| *t != posted_trace.trace_id));
    let distinct: std::collections::BTreeSet<_> = traces.iter().collect();
    assert_eq!(
        distinct.len(),
        2,
        "two deliveries, two traces, the retry in its own: {traces:?}"
    );
}
