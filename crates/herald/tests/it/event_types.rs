//! The event type registry through the real server: CRUD, schema
//! validation on ingest per tenant (`off`, `warn`, `reject`) for single
//! and batch events, archived types refused to new subscriptions,
//! deprecated types flagged, who receives a type, test sends that use a
//! type's example, schemas that never reach the network, and hostile
//! input that is a 4xx, never a 500.

use std::net::TcpListener;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{ApiClient, Receiver, TestServer, create_webhook, post_event, webhook_body};

const TENANT: &str = "tnt_default";

fn order_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["order_id", "amount"],
        "properties": {
            "order_id": {"type": "string"},
            "amount": {"type": "integer", "minimum": 0},
            "lines": {"type": "array", "items": {"type": "object", "required": ["sku"]}}
        }
    })
}

async fn register_order_type(client: &ApiClient) -> Value {
    let (status, created) = client
        .post(
            "/api/v1/event-types",
            json!({
                "name": "order.created",
                "description": "An order was placed",
                "schema": order_schema(),
                "examples": [{"order_id": "o-1", "amount": 1200}],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn set_mode(client: &ApiClient, mode: &str) {
    let (status, tenant) = client
        .patch(
            &format!("/api/v1/tenants/{TENANT}"),
            json!({"schema_validation": mode}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tenant}");
    assert_eq!(tenant["schema_validation"], mode, "{tenant}");
}

async fn event_count(client: &ApiClient) -> usize {
    let (status, page) = client.get("/api/v1/events?limit=250").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn event_types_are_created_read_listed_changed_and_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = register_order_type(&client).await;
    assert_eq!(created["name"], "order.created");
    assert_eq!(created["version"], 1);
    assert_eq!(created["deprecated"], false);
    assert_eq!(created["schema"], order_schema());

    let (status, again) = client
        .post("/api/v1/event-types", json!({"name": "order.created"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"]["field"], "name");

    let (status, got) = client.get("/api/v1/event-types/order.created").await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(
        got["examples"],
        json!([{"order_id": "o-1", "amount": 1200}])
    );

    // PATCH replaces what it names; `null` resets; the name is fixed.
    let (status, patched) = client
        .patch(
            "/api/v1/event-types/order.created",
            json!({"description": "Placed", "deprecated": true, "examples": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["description"], "Placed");
    assert_eq!(patched["deprecated"], true);
    assert_eq!(patched["examples"], json!([]));
    assert_eq!(patched["schema"], order_schema(), "untouched fields stay");
    assert_eq!(patched["version"], 2);
    let (status, renamed) = client
        .patch(
            "/api/v1/event-types/order.created",
            json!({"name": "order.placed"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{renamed}");
    assert_eq!(renamed["error"]["field"], "name");

    // Lists leave archived types out unless asked, and page by name.
    for name in ["a.one", "b.two"] {
        let (status, body) = client
            .post(
                "/api/v1/event-types",
                json!({"name": name, "archived": name == "a.one"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let names = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, page) = client.get("/api/v1/event-types").await;
    assert_eq!(names(&page), ["b.two", "order.created"]);
    let (_, page) = client
        .get("/api/v1/event-types?include_archived=true&limit=2")
        .await;
    assert_eq!(names(&page), ["a.one", "b.two"]);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, page) = client
        .get(&format!(
            "/api/v1/event-types?include_archived=true&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(names(&page), ["order.created"]);
    assert_eq!(page["next_cursor"], Value::Null);

    let (status, _) = client.delete("/api/v1/event-types/b.two").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = client.get("/api/v1/event-types/b.two").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    let (status, _) = client.delete("/api/v1/event-types/b.two").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Changes are audited.
    let (_, audit) = client.get("/api/v1/audit?limit=50").await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for action in [
        "event_type.created",
        "event_type.updated",
        "event_type.deleted",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn validation_is_off_by_default_then_warns_then_rejects() {
    let server = TestServer::start().await;
    let client = server.client();
    register_order_type(&client).await;
    let bad = json!({"order_id": "o-2", "amount": "lots"});

    // Off (the default): anything goes, nothing recorded.
    let (_, tenant) = client.get(&format!("/api/v1/tenants/{TENANT}")).await;
    assert_eq!(tenant["schema_validation"], "off", "{tenant}");
    let answer = post_event(
        &client,
        json!({"type": "order.created", "id": "evt_off", "data": bad}),
    )
    .await;
    assert!(answer.get("schema_errors").is_none(), "{answer}");
    let (_, event) = client.get("/api/v1/events/evt_off").await;
    assert_eq!(event["schema_errors"], Value::Null, "{event}");

    // Warn: accepted, the errors recorded on the event.
    set_mode(&client, "warn").await;
    let answer = post_event(
        &client,
        json!({"type": "order.created", "id": "evt_warn", "data": bad}),
    )
    .await;
    assert_eq!(answer["schema_errors"][0]["pointer"], "/amount", "{answer}");
    let (_, event) = client.get("/api/v1/events/evt_warn").await;
    let errors = event["schema_errors"].as_array().expect("errors recorded");
    assert_eq!(errors[0]["pointer"], "/amount", "{event}");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("integer"),
        "{event}"
    );
    // Good data records nothing.
    post_event(
        &client,
        json!({"type": "order.created", "id": "evt_good", "data": {"order_id": "o", "amount": 1}}),
    )
    .await;
    let (_, event) = client.get("/api/v1/events/evt_good").await;
    assert_eq!(event["schema_errors"], Value::Null, "{event}");

    // Reject: a 422 naming the pointer, and nothing stored.
    set_mode(&client, "reject").await;
    let before = event_count(&client).await;
    let (status, refused) = client
        .post(
            "/api/v1/events",
            json!({"type": "order.created", "id": "evt_reject", "data": {"order_id": "o", "amount": 5, "lines": [{"sku": "a"}, {}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "schema_validation_failed");
    assert_eq!(refused["error"]["field"], "data");
    assert_eq!(refused["error"]["pointer"], "/lines/1", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/lines/1"),
        "{refused}"
    );
    let (status, _) = client.get("/api/v1/events/evt_reject").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused event is not stored"
    );
    assert_eq!(event_count(&client).await, before);

    // A batch with one bad event is refused whole, naming it.
    let (status, refused) = client
        .post(
            "/api/v1/events/batch",
            json!({"events": [
                {"type": "order.created", "id": "evt_b0", "data": {"order_id": "o", "amount": 1}},
                {"type": "unregistered.type", "id": "evt_b1", "data": {"anything": true}},
                {"type": "order.created", "id": "evt_b2", "data": {"order_id": 7, "amount": 1}},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["field"], "events[2].data", "{refused}");
    assert_eq!(refused["error"]["pointer"], "/order_id", "{refused}");
    assert_eq!(
        event_count(&client).await,
        before,
        "nothing of the batch is stored"
    );
    for id in ["evt_b0", "evt_b1", "evt_b2"] {
        let (status, _) = client.get(&format!("/api/v1/events/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
    }

    // Unregistered types and good data pass in reject mode.
    let (status, answer) = client
        .post(
            "/api/v1/events/batch",
            json!({"events": [
                {"type": "order.created", "data": {"order_id": "o", "amount": 1}},
                {"type": "unregistered.type", "data": [1, 2, 3]},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");

    // A schema change applies to the next event at once.
    let (status, _) = client
        .patch("/api/v1/event-types/order.created", json!({"schema": null}))
        .await;
    assert_eq!(status, StatusCode::OK);
    post_event(&client, json!({"type": "order.created", "data": bad})).await;

    let (status, wrong) = client
        .patch(
            &format!("/api/v1/tenants/{TENANT}"),
            json!({"schema_validation": "strict"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
    assert_eq!(wrong["error"]["field"], "schema_validation");
}

#[tokio::test]
async fn archived_types_take_no_subscriptions_and_deprecated_ones_are_flagged() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    for (name, flags) in [
        ("old.thing", json!({"archived": true})),
        ("aging.thing", json!({"deprecated": true})),
    ] {
        let mut body = json!({"name": name});
        crate::common::merge(&mut body, flags);
        let (status, created) = client.post("/api/v1/event-types", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }

    // Create and PATCH refuse an archived exact name, naming the entry.
    let (status, refused) = client
        .post(
            "/api/v1/webhooks",
            webhook_body(
                &receiver.url("/h"),
                json!({"event_types": ["a.b", "old.thing"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "event_type_archived");
    assert_eq!(refused["error"]["field"], "event_types[1]");

    // A pattern that covers it is fine.
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/h"),
            json!({"event_types": ["old.*", "aging.thing"]}),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let (status, refused) = client
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"event_types": ["old.thing"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["field"], "event_types[0]");
    let (status, refused) = client
        .post(
            &format!("/api/v1/webhooks/{id}/subscriptions/old.thing"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "event_type_archived");

    // Deprecated types are flagged in the subscriptions and on ingest.
    let (status, subs) = client
        .get(&format!("/api/v1/webhooks/{id}/subscriptions"))
        .await;
    assert_eq!(status, StatusCode::OK, "{subs}");
    assert_eq!(subs["deprecated"], json!(["aging.thing"]), "{subs}");
    let answer = post_event(&client, json!({"type": "aging.thing"})).await;
    assert_eq!(answer["deprecated"], true, "{answer}");
    let answer = post_event(&client, json!({"type": "fresh.thing"})).await;
    assert!(answer.get("deprecated").is_none(), "{answer}");

    // Who receives a type: exact names and patterns, with what matched.
    let other = create_webhook(
        &client,
        webhook_body(&receiver.url("/o"), json!({"event_types": ["*"]})),
    )
    .await;
    let (status, receivers) = client.get("/api/v1/event-types/old.thing/webhooks").await;
    assert_eq!(status, StatusCode::OK, "{receivers}");
    let mut found: Vec<(String, Value)> = receivers["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap().to_string(),
                w["matched_by"].clone(),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (id.to_string(), json!(["old.*"])),
        (other["id"].as_str().unwrap().to_string(), json!(["*"])),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found, expected, "{receivers}");
    let (_, receivers) = client.get("/api/v1/event-types/nobody.gets/webhooks").await;
    assert_eq!(receivers["data"].as_array().unwrap().len(), 1, "only `*`");
    let (status, _) = client.get("/api/v1/event-types/bad%20name/webhooks").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_test_send_uses_the_types_example_when_no_data_is_given() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    register_order_type(&client).await;
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/t"),
            json!({"event_types": ["order.created"]}),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let (status, result) = client
        .post(
            &format!("/api/v1/webhooks/{id}/test"),
            json!({"event_type": "order.created"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"], true, "{result}");
    let sent = receiver.requests()[0].json();
    assert_eq!(sent["type"], "order.created");
    assert_eq!(sent["data"], json!({"order_id": "o-1", "amount": 1200}));

    // Data given wins over the example.
    let (status, _) = client
        .post(
            &format!("/api/v1/webhooks/{id}/test"),
            json!({"event_type": "order.created", "data": {"mine": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receiver.requests()[1].json()["data"], json!({"mine": 1}));
}

#[tokio::test]
async fn schemas_never_reach_the_network() {
    let server = TestServer::start().await;
    let client = server.client();
    // A listener that would see any fetch of the schema's `$ref`.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    for schema in [
        json!({"$ref": format!("http://127.0.0.1:{port}/schema.json")}),
        json!({"properties": {"a": {"$ref": format!("http://127.0.0.1:{port}/a.json")}}}),
        json!({"$ref": "file:///etc/passwd"}),
    ] {
        let (status, refused) = client
            .post(
                "/api/v1/event-types",
                json!({"name": "remote.ref", "schema": schema}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["error"]["field"], "schema", "{refused}");
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "no connection was made for a remote $ref"
    );
    // A reference inside the schema is fine.
    let (status, created) = client
        .post(
            "/api/v1/event-types",
            json!({"name": "local.ref", "schema": {"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test]
async fn hostile_event_types_are_refused_with_a_4xx() {
    let server = TestServer::start().await;
    let client = server.client();
    let huge = json!({"type": "object", "description": "x".repeat(70 * 1024)});
    let cases = [
        (json!({"name": "a.b", "schema": huge}), "schema"),
        (
            json!({"name": "a.b", "schema": {"type": "nonsense"}}),
            "schema",
        ),
        (json!({"name": "a.b", "schema": 3}), "schema"),
        (
            json!({"name": "a.b", "schema": {"type": "string", "pattern": "("}}),
            "schema",
        ),
        (json!({"name": "a\u{0}b"}), "name"),
        (json!({"name": "has space"}), "name"),
        (
            json!({"name": "a.b", "description": "nul \u{0} here"}),
            "description",
        ),
        (json!({"name": 5}), "name"),
        (json!({"name": "a.b", "deprecated": "yes"}), "deprecated"),
        (json!({"name": "a.b", "examples": {}}), "examples"),
        (
            json!({"name": "a.b", "examples": vec![json!({}); 11]}),
            "examples",
        ),
        (json!({"name": "a.b", "nope": 1}), "nope"),
        (
            json!({"name": "a.b", "schema": {"type": "integer"}, "examples": [1, "two"]}),
            "examples[1]",
        ),
        (
            json!({"name": "a.b", "schema": {"type": "object", "required": ["a\u{0}"]}}),
            "",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = client.post("/api/v1/event-types", body.clone()).await;
        if field.is_empty() {
            // A NUL inside a schema is JSON like any other: kept as text.
            assert!(status.is_success(), "{body}: {status} {answer}");
            client.delete("/api/v1/event-types/a.b").await;
            continue;
        }
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let raw = client
        .send_raw(
            Method::POST,
            "/api/v1/event-types",
            "application/json",
            b"{\"name\": \"a.b\", \"schema\": {".to_vec(),
        )
        .await;
    assert!(raw.status.is_client_error(), "{:?}", raw.body);
    let raw = client
        .send_raw(
            Method::PATCH,
            "/api/v1/event-types/a.b",
            "application/json",
            b"[1,2]".to_vec(),
        )
        .await;
    assert!(raw.status.is_client_error(), "{:?}", raw.body);
    for path in [
        "/api/v1/event-types/no.such",
        "/api/v1/event-types/%00",
        "/api/v1/event-types?cursor=%00",
        "/api/v1/event-types?limit=0",
        "/api/v1/event-types?include_archived=maybe",
    ] {
        let (status, answer) = client.get(path).await;
        assert!(status.is_client_error(), "{path}: {status} {answer}");
    }
    let (status, answer) = client
        .patch("/api/v1/event-types/no.such", json!({"description": "x"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}
