//! A mixed soak against the real binary: 10,000 events to five webhooks
//! (healthy, flaky, slow, throttled, dead). Every delivery must end
//! delivered or failed, the receivers must agree with the server's counts,
//! and the server's memory must stay flat.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::binary::{rss_kb, spawn_herald};
use crate::common::{Receiver, Recorded, Reply, closed_port, create_webhook, webhook_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

const EVENTS: usize = 10_000;

/// Every `every`-th of `n` replies is `odd`, the rest 200.
fn every(every: usize, n: usize, odd: Reply) -> Vec<Reply> {
    (1..=n)
        .map(|k| {
            if k % every == 0 {
                odd.clone()
            } else {
                Reply::ok()
            }
        })
        .collect()
}

fn unique_ids(requests: &[Recorded]) -> usize {
    requests
        .iter()
        .filter_map(|r| r.json()["id"].as_str().map(str::to_string))
        .collect::<HashSet<_>>()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_destinations_settle_with_matching_counts_and_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let data = dir.path().join("data");
    let (child, client) = spawn_herald(&data, &log).await;
    let pid = child.id().expect("server pid");

    let healthy = Receiver::start().await;
    let flaky = Receiver::start().await;
    flaky.script(every(3, 3 * EVENTS, Reply::status(500)));
    let slow = Receiver::start_with_default(Reply::ok().delay(Duration::from_millis(20))).await;
    let throttled = Receiver::start().await;
    throttled.script(every(
        2_500,
        2 * EVENTS,
        Reply::status(429).header("Retry-After", "1"),
    ));
    let dead_url = format!("http://127.0.0.1:{}/dead", closed_port());
    // A flaky delivery meets a failing reply with a chance of one in three
    // per try, so it gets enough tries never to run out by bad luck.
    let fast_retries = json!({"strategy": "fixed", "initial_delay_ms": 10, "max_retries": 12});
    for (url, extra) in [
        (healthy.url("/healthy"), json!({"max_in_flight": 20})),
        (
            flaky.url("/flaky"),
            json!({"max_in_flight": 20, "retry": fast_retries}),
        ),
        (slow.url("/slow"), json!({"max_in_flight": 50})),
        (
            throttled.url("/throttled"),
            json!({"max_in_flight": 20, "retry": fast_retries}),
        ),
        (
            dead_url,
            json!({"retry": {"initial_delay_ms": 10, "max_retries": 1}, "auto_disable_after": 0}),
        ),
    ] {
        create_webhook(&client, webhook_body(&url, extra)).await;
    }

    for batch in 0..EVENTS / 1_000 {
        let events: Vec<Value> = (0..1_000)
            .map(|i| {
                json!({"id": format!("evt_soak_{}", batch * 1_000 + i), "type": "soak.tick",
                            "data": {"i": batch * 1_000 + i}})
            })
            .collect();
        let (status, body) = client
            .post("/api/v1/events/batch", json!({ "events": events }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }

    let total = 5 * EVENTS as u64;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut quarter_rss = None;
    let counts = loop {
        let (_, stats) = client.get("/api/v1/stats").await;
        let d = &stats["deliveries"];
        let settled = d["delivered"].as_u64().unwrap_or(0) + d["failed"].as_u64().unwrap_or(0);
        if quarter_rss.is_none() && settled >= total / 4 {
            quarter_rss = Some(rss_kb(pid));
        }
        if settled >= total {
            break d.clone();
        }
        assert!(
            Instant::now() < deadline,
            "not settled within 5 minutes: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let end_rss = rss_kb(pid);

    assert_eq!(counts["delivered"], 4 * EVENTS as u64, "{counts}");
    assert_eq!(counts["failed"], EVENTS as u64, "{counts}");
    for (name, receiver) in [
        ("healthy", &healthy),
        ("flaky", &flaky),
        ("slow", &slow),
        ("throttled", &throttled),
    ] {
        assert_eq!(
            unique_ids(&receiver.requests()),
            EVENTS,
            "{name}: every event arrived"
        );
    }
    let quarter = quarter_rss.expect("sampled at a quarter");
    eprintln!("soak: server RSS {quarter} kB at a quarter, {end_rss} kB at the end");
    assert!(
        end_rss < quarter + 64 * 1024,
        "server memory grew from {quarter} kB to {end_rss} kB"
    );
}
