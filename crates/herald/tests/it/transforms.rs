//! Transformations through the real server: what a receiver gets is the
//! webhook's `transform` of the event (fields kept, dropped, moved; a JSON
//! body template; method, form bodies, gzip), signed as sent and verified
//! with the Standard Webhooks library (gzip bodies once decompressed); a
//! transform that fails for an event fails that delivery at once; mistakes
//! are 422s naming the field.

use std::io::Read as _;

use crate::common::{
    Receiver, TestServer, WAIT, create_webhook, only_delivery_for_event, post_event,
    wait_for_delivery_status, webhook_body,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The secret from the Standard Webhooks specification's test vector.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn verify(request: &crate::common::Recorded) {
    standardwebhooks::Webhook::new(SECRET)
        .expect("valid secret")
        .verify(&request.body, &request.headers)
        .unwrap_or_else(|e| panic!("signature did not verify ({e}): {request:?}"));
}

fn alert(id: &str) -> Value {
    json!({"id": id, "type": "compliance.alert", "data": {
        "run": 7, "severity": "high", "stack_trace": "at main.rs:1",
        "user": {"email": "ada@example.com", "password": "hunter2"},
        "items": [{"sku": "a", "cost": 3}, {"sku": "b", "cost": 4}],
    }})
}

#[tokio::test]
async fn the_receiver_gets_the_template_output_signed_as_sent() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    let template = r#"{"text": {{ "Run " ~ event.data.run_id ~ " is " ~ event.data.severity }},
        "id": {{ event.id }}, "kind": {{ event.type }}, "user": {{ event.data.user }},
        "absent": {{ event.data.not.there }}}"#;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/templated"),
            json!({"secret": SECRET, "transform": {
                "exclude": ["user.password"], "rename": {"run": "run_id"},
                "template": template, "method": "PUT"}}),
        ),
    )
    .await;
    post_event(&client, alert("evt_tpl")).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.method, "PUT");
    assert_eq!(request.header("content-type"), Some("application/json"));
    verify(&request);
    assert_eq!(
        request.json(),
        json!({"text": "Run 7 is high", "id": "evt_tpl", "kind": "compliance.alert",
               "user": {"email": "ada@example.com"}, "absent": null})
    );
    assert_eq!(request.header("webhook-id"), Some("evt_tpl"));
}

#[tokio::test]
async fn kept_dropped_and_moved_fields_shape_the_envelope() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/shaped"),
            json!({"secret": SECRET, "transform": {
                // The seed's names for include and exclude.
                "include_fields": ["severity", "user", "items.sku", "stack_trace"],
                "exclude_fields": ["stack_trace", "user.password"],
                "rename": {"user.email": "contact"}}}),
        ),
    )
    .await;
    post_event(&client, alert("evt_shape")).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    verify(&request);
    let body = request.json();
    assert_eq!(body["id"], "evt_shape");
    assert_eq!(body["type"], "compliance.alert");
    assert!(body["timestamp"].is_string(), "{body}");
    assert_eq!(
        body["data"],
        json!({"severity": "high", "user": {}, "items": [{"sku": "a"}, {"sku": "b"}],
               "contact": "ada@example.com"})
    );
}

