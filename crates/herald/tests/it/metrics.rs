//! `GET /metrics` against real traffic: after a scripted mix of answers
//! (successes, 500s, timeouts, a 429, a dead destination) the scraped
//! counters equal what the receivers saw; the exposition passes
//! `promtool check metrics`; a real Prometheus scrapes it and answers a
//! query with the same figure.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{
    ApiClient, Receiver, Reply, TestServer, create_webhook, post_event, wait_until, webhook_body,
};

/// One sample of the exposition: the value of `name` with every label in
/// `labels` (and any others), summed over the series that match.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, rest) = series.split_once('{').unwrap_or((series, "}"));
            if series_name != name {
                return None;
            }
            let matches = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

async fn scrape(client: &ApiClient) -> String {
    let response = reqwest::Client::new()
        .get(client.url("/metrics"))
        .bearer_auth(client.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scraped_counters_equal_what_the_receivers_saw() {
    let server = TestServer::start_with(|s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let client = server.client();
    let fast_retries = json!({"max_retries": 2, "initial_delay_ms": 20, "jitter": false});

    let ok = Receiver::start().await;
    let flaky = Receiver::start_with_default(Reply::ok()).await;
    flaky.script([
        Reply::status(500),
        Reply::status(500),
        Reply::ok(),
        Reply::status(500),
    ]);
    let slow = Receiver::start_with_default(Reply::ok().delay(Duration::from_secs(3))).await;
    let throttled = Receiver::start().await;
    throttled.script([Reply::status(429).header("Retry-After", "1")]);
    for (path, receiver, extra) in [
        ("ok", &ok, json!({})),
        ("flaky", &flaky, json!({})),
        (
            "slow",
            &slow,
            json!({"timeout_ms": 1000, "retry": {"max_retries": 0}}),
        ),
        ("throttled", &throttled, json!({})),
    ] {
        let mut body = webhook_body(&receiver.url(&format!("/{path}")), extra.clone());
        if extra.get("retry").is_none() {
            body["retry"] = fast_retries.clone();
        }
        body["event_types"] = json!([format!("{path}.*")]);
        create_webhook(&client, body).await;
    }
    // Nothing listens on a closed port: every attempt is a connect error.
    let dead_port = crate::common::closed_port();
    create_webhook(
        &client,
        webhook_body(
            &format!("http://127.0.0.1:{dead_port}/dead"),
            json!({"event_types": ["dead.*"], "retry": fast_retries}),
        ),
    )
    .await;

    let mut posted = 0;
    for (kind, n) in [
        ("ok", 5),
        ("flaky", 2),
        ("slow", 1),
        ("throttled", 1),
        ("dead", 1),
    ] {
        for i in 0..n {
            post_event(
                &client,
                json!({"type": format!("{kind}.event"), "data": {"i": i}}),
            )
            .await;
            posted += 1;
        }
    }
    // A refused request counts as rejected.
    let (status, _) = client
        .post("/api/v1/events", json!({"type": "not a type"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Every delivery ends: 5 + 2 + 1 + 1 + 1.
    wait_until(Duration::from_secs(20), "every delivery to end", || {
        let client = client.clone();
        async move {
            let text = scrape(&client).await;
            sample(&text, "herald_deliveries_finished_total", &[]) >= 10.0
        }
    })
    .await;
    let text = scrape(&client).await;
    let webhook = ("provider", "webhook");
    let attempts = |outcome: &str| {
        sample(
            &text,
            "herald_delivery_attempts_total",
            &[webhook, ("outcome", outcome)],
        )
    };
    // What the receivers saw, by answer.
    let flaky_seen = flaky.requests().len() as f64;
    let successes = ok.requests().len() as f64 + 2.0 + throttled.requests().len() as f64 - 1.0;
    assert_eq!(attempts("success"), successes, "{text}");
    assert_eq!(attempts("http_5xx"), flaky_seen - 2.0);
    assert_eq!(attempts("rate_limited"), 1.0);
    assert_eq!(attempts("timeout"), slow.requests().len() as f64);
    assert_eq!(
        attempts("connect"),
        3.0,
        "the dead destination: 1 + 2 retries"
    );
    let finished = |status: &str| {
        sample(
            &text,
            "herald_deliveries_finished_total",
            &[webhook, ("status", status)],
        )
    };
    assert_eq!(finished("delivered"), 8.0);
    assert_eq!(
        sample(&text, "herald_delivery_latency_seconds_count", &[webhook]),
        8.0,
        "a latency for every delivered delivery"
    );
    assert_eq!(finished("failed"), 2.0, "the slow and the dead one");
    assert_eq!(
        sample(
            &text,
            "herald_events_ingested_total",
            &[("result", "accepted")]
        ),
        posted as f64
    );
    assert_eq!(
        sample(
            &text,
            "herald_events_ingested_total",
            &[("result", "rejected")]
        ),
        1.0
    );
    assert_eq!(
        sample(&text, "herald_webhooks", &[("status", "active")]),
        5.0
    );
    assert!(sample(&text, "herald_rate_limited_total", &[webhook]) >= 1.0);
    assert_eq!(
        sample(
            &text,
            "herald_delivery_attempt_duration_seconds_count",
            &[webhook]
        ),
        sample(&text, "herald_delivery_attempts_total", &[webhook])
    );

    // Well formed, by Prometheus's own linter.
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/test installs it)");
    use std::io::Write;
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let linted = promtool.wait_with_output().unwrap();
    assert!(
        linted.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&linted.stdout),
        String::from_utf8_lossy(&linted.stderr)
    );

    // The metrics listener answers without a token; the API's needs one.
    let open = reqwest::get(format!("http://{}/metrics", server.metrics_addr()))
        .await
        .unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    let closed = reqwest::get(client.url("/metrics")).await.unwrap();
    assert_eq!(closed.status(), StatusCode::UNAUTHORIZED);

    // A real Prometheus scrapes the listener and answers a query.
    let prometheus = crate::common::prometheus::Prometheus::start(server.metrics_addr()).await;
    let value = prometheus
        .wait_for_value(
            "sum(herald_events_ingested_total{result=\"accepted\"})",
            posted as f64,
        )
        .await;
    assert_eq!(value, posted as f64);
}

/// The queue gauges count what waits in the database: a paused webhook's
/// deliveries are held, not pending, and the oldest pending age counts
/// only active webhooks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_gauges_count_waiting_and_held_deliveries() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    let paused = create_webhook(
        &client,
        webhook_body(&receiver.url("/paused"), json!({"event_types": ["held.*"]})),
    )
    .await;
    let id = paused["id"].as_str().unwrap().to_string();
    let (status, body) = client
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for i in 0..3 {
        post_event(&client, json!({"type": "held.event", "data": {"i": i}})).await;
    }
    let text = scrape(&client).await;
    let state = |s: &str| sample(&text, "herald_queue_deliveries", &[("state", s)]);
    assert_eq!(state("held"), 3.0, "{text}");
    assert_eq!(
        state("pending") + state("retrying") + state("delivering"),
        0.0
    );
    assert_eq!(
        sample(&text, "herald_queue_oldest_pending_age_seconds", &[]),
        0.0
    );

    let (status, body) = client
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    receiver.wait_for(3, Duration::from_secs(10)).await;
    wait_until(
        Duration::from_secs(10),
        "the deliveries to be recorded",
        || {
            let client = client.clone();
            async move {
                let text = scrape(&client).await;
                sample(&text, "herald_deliveries_finished_total", &[]) == 3.0
            }
        },
    )
    .await;
    // The figures are reused for a second, then read again: the gauges
    // follow the store within a few scrapes.
    wait_until(Duration::from_secs(10), "the queue gauges to empty", || {
        let client = client.clone();
        async move {
            let text = scrape(&client).await;
            let state = |s: &str| sample(&text, "herald_queue_deliveries", &[("state", s)]);
            state("held") + state("pending") + state("retrying") + state("delivering") == 0.0
        }
    })
    .await;
}

/// Tenant keys cannot read the operator's metrics.
#[tokio::test]
async fn metrics_need_the_admin_token() {
    let server = TestServer::start().await;
    let client = server.client();
    let (status, tenant) = client
        .post("/api/v1/tenants", json!({"name": "acme"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{tenant}");
    let key = tenant["api_key"].as_str().unwrap_or_default().to_string();
    let response = reqwest::Client::new()
        .get(client.url("/metrics"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

/// The shipped alerting rules pass `promtool check rules`, and every
/// metric they and the Grafana dashboard name is one Herald exposes.
#[tokio::test]
async fn the_shipped_rules_and_dashboard_name_real_metrics() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rules = root.join("deploy/prometheus/rules.yml");
    let checked = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("promtool (Debian's prometheus package; scripts/test installs it)");
    assert!(
        checked.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let server = TestServer::start().await;
    let exposition = scrape(&server.client()).await;
    let exposed: std::collections::BTreeSet<&str> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let dashboard =
        std::fs::read_to_string(root.join("deploy/grafana/herald-dashboard.json")).unwrap();
    let rules_text = std::fs::read_to_string(&rules).unwrap();
    let mut named = std::collections::BTreeSet::new();
    for text in [dashboard.as_str(), rules_text.as_str()] {
        for (i, _) in text
            .match_indices("herald_")
            .chain(text.match_indices("process_"))
        {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(&name)
                .to_string();
            named.insert(family);
        }
    }
    let missing: Vec<&String> = named
        .iter()
        .filter(|n| !exposed.contains(n.as_str()))
        .collect();
    assert!(missing.is_empty(), "named but not exposed: {missing:?}");
}
