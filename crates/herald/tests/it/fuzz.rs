//! Hostile input: random and malformed JSON, huge strings, deep nesting and
//! odd Unicode thrown at the event and webhook endpoints. Every answer must
//! be a 4xx with a JSON error or a success, never a 5xx, and the server must
//! keep serving.
//!
//! Generated with proptest, so a failure prints the smallest input that
//! still breaks it.

use crate::common::*;
use axum::http::Method;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

/// Field names the endpoints know, so random bodies reach deep into
/// validation instead of stopping at "unknown field".
const FIELDS: &[&str] = &[
    "type",
    "data",
    "id",
    "source",
    "events",
    "name",
    "url",
    "provider",
    "settings",
    "description",
    "event_types",
    "status",
    "tags",
    "headers",
    "auth",
    "retry",
    "timeout_ms",
    "signature",
    "max_in_flight",
    "ordering",
    "ordering_key",
    "batch",
    "rate_limit",
    "auto_disable_after",
    "auto_recover",
    "metadata",
    "secret",
    "token",
    "password",
    "max_retries",
    "per_second",
    "max_events",
    "scheme",
    "template",
    "to",
    "smtp",
];

/// Strings a careless parser trips on.
fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        Just("\u{202E}gnp.exe".to_string()),
        Just("\u{0000}nul\u{0000}".to_string()),
        Just("a\r\nInjected: yes".to_string()),
        Just("\u{FEFF}\u{200B}\u{2028}\u{2029}".to_string()),
        Just("👩‍👩‍👧‍👦".repeat(300)),
        Just("ﷺ".repeat(5000)),
        Just("x".repeat(70_000)),
        Just("https://127.0.0.1:1/".to_string()),
        Just("*".to_string()),
        Just("training.*".to_string()),
        Just("".to_string()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        odd_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS).prop_map(str::to_string),
        1 => odd_string(),
    ]
}

/// A body: mostly objects of known fields, sometimes anything at all.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec((field_name(), json_value()), 0..10).prop_map(|fields| {
            Value::Object(fields.into_iter().collect()).to_string().into_bytes()
        }),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => json_value().prop_map(|v| {
            // Valid JSON cut short.
            let text = v.to_string().into_bytes();
            text[..text.len() / 2].to_vec()
        }),
    ]
}

/// Sends one body and checks the answer is not a server error.
async fn check(
    client: &ApiClient,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> Result<(), String> {
    let r = client
        .send_raw(method.clone(), path, "application/json", body.clone())
        .await;
    if r.status.is_server_error() {
        return Err(format!(
            "{method} {path} answered {} to {}: {}",
            r.status,
            String::from_utf8_lossy(&body[..body.len().min(500)]),
            r.body
        ));
    }
    if r.status.is_client_error() && r.body["error"]["code"].as_str().is_none() {
        return Err(format!(
            "{method} {path}: a 4xx without a JSON error: {}",
            r.body
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_and_malformed_input_never_breaks_the_server() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    let webhook = create_webhook(&client, webhook_body(&receiver.url("/fuzz"), json!({}))).await;
    let webhook_path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());

    let targets: Vec<(Method, String)> = vec![
        (Method::POST, "/api/v1/events".into()),
        (Method::POST, "/api/v1/events/batch".into()),
        (Method::POST, "/api/v1/webhooks".into()),
        (Method::PATCH, webhook_path.clone()),
        (Method::POST, format!("{webhook_path}/test")),
        (Method::POST, format!("{webhook_path}/retry")),
    ];
    let handle = tokio::runtime::Handle::current();
    for (method, path) in &targets {
        let mut runner = TestRunner::new(Config {
            cases: 150,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&body(), |bytes| {
            tokio::task::block_in_place(|| {
                handle.block_on(check(&client, method.clone(), path, bytes))
            })
            .map_err(TestCaseError::fail)
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }

    // The extremes, each on every target.
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"data\":".repeat(5_000), "}".repeat(5_000));
    let extremes: Vec<Vec<u8>> = vec![
        deep_array.into_bytes(),
        deep_object.into_bytes(),
        json!({"type": "a.b", "data": {"x": "y".repeat(2 * 1024 * 1024)}})
            .to_string()
            .into_bytes(),
        json!({"type": "a.b", "data": {"x": "y".repeat(600 * 1024)}})
            .to_string()
            .into_bytes(),
        json!({"type": "y".repeat(100_000)})
            .to_string()
            .into_bytes(),
        br#"{"type": "a.b", "data": "\ud800\udfff\ud800"}"#.to_vec(),
        br#"{"name": "\u0000", "url": "https://exa\u0000mple.com"}"#.to_vec(),
        json!({"name": "h", "url": receiver.url("/x"), "headers": {"X-A": "b\r\nHost: evil"}})
            .to_string()
            .into_bytes(),
        json!({"name": "h", "url": receiver.url("/x"), "headers": {"Host": "evil.example"}})
            .to_string()
            .into_bytes(),
        json!({"events": vec![json!({"type": "a.b"}); 5000]})
            .to_string()
            .into_bytes(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        b"".to_vec(),
        b"null".to_vec(),
        b"1e999999".to_vec(),
        b"{\"type\":\"a.b\",\"data\":1e400}".to_vec(),
        b"{\"type\":\"a.b\",\"type\":\"c.d\"}".to_vec(),
    ];
    for (method, path) in &targets {
        for body in &extremes {
            if let Err(e) = check(&client, method.clone(), path, body.clone()).await {
                panic!("{e}");
            }
        }
    }

    // Still serving, and still correct.
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let (status, body) = client
        .post(
            "/api/v1/events",
            json!({"type": "fuzz.done", "data": {"ok": true}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}
