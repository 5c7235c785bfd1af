//! Hostile destinations against the real binary. Any tenant can point a
//! webhook anywhere, so every answer a destination can give — absurd
//! `Retry-After` values, garbage instead of HTTP, resets, silence, endless
//! or huge bodies, huge or countless headers, redirects, binary bytes,
//! compression bombs, storms of `100 Continue` — must end in a recorded
//! attempt (delivered, retrying or failed) within the webhook's timeout
//! plus a margin, with nothing left `delivering`, memory bounded, and a
//! healthy webhook beside them keeping its latency.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::common::binary::{rss_kb, spawn_herald};
use crate::common::raw::{RawDestination, act, answer, drain};
use crate::common::{ApiClient, Receiver, WAIT, create_webhook, webhook_body};

/// Every hostile webhook's timeout: an attempt that hears nothing useful
/// ends after this.
const TIMEOUT_MS: u64 = 2_000;

/// What one hostile destination does, and how its delivery must end.
struct Case {
    name: &'static str,
    act: crate::common::raw::Act,
    /// The delivery's status once its first attempt is recorded.
    status: &'static str,
    /// The first attempt's error category (`None`: no error).
    category: Option<&'static str>,
}

fn case(
    name: &'static str,
    act: crate::common::raw::Act,
    status: &'static str,
    category: Option<&'static str>,
) -> Case {
    Case {
        name,
        act,
        status,
        category,
    }
}

fn head(status: &str, headers: &[&str]) -> String {
    let mut text = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text
}