#[tokio::test]
async fn gzip_bodies_decompress_to_the_json_that_is_signed() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    let plain = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/gzip-plain"),
            json!({"secret": SECRET, "transform": {"compression": "gzip"}}),
        ),
    )
    .await;
    let shaped = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/gzip-shaped"),
            json!({"secret": SECRET, "transform": {"compression": "gzip", "exclude": ["stack_trace"],
                   "method": "PATCH"}}),
        ),
    )
    .await;
    assert_eq!(plain["transform"]["compression"], "gzip", "{plain}");
    assert_eq!(shaped["transform"]["method"], "PATCH", "{shaped}");
    post_event(&client, alert("evt_gz")).await;
    let requests = receiver.wait_for(2, WAIT).await;
    for request in &requests {
        assert_eq!(
            request.header("content-encoding"),
            Some("gzip"),
            "{request:?}"
        );
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&request.body[..])
            .read_to_end(&mut json)
            .expect("a gzip body");
        // The signature covers the body a receiver reads once it has
        // undone the content-encoding.
        let mut decoded = request.clone();
        decoded.body = json.clone().into();
        verify(&decoded);
        assert!(
            standardwebhooks::Webhook::new(SECRET)
                .unwrap()
                .verify(&request.body, &request.headers)
                .is_err(),
            "the compressed bytes are not what is signed"
        );
        let body: Value = serde_json::from_slice(&json).expect("JSON inside");
        assert_eq!(body["id"], "evt_gz");
        let has_trace = body["data"].get("stack_trace").is_some();
        match request.path.as_str() {
            "/gzip-plain" => {
                assert_eq!(request.method, "POST");
                assert!(has_trace, "{body}");
            }
            "/gzip-shaped" => {
                assert_eq!(request.method, "PATCH");
                assert!(!has_trace, "{body}");
            }
            other => panic!("unexpected path {other}"),
        }
    }
}

#[tokio::test]
async fn a_form_body_carries_the_templates_fields() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/form"),
            json!({"secret": SECRET, "transform": {"content_type": "application/x-www-form-urlencoded",
                   "template": r#"{"event": {{ event.type }}, "severity": {{ event.data.severity }},
                                   "run": {{ event.data.run }}, "user": {{ event.data.user }}}"#}}),
        ),
    )
    .await;
    post_event(&client, alert("evt_form")).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    verify(&request);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("event".to_string(), "compliance.alert".to_string()),
            ("severity".to_string(), "high".to_string()),
            ("run".to_string(), "7".to_string()),
            (
                "user".to_string(),
                r#"{"email":"ada@example.com","password":"hunter2"}"#.to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn a_batch_is_the_array_of_what_each_event_becomes() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/batch"),
            json!({"secret": SECRET, "batch": {"max_events": 3, "max_wait_ms": 200},
                   "transform": {"template": "{\"n\": {{ event.data.n }}}"}}),
        ),
    )
    .await;
    let events: Vec<Value> = (0..3)
        .map(|n| json!({"id": format!("evt_bt_{n}"), "type": "job.done", "data": {"n": n}}))
        .collect();
    let (status, body) = client
        .post("/api/v1/events/batch", json!({"events": events}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    verify(&request);
    assert_eq!(request.json(), json!([{"n": 0}, {"n": 1}, {"n": 2}]));
}

#[tokio::test]
async fn zapier_renders_from_the_shaped_data_and_takes_the_template() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        json!({"name": "zap shaped", "provider": "zapier",
               "url": receiver.url("/hooks/catch/1/shaped/"),
               "transform": {"exclude": ["stack_trace", "user"]}}),
    )
    .await;
    create_webhook(
        &client,
        json!({"name": "zap templated", "provider": "zapier",
               "url": receiver.url("/hooks/catch/1/templated/"),
               "transform": {"template": "{\"sev\": {{ event.data.severity }}}", "compression": "gzip"}}),
    )
    .await;
    post_event(&client, alert("evt_zap")).await;
    for request in receiver.wait_for(2, WAIT).await {
        if request.path.ends_with("/shaped/") {
            let text = String::from_utf8_lossy(&request.body).to_string();
            // Dropped from the data and from the notification derived from it.
            assert!(
                !text.contains("hunter2") && !text.contains("main.rs"),
                "{text}"
            );
            assert_eq!(request.json()["data"]["severity"], "high");
        } else {
            assert_eq!(request.header("content-encoding"), Some("gzip"));
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(&request.body[..])
                .read_to_end(&mut json)
                .expect("a gzip body");
            assert_eq!(
                serde_json::from_slice::<Value>(&json).unwrap(),
                json!({"sev": "high"})
            );
        }
    }
}

