//! Webhook CRUD: creation defaults, secret exposure, list filters and
//! pagination, partial updates and deletes.

use crate::common::{ApiClient, TestServer, create_webhook, webhook_body};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

const URL: &str = "http://127.0.0.1:9/hook";

/// The ids in a list answer, in order.
fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array in {list}"))
        .iter()
        .map(|w| w["id"].as_str().expect("id").to_string())
        .collect()
}

/// Follows `next_cursor` from `path` to the end; returns the ids per page.
async fn pages(client: &ApiClient, path: &str) -> Vec<Vec<String>> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{separator}cursor={c}"),
            None => path.to_string(),
        };
        let (status, list) = client.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {list}");
        pages.push(ids(&list));
        match &list["next_cursor"] {
            Value::Null => return pages,
            Value::String(next) => cursor = Some(next.clone()),
            other => panic!("next_cursor must be a string or null, got {other}"),
        }
        assert!(
            pages.len() <= 10,
            "pagination does not terminate: {pages:?}"
        );
    }
}

#[tokio::test]
async fn create_applies_defaults_and_reveals_secret_only_on_request() {
    let server = TestServer::start().await;
    let client = server.client();

    let created = create_webhook(&client, webhook_body(URL, json!({ "name": "ci" }))).await;
    let id = created["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("wh_"), "id {id}");
    assert_eq!(created["name"], "ci");
    assert_eq!(created["url"], URL);
    assert_eq!(created["description"], Value::Null);
    assert_eq!(created["event_types"], json!(["*"]));
    assert_eq!(created["status"], "active");
    assert_eq!(created["tags"], json!([]));
    assert_eq!(created["headers"], json!({}));
    assert_eq!(created["auth"], json!({ "type": "none" }));
    assert_eq!(
        created["retry"],
        json!({
            "strategy": "exponential", "max_retries": 5, "initial_delay_ms": 1000,
            "multiplier": 2.0, "max_delay_ms": 3600000, "jitter": true, "retry_on_status": []
        })
    );
    assert_eq!(created["timeout_ms"], 30000);
    assert_eq!(created["signature"], json!({ "scheme": "standard" }));
    assert_eq!(created["max_in_flight"], 10);
    assert_eq!(created["metadata"], json!({}));
    assert!(created["created_at"].is_string() && created["updated_at"].is_string());

    // A generated secret is whsec_ + base64 of 24 to 64 bytes.
    let secret = created["secret"].as_str().expect("secret on create");
    let key = secret.strip_prefix("whsec_").expect("whsec_ prefix");
    let key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .expect("secret is base64");
    assert!((24..=64).contains(&key.len()), "key of {} bytes", key.len());

    let (status, fetched) = client.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        fetched.get("secret").is_none(),
        "GET leaks secret: {fetched}"
    );
    let mut without_secret = created.clone();
    without_secret.as_object_mut().unwrap().remove("secret");
    // Reads add the webhook's health: nothing sent yet.
    let mut fetched = fetched;
    let health = fetched.as_object_mut().unwrap().remove("health").unwrap();
    assert_eq!(health["state"], "unknown", "{health}");
    assert_eq!(fetched, without_secret);

    let (_, list) = client.get("/api/v1/webhooks").await;
    assert_eq!(ids(&list), [id.as_str()]);
    assert!(
        list["data"][0].get("secret").is_none(),
        "list leaks secret: {list}"
    );

    let (status, patched) = client
        .patch(&format!("/api/v1/webhooks/{id}"), json!({ "tags": ["x"] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert!(
        patched.get("secret").is_none(),
        "PATCH leaks secret: {patched}"
    );

    let (status, revealed) = client.get(&format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        revealed,
        json!({ "secret": secret, "public_key": null, "previous": [] })
    );
}

#[tokio::test]
async fn list_filters_and_paginates_oldest_first() {
    let server = TestServer::start().await;
    let client = server.client();

    let specs = [
        ("a", json!(["training.complete"]), json!(["ml"]), "active"),
        ("b", json!(["hpo.*"]), json!(["ml", "hpo"]), "paused"),
        ("c", json!(["*"]), json!([]), "active"),
        ("d", json!(["deploy.done"]), json!(["ops"]), "paused"),
        ("e", json!(["hpo.trial.done"]), json!(["hpo"]), "active"),
        ("f", json!(["billing.*"]), json!(["ops"]), "active"),
        ("g", json!(["hpox.a"]), json!([]), "active"),
    ];
    let mut by_name = std::collections::HashMap::new();
    let mut all = Vec::new();
    for (name, event_types, tags, status) in specs {
        let created = create_webhook(
            &client,
            webhook_body(
                URL,
                json!({ "name": name, "event_types": event_types, "tags": tags, "status": status }),
            ),
        )
        .await;
        let id = created["id"].as_str().unwrap().to_string();
        by_name.insert(name, id.clone());
        all.push(id);
    }
    let named =
        |names: &[&str]| -> Vec<String> { names.iter().map(|n| by_name[n].clone()).collect() };

    // Three pages of 3, 3 and 1, together all webhooks in creation order.
    let paged = pages(&client, "/api/v1/webhooks?limit=3").await;
    assert_eq!(
        paged.iter().map(Vec::len).collect::<Vec<_>>(),
        [3, 3, 1],
        "{paged:?}"
    );
    assert_eq!(paged.concat(), all);

    let filtered = |query: &'static str| {
        let client = client.clone();
        async move {
            let (status, list) = client.get(&format!("/api/v1/webhooks?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {list}");
            ids(&list)
        }
    };
    assert_eq!(filtered("status=paused").await, named(&["b", "d"]));
    assert_eq!(
        filtered("status=active").await,
        named(&["a", "c", "e", "f", "g"])
    );
    assert_eq!(filtered("tag=ml").await, named(&["a", "b"]));
    assert_eq!(filtered("tag=hpo").await, named(&["b", "e"]));
    // event_type selects webhooks that would receive that event: exact, `*`
    // and prefix patterns, where `hpo.*` does not match `hpo` or `hpox.a`.
    assert_eq!(
        filtered("event_type=hpo.trial.done").await,
        named(&["b", "c", "e"])
    );
    assert_eq!(filtered("event_type=hpo").await, named(&["c"]));
    assert_eq!(filtered("event_type=hpox.a").await, named(&["c", "g"]));
    assert_eq!(
        filtered("status=active&event_type=hpo.trial.done").await,
        named(&["c", "e"])
    );

    // Filters and pagination compose.
    let paged = pages(&client, "/api/v1/webhooks?tag=ops&limit=1").await;
    assert_eq!(paged.concat(), named(&["d", "f"]), "{paged:?}");
}

#[tokio::test]
async fn patch_replaces_only_the_fields_sent() {
    let server = TestServer::start().await;
    let client = server.client();

    let created = create_webhook(
        &client,
        webhook_body(
            URL,
            json!({
                "name": "before",
                "description": "nightly runs",
                "event_types": ["training.*"],
                "tags": ["ml"],
                "headers": { "X-Team": "research" },
                "retry": { "strategy": "linear", "max_retries": 7, "initial_delay_ms": 500, "jitter": false },
                "timeout_ms": 5000,
                "max_in_flight": 3,
                "metadata": { "owner": "alice" }
            }),
        ),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");

    let (status, patched) = client.patch(&path, json!({ "name": "after" })).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    // Everything except the name (and the update time) is unchanged.
    let strip = |v: &Value| {
        let mut v = v.clone();
        let o = v.as_object_mut().unwrap();
        for k in ["name", "updated_at", "secret"] {
            o.remove(k);
        }
        v
    };
    assert_eq!(patched["name"], "after");
    assert_eq!(strip(&patched), strip(&created));
    let (_, mut fetched) = client.get(&path).await;
    // Reads add the webhook's health.
    assert!(fetched.as_object_mut().unwrap().remove("health").is_some());
    assert_eq!(fetched, patched, "GET after PATCH");

    // A nested object is replaced whole: unsent retry settings reset.
    let (status, patched) = client
        .patch(&path, json!({ "retry": { "max_retries": 2 } }))
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["retry"],
        json!({
            "strategy": "exponential", "max_retries": 2, "initial_delay_ms": 1000,
            "multiplier": 2.0, "max_delay_ms": 3600000, "jitter": true, "retry_on_status": []
        })
    );
    assert_eq!(patched["tags"], json!(["ml"]));

    // null resets an optional field to its default.
    let (status, patched) = client
        .patch(&path, json!({ "description": null, "tags": null }))
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["tags"], json!([]));
    assert_eq!(patched["timeout_ms"], 5000);

    // The secret cannot be changed through PATCH.
    let (status, error) = client
        .patch(
            &path,
            json!({ "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "secret");

    // Invalid PATCH values are validated like on creation.
    let (status, error) = client.patch(&path, json!({ "timeout_ms": 5 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "timeout_ms");
}

#[tokio::test]
async fn delete_answers_204_then_404() {
    let server = TestServer::start().await;
    let client = server.client();

    let keep = create_webhook(&client, webhook_body(URL, json!({ "name": "keep" }))).await;
    let gone = create_webhook(&client, webhook_body(URL, json!({ "name": "gone" }))).await;
    let path = format!("/api/v1/webhooks/{}", gone["id"].as_str().unwrap());

    let (status, body) = client.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, Value::Null, "204 has no body");

    let (status, body) = client.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(body["error"]["field"], "id");
    let (status, _) = client.delete(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, list) = client.get("/api/v1/webhooks").await;
    assert_eq!(ids(&list), [keep["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn bulk_delete_reports_unknown_ids() {
    let server = TestServer::start().await;
    let client = server.client();

    let a = create_webhook(&client, webhook_body(URL, json!({ "name": "a" }))).await;
    let b = create_webhook(&client, webhook_body(URL, json!({ "name": "b" }))).await;
    let c = create_webhook(&client, webhook_body(URL, json!({ "name": "c" }))).await;
    let unknown = "wh_01JD8X3K5M9Q2R4T6V8W0Y1Z3A";

    let (status, answer) = client
        .post(
            "/api/v1/webhooks/bulk-delete",
            json!({ "ids": [a["id"], unknown, b["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({ "deleted": [a["id"], b["id"]], "not_found": [unknown] })
    );

    let (_, list) = client.get("/api/v1/webhooks").await;
    assert_eq!(ids(&list), [c["id"].as_str().unwrap()]);

    // An empty id list is outside 1–1,000.
    let (status, error) = client
        .post("/api/v1/webhooks/bulk-delete", json!({ "ids": [] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "ids");
}

/// A header the HTTP client would refuse to send (DEL, other control
/// characters) used to be accepted, and every delivery then failed for
/// good. It is refused at create and PATCH, naming the field.
#[tokio::test]
async fn headers_the_client_cannot_send_are_refused_at_create_and_patch() {
    let server = TestServer::start().await;
    let client = server.client();
    for value in ["a\u{7f}b", "bell\u{7}", "nul\u{0}"] {
        let (status, body) = client
            .post(
                "/api/v1/webhooks",
                webhook_body(URL, json!({"headers": {"X-Custom": value}})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{value:?}: {body}"
        );
        assert_eq!(body["error"]["field"], "headers.X-Custom", "{body}");
    }
    let webhook = create_webhook(
        &client,
        webhook_body(URL, json!({"headers": {"X-Ok": "fine"}})),
    )
    .await;
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let (status, body) = client
        .patch(&path, json!({"headers": {"X-Ok": "del\u{7f}"}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "headers.X-Ok", "{body}");
    let (status, body) = client
        .patch(
            &path,
            json!({"auth": {"type": "api_key", "key": "k\u{7f}"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "auth.key", "{body}");
    let (_, stored) = client.get(&path).await;
    assert_eq!(stored["headers"]["X-Ok"], "fine", "{stored}");
}

#[tokio::test]
async fn retry_schedule_shows_each_wait_and_the_total() {
    let server = TestServer::start().await;
    let client = server.client();
    let policy = json!({"strategy": "exponential", "max_retries": 4, "initial_delay_ms": 30000,
                        "multiplier": 1.5, "max_delay_ms": 60000, "jitter": false});
    let created = create_webhook(
        &client,
        webhook_body(URL, json!({"retry": policy, "timeout_ms": 10000})),
    )
    .await;
    let id = created["id"].as_str().expect("id");

    let (status, schedule) = client
        .get(&format!("/api/v1/webhooks/{id}/retry-schedule"))
        .await;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    assert_eq!(schedule["webhook_id"], id);
    assert_eq!(schedule["retry"]["max_retries"], 4);
    let column = |name: &str| -> Vec<u64> {
        schedule["attempts"]
            .as_array()
            .unwrap_or_else(|| panic!("no attempts in {schedule}"))
            .iter()
            .map(|a| a[name].as_u64().expect(name))
            .collect()
    };
    assert_eq!(column("attempt"), [1, 2, 3, 4, 5]);
    // 30 s, ×1.5, capped at 60 s.
    assert_eq!(column("delay_ms"), [0, 30_000, 45_000, 60_000, 60_000]);
    assert_eq!(
        column("since_first_ms"),
        [0, 30_000, 75_000, 135_000, 195_000]
    );
    assert_eq!(schedule["total_ms"], 195_000);
    assert_eq!(schedule["total_max_ms"], 195_000);
    assert_eq!(schedule["worst_case_ms"], 195_000 + 5 * 10_000);

    // Someone else's (or no) webhook is a 404 like every other read.
    let (status, body) = client
        .get("/api/v1/webhooks/wh_missing/retry-schedule")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn subscriptions_add_and_remove_one_event_type_at_a_time() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = create_webhook(
        &client,
        webhook_body(URL, json!({"event_types": ["compliance.alert"]})),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let path = |t: &str| format!("/api/v1/webhooks/{id}/subscriptions/{t}");

    let (status, added) = client.post(&path("phi_access"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        added["event_types"],
        json!(["compliance.alert", "phi_access"])
    );
    // Again: nothing changes.
    let (_, again) = client.post(&path("phi_access"), json!({})).await;
    assert_eq!(again["event_types"], added["event_types"]);
    let (status, listed) = client
        .get(&format!("/api/v1/webhooks/{id}/subscriptions"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed,
        json!({
            "webhook_id": id,
            "event_types": ["compliance.alert", "phi_access"],
            "deprecated": [],
        })
    );
    // Routed at once.
    let (_, sent) = client
        .post("/api/v1/events", json!({"type": "phi_access"}))
        .await;
    assert_eq!(sent["deliveries"], 1, "{sent}");

    let (status, removed) = client.delete(&path("compliance.alert")).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["event_types"], json!(["phi_access"]));
    let (status, last) = client.delete(&path("phi_access")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{last}");
    assert_eq!(last["error"]["code"], "last_subscription");
    let (status, absent) = client.delete(&path("never.subscribed")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{absent}");
    let (status, bad) = client.post(&path("not%20a%20type"), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["error"]["field"], "event_type");
    let (status, _) = client
        .post(
            "/api/v1/webhooks/wh_01JD8X3K5M9Q2R4T6V8W0Y1Z3A/subscriptions/a",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, audit) = client.get("/api/v1/audit").await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"webhook.subscribed"), "{actions:?}");
    assert!(actions.contains(&"webhook.unsubscribed"), "{actions:?}");
}