fn cases() -> Vec<Case> {
    let big_retry_after = ["1e20", "99999999999999999999", "1e308", "inf", "NaN", "-5"];
    let mut cases = Vec::new();
    for (i, value) in big_retry_after.iter().enumerate() {
        let name: &'static str = [
            "503 retry-after 1e20",
            "503 retry-after 20 digits",
            "503 retry-after 1e308",
            "503 retry-after inf",
            "503 retry-after NaN",
            "503 retry-after -5",
        ][i];
        cases.push(case(
            name,
            answer(head(
                "503 Service Unavailable",
                &[&format!("Retry-After: {value}"), "Content-Length: 0"],
            )),
            "retrying",
            Some("http_5xx"),
        ));
    }
    cases.extend([
        case(
            "200 retry-after 1e20",
            answer(head("200 OK", &["Retry-After: 1e20", "Content-Length: 2"]) + "ok"),
            "delivered",
            None,
        ),
        case(
            "200 retry-after 20 digits",
            answer(
                head(
                    "200 OK",
                    &["Retry-After: 99999999999999999999", "Content-Length: 2"],
                ) + "ok",
            ),
            "delivered",
            None,
        ),
        case(
            "429 retry-after year 9999",
            answer(head(
                "429 Too Many Requests",
                &[
                    "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT",
                    "Content-Length: 0",
                ],
            )),
            "retrying",
            Some("http_4xx"),
        ),
        case("silence", act(drain), "retrying", Some("timeout")),
        case(
            "garbage instead of HTTP",
            answer(&b"\x00\x01SMTP ready\r\n\xff\xfe garbage\r\n\r\n"[..]),
            "retrying",
            Some("response"),
        ),
        case(
            "reset mid-answer",
            act(|mut stream| async move {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").await;
                let _ = stream.set_zero_linger();
            }),
            "retrying",
            Some("response"),
        ),
        case(
            "reset before answering",
            act(|stream| async move {
                let _ = stream.set_zero_linger();
            }),
            "retrying",
            Some("response"),
        ),
        case(
            "closed before answering",
            act(|stream| async move { drop(stream) }),
            "retrying",
            Some("response"),
        ),
        case(
            "redirect",
            answer(head(
                "302 Found",
                &["Location: http://169.254.169.254/", "Content-Length: 0"],
            )),
            "failed",
            Some("http_3xx"),
        ),
        case(
            "huge header",
            answer(head(
                "200 OK",
                &[
                    &format!("X-Huge: {}", "a".repeat(2 << 20)),
                    "Content-Length: 0",
                ],
            )),
            "retrying",
            Some("response"),
        ),
        case(
            "countless headers",
            answer(head(
                "200 OK",
                &(0..20_000)
                    .map(|i| format!("X-H{i}: v"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )),
            "retrying",
            Some("response"),
        ),
        case(
            "endless body",
            act(|mut stream| async move {
                let _ = stream
                    .write_all(head("200 OK", &["Transfer-Encoding: chunked"]).as_bytes())
                    .await;
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
            }),
            "delivered",
            None,
        ),
        case(
            "body that stalls after a 200",
            act(|mut stream| async move {
                let _ = stream
                    .write_all((head("200 OK", &["Content-Length: 1000"]) + "partial").as_bytes())
                    .await;
                drain(stream).await;
            }),
            "delivered",
            None,
        ),
        case(
            "huge body",
            answer(
                head("200 OK", &[&format!("Content-Length: {}", 16 << 20)]) + &"y".repeat(16 << 20),
            ),
            "delivered",
            None,
        ),
        case(
            "binary body with NUL bytes",
            answer(
                [
                    head("200 OK", &["Content-Length: 8"]).into_bytes(),
                    b"\x00\xff\x00\xfe\x00ok\x00".to_vec(),
                ]
                .concat(),
            ),
            "delivered",
            None,
        ),
        case(
            "503 with NUL bytes in the body",
            answer(
                [
                    head("503 Service Unavailable", &["Content-Length: 6"]).into_bytes(),
                    b"\x00bad\x00\x00".to_vec(),
                ]
                .concat(),
            ),
            "retrying",
            Some("http_5xx"),
        ),
        case(
            "gzip bomb",
            {
                let bomb = gzip_bomb();
                let length = format!("Content-Length: {}", bomb.len());
                answer(
                    [
                        head("200 OK", &["Content-Encoding: gzip", &length]).into_bytes(),
                        bomb,
                    ]
                    .concat(),
                )
            },
            "delivered",
            None,
        ),
        case(
            "storm of 100 Continue",
            act(|mut stream| async move {
                while stream
                    .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                    .await
                    .is_ok()
                {}
            }),
            "retrying",
            Some("timeout"),
        ),
        case(
            "status line trickled byte by byte",
            act(|mut stream| async move {
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                    .iter()
                    .cycle()
                {
                    if stream.write_all(&[*b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }),
            "retrying",
            Some("timeout"),
        ),
    ]);
    cases
}

/// A real compression bomb: 256 MiB of zeros, gzipped to a few hundred
/// kilobytes. Herald never asks for compression and must never inflate it.
fn gzip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        encoder.write_all(&zeros).expect("compress");
    }
    encoder.finish().expect("compress")
}

async fn delivery_of(client: &ApiClient, webhook_id: &str) -> Option<Value> {
    let (status, list) = client
        .get(&format!("/api/v1/webhooks/{webhook_id}/deliveries?limit=1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let id = list["data"][0]["id"].as_str()?.to_string();
    let (status, delivery) = client.get(&format!("/api/v1/deliveries/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{delivery}");
    Some(delivery)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_answer_ends_in_a_recorded_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let (child, client) = spawn_herald(&dir.path().join("data"), &dir.path().join("log")).await;
    let pid = child.id().expect("server pid");

    let cases = cases();
    let mut destinations = Vec::new();
    let mut webhooks: BTreeMap<String, &Case> = BTreeMap::new();
    for case in &cases {
        let destination = RawDestination::start(case.act.clone()).await;
        let webhook = create_webhook(
            &client,
            webhook_body(
                &destination.url(),
                json!({
                    "name": case.name,
                    "event_types": ["hostile.probe"],
                    "timeout_ms": TIMEOUT_MS,
                    "retry": {"max_retries": 3, "initial_delay_ms": 60_000, "jitter": false},
                }),
            ),
        )
        .await;
        webhooks.insert(webhook["id"].as_str().unwrap().to_string(), case);
        destinations.push(destination);
    }
    let healthy = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &healthy.url("/healthy"),
            json!({"event_types": ["healthy.tick"]}),
        ),
    )
    .await;
    let rss_before = rss_kb(pid);

    let posted = Instant::now();
    let (status, body) = client
        .post(
            "/api/v1/events",
            json!({"type": "hostile.probe", "data": {"n": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["deliveries"], json!(cases.len()), "{body}");

    // While the hostile attempts run, the healthy webhook keeps its pace.
    let mut worst = Duration::ZERO;
    for n in 0..20 {
        let sent = Instant::now();
        let (status, _) = client
            .post(
                "/api/v1/events",
                json!({"type": "healthy.tick", "data": {"n": n}}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        healthy.wait_for(n + 1, WAIT).await;
        worst = worst.max(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        worst < Duration::from_millis(TIMEOUT_MS / 2),
        "a healthy webhook waited {worst:?} behind hostile ones"
    );

    // Every hostile delivery ends recorded within its timeout plus a margin.
    let deadline = posted + Duration::from_millis(TIMEOUT_MS) + WAIT;
    let settled = |d: &Value| {
        !matches!(d["status"].as_str(), Some("pending" | "delivering"))
            && d["attempts"].as_array().is_some_and(|a| !a.is_empty())
    };
    let mut last: BTreeMap<&str, Value> = BTreeMap::new();
    loop {
        for (webhook_id, case) in &webhooks {
            if !last.get(case.name).is_some_and(settled) {
                let delivery = delivery_of(&client, webhook_id)
                    .await
                    .unwrap_or(Value::Null);
                last.insert(case.name, delivery);
            }
        }
        if last.values().all(settled) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut failures = Vec::new();
    for case in webhooks.values() {
        let delivery = &last[case.name];
        let attempt = &delivery["attempts"][0];
        let got = (
            delivery["status"].as_str(),
            attempt["error_category"].as_str(),
        );
        if got != (Some(case.status), case.category) {
            failures.push(format!(
                "{}: expected {} / {:?}, got {:?} ({} attempt(s)): {}",
                case.name,
                case.status,
                case.category,
                got,
                delivery["attempts"].as_array().map_or(0, Vec::len),
                attempt["error_message"]
            ));
            continue;
        }
        if case.status == "retrying" {
            // A retry is scheduled, whatever the destination asked for:
            // at most the server's cap (an hour) away.
            let next = delivery["next_attempt_at"].as_str().unwrap_or_default();
            let next = chrono::DateTime::parse_from_rfc3339(next)
                .unwrap_or_else(|_| panic!("{}: no next attempt: {delivery}", case.name));
            let wait = next.with_timezone(&chrono::Utc) - chrono::Utc::now();
            assert!(
                wait <= chrono::Duration::seconds(3_601),
                "{}: retry scheduled {wait} away",
                case.name
            );
        }
    }
    assert!(
        failures.is_empty(),
        "hostile cases ended wrongly:\n{}",
        failures.join("\n")
    );
    for (destination, case) in destinations.iter().zip(&cases) {
        assert!(
            destination.requests() >= 1,
            "{} never got a request",
            case.name
        );
    }

    // Test sends to the same destinations answer too.
    let absurd = webhooks
        .iter()
        .filter(|(_, case)| case.name.contains("retry-after"))
        .map(|(id, _)| id);
    for webhook_id in absurd {
        let (status, report) = client
            .post(&format!("/api/v1/webhooks/{webhook_id}/test"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
    }

    let rss_after = rss_kb(pid);
    assert!(
        rss_after < rss_before + 64 * 1024,
        "memory grew from {rss_before} kB to {rss_after} kB"
    );
}

/// An absurd `Retry-After` used to panic the attempt: ordered queues froze
/// behind it, a batch's deliveries all stuck, a test send dropped its
/// connection.
#[tokio::test]
async fn an_absurd_retry_after_never_freezes_a_fifo_queue_a_batch_or_a_test_send() {
    use crate::common::{Reply, TestServer, wait_for_delivery_status};
    let server = TestServer::start().await;
    let client = server.client();
    let accepting = Receiver::start_with_default(Reply::ok().header("Retry-After", "1e20")).await;
    create_webhook(
        &client,
        webhook_body(
            &accepting.url("/fifo"),
            json!({"event_types": ["fifo.*"], "ordering": "fifo"}),
        ),
    )
    .await;
    create_webhook(
        &client,
        webhook_body(
            &accepting.url("/batch"),
            json!({"event_types": ["batch.*"], "batch": {"max_events": 3, "max_wait_ms": 200}}),
        ),
    )
    .await;
    let mut events = Vec::new();
    for n in 0..3 {
        for kind in ["fifo.tick", "batch.tick"] {
            let (status, body) = client
                .post("/api/v1/events", json!({"type": kind, "data": {"n": n}}))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            events.push(body["id"].as_str().unwrap().to_string());
        }
    }
    for event_id in &events {
        let delivery = crate::common::only_delivery_for_event(&client, event_id).await;
        wait_for_delivery_status(&client, &delivery, "delivered", WAIT).await;
    }
    let fifo_order: Vec<i64> = accepting
        .requests()
        .iter()
        .filter(|r| r.path == "/fifo")
        .map(|r| r.json()["data"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(fifo_order, [0, 1, 2]);
    let batches: Vec<usize> = accepting
        .requests()
        .iter()
        .filter(|r| r.path == "/batch")
        .map(|r| r.json().as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(batches.iter().sum::<usize>(), 3, "{batches:?}");

    let refusing = Receiver::start_with_default(
        Reply::status(503).header("Retry-After", "99999999999999999999"),
    )
    .await;
    let webhook = create_webhook(&client, webhook_body(&refusing.url("/t"), json!({}))).await;
    let (status, report) = client
        .post(
            &format!("/api/v1/webhooks/{}/test", webhook["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["success"], json!(false), "{report}");
    assert_eq!(report["status_code"], json!(503), "{report}");
}