#[tokio::test]
async fn a_template_that_fails_for_an_event_fails_its_delivery_at_once() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/raw"),
            json!({"transform": {"template": "{{ event.data.raw | safe }}"}}),
        ),
    )
    .await;
    post_event(
        &client,
        json!({"id": "evt_bad_json", "type": "x.y", "data": {"raw": "not json {"}}),
    )
    .await;
    post_event(
        &client,
        json!({"id": "evt_good_json", "type": "x.y", "data": {"raw": "{\"ok\": true}"}}),
    )
    .await;
    let delivery = only_delivery_for_event(&client, "evt_bad_json").await;
    let delivery = wait_for_delivery_status(&client, &delivery, "failed", WAIT).await;
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "no retries: {delivery:#}");
    assert_eq!(attempts[0]["error_category"], "transform", "{delivery:#}");
    let message = attempts[0]["error_message"].as_str().unwrap();
    assert!(
        message.contains("transform.template") && message.contains("not JSON"),
        "{message}"
    );
    // The other event's body was fine, and it alone reached the receiver.
    let requests = receiver.wait_for(1, WAIT).await;
    assert_eq!(requests[0].json(), json!({"ok": true}));
    receiver
        .assert_quiet(
            std::time::Duration::from_millis(300),
            1,
            "the failed one is not sent",
        )
        .await;
}

#[tokio::test]
async fn transform_mistakes_are_422s_naming_the_field() {
    let server = TestServer::start().await;
    let client = server.client();
    let url = "https://example.com/hook";
    let cases = [
        (
            json!({"template": "{{ event.data.x "}),
            "transform.template",
        ),
        (
            json!({"template": "{{ event.data | nosuchfilter }}"}),
            "transform.template",
        ),
        (json!({"template": ""}), "transform.template"),
        (
            json!({"include": ["ok", "bad..path"]}),
            "transform.include[1]",
        ),
        (json!({"exclude": [""]}), "transform.exclude[0]"),
        (json!({"rename": {"a": ".b"}}), "transform.rename.a"),
        (json!({"method": "GET"}), "transform.method"),
        (
            json!({"content_type": "text/xml"}),
            "transform.content_type",
        ),
        (json!({"compression": "brotli"}), "transform.compression"),
        (json!({"unknown": 1}), "transform.unknown"),
        (json!("just text"), "transform"),
    ];
    for (transform, field) in cases {
        let (status, body) = client
            .post(
                "/api/v1/webhooks",
                webhook_body(url, json!({"transform": transform})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{transform}: {body}"
        );
        assert_eq!(body["error"]["field"], field, "{transform}: {body}");
    }
    // Only providers whose JSON Herald builds take a transform.
    let (status, body) = client
        .post(
            "/api/v1/webhooks",
            json!({"name": "s", "provider": "slack", "url": "https://hooks.slack.com/services/T0/B0/x",
                   "transform": {"exclude": ["a"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "transform", "{body}");
    // A form cannot carry a batch.
    let (status, body) = client
        .post(
            "/api/v1/webhooks",
            webhook_body(
                url,
                json!({"batch": {"max_events": 5},
                                     "transform": {"content_type": "form"}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "transform.content_type", "{body}");

    // PATCH sets, checks and clears it.
    let created = create_webhook(&client, webhook_body(url, json!({}))).await;
    let id = created["id"].as_str().unwrap();
    assert!(created["transform"].is_null(), "{created}");
    let path = format!("/api/v1/webhooks/{id}");
    let (status, body) = client
        .patch(&path, json!({"transform": {"template": "{% if %}"}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "transform.template", "{body}");
    let (status, body) = client
        .patch(&path, json!({"transform": {"exclude": ["secret"]}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["transform"]["exclude"], json!(["secret"]), "{body}");
    let (status, body) = client.patch(&path, json!({"transform": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["transform"].is_null(), "{body}");
}
