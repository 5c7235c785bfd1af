//! Tenants and API keys: a tenant's key reaches only its own webhooks,
//! events, deliveries, stats and audit entries; every route answers 404 for
//! another tenant's ids (403 for the operator's routes) without leaking a
//! byte of the other tenant's data; revoked keys stop at once.

use std::num::NonZeroU32;

use crate::common::*;
use axum::http::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates a tenant with the admin client; returns its id and API key.
async fn create_tenant(admin: &ApiClient, name: &str) -> (String, String) {
    let (status, body) = admin.post("/api/v1/tenants", json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let key = body["api_key"].as_str().unwrap().to_string();
    assert!(id.starts_with("tnt_"), "{id}");
    assert!(key.starts_with("hrld_key_"), "{key}");
    (id, key)
}

/// What tenant B owns, for A to poke at.
struct Owned {
    webhook_id: String,
    event_id: String,
    delivery_id: String,
}

/// Markers that appear only in tenant B's data: none may reach A.
const B_MARKERS: &[&str] = &["bravo-webhook-name", "bravo-secret-data", "bravo-receiver"];

async fn populate_b(b: &ApiClient, receiver: &Receiver) -> Owned {
    let webhook = create_webhook(
        b,
        json!({
            "name": "bravo-webhook-name",
            "url": receiver.url("/bravo-receiver"),
            "description": "bravo-webhook-name",
        }),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap().to_string();
    let event = post_event(
        b,
        json!({"type": "order.created", "data": {"note": "bravo-secret-data"}}),
    )
    .await;
    let event_id = event["id"].as_str().unwrap().to_string();
    let delivery_id = only_delivery_for_event(b, &event_id).await;
    wait_for_delivery_status(b, &delivery_id, "delivered", WAIT).await;
    Owned {
        webhook_id,
        event_id,
        delivery_id,
    }
}

fn assert_no_leak(what: &str, body: &Value) {
    let text = body.to_string();
    for marker in B_MARKERS {
        assert!(!text.contains(marker), "{what} leaked `{marker}`: {text}");
    }
}

#[tokio::test]
async fn a_tenant_key_reaches_only_its_own_tenant() {
    let server = TestServer::start().await;
    let admin = server.client();
    let receiver = Receiver::start().await;
    let (tenant_a, key_a) = create_tenant(&admin, "alpha").await;
    let (tenant_b, key_b) = create_tenant(&admin, "bravo").await;
    let a = admin.with_token(Some(&key_a));
    let b = admin.with_token(Some(&key_b));

    let owned = populate_b(&b, &receiver).await;
    // A has one webhook and one event of its own, so its lists are not
    // trivially empty.
    let own = create_webhook(
        &a,
        json!({"name": "alpha-hook", "url": receiver.url("/alpha")}),
    )
    .await;
    let own_id = own["id"].as_str().unwrap();
    post_event(&a, json!({"type": "order.created", "data": {}})).await;

    let w = &owned.webhook_id;
    let e = &owned.event_id;
    let d = &owned.delivery_id;
    let not_found: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/webhooks/{w}"), None),
        (
            Method::PATCH,
            format!("/api/v1/webhooks/{w}"),
            Some(json!({"name": "taken"})),
        ),
        (Method::DELETE, format!("/api/v1/webhooks/{w}"), None),
        (Method::GET, format!("/api/v1/webhooks/{w}/secret"), None),
        (
            Method::POST,
            format!("/api/v1/webhooks/{w}/secret/rotate"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/webhooks/{w}/test"),
            Some(json!({})),
        ),
        (Method::POST, format!("/api/v1/webhooks/{w}/enable"), None),
        (
            Method::POST,
            format!("/api/v1/webhooks/{w}/retry"),
            Some(json!({"max_age_hours": 1})),
        ),
        (
            Method::GET,
            format!("/api/v1/webhooks/{w}/deliveries"),
            None,
        ),
        (Method::GET, format!("/api/v1/events/{e}"), None),
        (
            Method::POST,
            format!("/api/v1/events/{e}/replay"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/deliveries/{d}"), None),
        (Method::POST, format!("/api/v1/deliveries/{d}/retry"), None),
    ];
    for (method, path, body) in &not_found {
        let r = a.send(method.clone(), path, body.as_ref(), &[]).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            r.body
        );
        assert_no_leak(path, &r.body);
    }

    // Lists hold only A's rows.
    let lists = [
        "/api/v1/webhooks",
        "/api/v1/events",
        "/api/v1/deliveries",
        "/api/v1/deliveries?status=delivered",
        "/api/v1/audit",
        "/api/v1/stats",
    ];
    for path in lists {
        let (status, body) = a.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_no_leak(path, &body);
        for id in [w, e, d] {
            assert!(
                !body.to_string().contains(id.as_str()),
                "{path} lists {id}: {body}"
            );
        }
    }
    let (_, webhooks) = a.get("/api/v1/webhooks").await;
    let ids: Vec<&str> = webhooks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![own_id]);

    // Bulk delete names B's id as not found and deletes nothing.
    let (status, body) = a
        .post("/api/v1/webhooks/bulk-delete", json!({"ids": [w]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], json!([]));
    assert_eq!(body["not_found"], json!([w]));

    // The same event id posted by A is A's own event, not a replay of B's.
    let (status, body) = a
        .post(
            "/api/v1/events",
            json!({"id": e, "type": "order.created", "data": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let r = a
        .send(
            Method::POST,
            "/api/v1/events",
            Some(&json!({"type": "x.y"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);

    // Admin routes are the operator's.
    let forbidden: Vec<(Method, String)> = vec![
        (Method::POST, "/api/v1/tenants".into()),
        (Method::GET, "/api/v1/tenants".into()),
        (Method::GET, format!("/api/v1/tenants/{tenant_a}")),
        (Method::GET, format!("/api/v1/tenants/{tenant_b}")),
        (Method::DELETE, format!("/api/v1/tenants/{tenant_b}")),
        (Method::POST, format!("/api/v1/tenants/{tenant_a}/keys")),
        (
            Method::DELETE,
            format!("/api/v1/tenants/{tenant_b}/keys/key_01JD0000000000000000000000"),
        ),
    ];
    for (method, path) in &forbidden {
        let r = a
            .send(method.clone(), path, Some(&json!({"name": "x"})), &[])
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            r.body
        );
        assert_no_leak(path, &r.body);
    }
    // A key cannot borrow another tenant with the admin's header.
    let r = a
        .send(
            Method::GET,
            "/api/v1/webhooks",
            None,
            &[("X-Herald-Tenant", &tenant_b)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // B's data is untouched by all of that.
    let (status, body) = b.get(&format!("/api/v1/webhooks/{w}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "bravo-webhook-name");
    // The admin reaches B with X-Herald-Tenant, and the default tenant
    // without it.
    let r = admin
        .send(
            Method::GET,
            &format!("/api/v1/webhooks/{w}"),
            None,
            &[("X-Herald-Tenant", &tenant_b)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (status, _) = admin.get(&format!("/api/v1/webhooks/{w}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = admin
        .send(
            Method::GET,
            "/api/v1/webhooks",
            None,
            &[("X-Herald-Tenant", "tnt_01JD0000000000000000000000")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test]
async fn revoked_keys_and_deleted_tenants_are_refused_at_once() {
    let server = TestServer::start().await;
    let admin = server.client();
    let (tenant, first_key) = create_tenant(&admin, "rotating").await;
    let first = admin.with_token(Some(&first_key));
    assert_eq!(first.get("/api/v1/webhooks").await.0, StatusCode::OK);

    // A second key, then the first one revoked: the first stops at once,
    // the second keeps working.
    let (status, body) = admin
        .post(&format!("/api/v1/tenants/{tenant}/keys"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let second = admin.with_token(Some(body["api_key"].as_str().unwrap()));
    let (_, details) = admin.get(&format!("/api/v1/tenants/{tenant}")).await;
    let first_id = details["keys"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(details["keys"].as_array().unwrap().len(), 2);
    assert!(
        !details.to_string().contains(&first_key),
        "keys are never shown again"
    );

    let (status, _) = admin
        .delete(&format!("/api/v1/tenants/{tenant}/keys/{first_id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = first.get("/api/v1/webhooks").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(second.get("/api/v1/webhooks").await.0, StatusCode::OK);

    // A key with a changed character is refused even though its id exists.
    let mut tampered = body_of_key(&second);
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'a' { 'b' } else { 'a' });
    let (status, _) = admin
        .with_token(Some(&tampered))
        .get("/api/v1/webhooks")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The audit log tells who did what.
    let (_, audit) = second.get("/api/v1/audit").await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "key.revoked",
            "key.created",
            "key.created",
            "tenant.created"
        ]
    );
    assert_eq!(audit["data"][0]["actor"], "admin");

    // Deleting the tenant ends every key.
    let (status, _) = admin.delete(&format!("/api/v1/tenants/{tenant}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        second.get("/api/v1/webhooks").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, operator_log) = admin.get("/api/v1/audit").await;
    assert_eq!(operator_log["data"][0]["action"], "tenant.deleted");
    assert_eq!(operator_log["data"][0]["resource_id"], tenant.as_str());
    let (status, body) = admin.delete("/api/v1/tenants/tnt_default").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

/// The bearer token a client was made with (tests only).
fn body_of_key(client: &ApiClient) -> String {
    client.token().expect("a client with a key").to_string()
}

#[tokio::test]
async fn webhook_changes_are_audited_with_secrets_masked() {
    let server = TestServer::start().await;
    let admin = server.client();
    let (_, key) = create_tenant(&admin, "audited").await;
    let client = admin.with_token(Some(&key));
    let token = "audit-bearer-token-5678";
    let webhook = create_webhook(
        &client,
        json!({
            "name": "audited",
            "url": "http://127.0.0.1:9/hook",
            "auth": {"type": "bearer", "token": token},
        }),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let (status, _) = client
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"name": "renamed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = client.delete(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (_, audit) = client.get(&format!("/api/v1/audit?resource_id={id}")).await;
    let entries = audit["data"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["webhook.deleted", "webhook.updated", "webhook.created"]
    );
    let updated = &entries[1];
    assert_eq!(updated["before"]["name"], "audited");
    assert_eq!(updated["after"]["name"], "renamed");
    assert!(updated["actor"].as_str().unwrap().starts_with("key_"));
    assert_eq!(updated["after"]["auth"]["token"], "****5678");
    assert!(!audit.to_string().contains(token), "{audit}");
    assert!(!audit.to_string().contains("whsec_"), "{audit}");
}

#[tokio::test]
async fn a_tenant_over_its_ingest_rate_gets_429_and_others_do_not() {
    let server = TestServer::start_with(|s| {
        s.tenant_events_per_second = NonZeroU32::new(5);
    })
    .await;
    let admin = server.client();
    let (_, key) = create_tenant(&admin, "busy").await;
    let busy = admin.with_token(Some(&key));
    let event = json!({"type": "x.y", "data": {}});
    let mut refused = None;
    for _ in 0..20 {
        let r = busy
            .send(Method::POST, "/api/v1/events", Some(&event), &[])
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    }
    let refused = refused.expect("20 events at once should exceed 5 per second");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    assert_eq!(refused.body["error"]["code"], "rate_limited");
    // Another tenant (here the default one) has its own budget.
    let r = admin
        .send(Method::POST, "/api/v1/events", Some(&event), &[])
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    // A batch bigger than any second's budget can never pass: a 422.
    let batch = json!({"events": vec![event.clone(); 6]});
    let (status, body) = admin.post("/api/v1/events/batch", batch).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "events");
}
