//! `herald-client` against the real server: every route through the typed
//! client, its errors sorted by kind with the API's body, and its
//! `verify` accepting what Herald really sends under each scheme.

use std::time::Duration;

use herald_client::{
    AnalyticsQuery, AuditFilter, Client, ClientConfig, DeliveryFilter, DeliveryStatus, ErrorKind,
    EventFilter, Filter, FilterTest, Granularity, NewEvent, NewWebhook, RetryPolicy, RetryWindow,
    RotateSecret, Scheme, SignatureConfig, SignatureScheme, TestRequest, VerifyError,
    WebhookFilter, WebhookPatch, WebhookStatus, verify,
};
use serde_json::json;

use crate::common::{ADMIN_TOKEN, Receiver, Reply, TestServer, WAIT, closed_port};

fn client_of(server: &TestServer) -> Client {
    Client::new(ClientConfig::new(server.url("")).token(ADMIN_TOKEN)).expect("client")
}

fn hook(name: &str, url: &str) -> NewWebhook {
    NewWebhook::new(name, url)
}

/// Polls a delivery until it reaches `status`.
async fn wait_for_status(
    client: &Client,
    id: &str,
    status: DeliveryStatus,
) -> herald_client::DeliveryDetail {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let delivery = client.get_delivery(id).await.expect("get delivery");
        if delivery.delivery.status == status {
            return delivery;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "delivery {id} stayed {:?}, never {status:?}",
            delivery.delivery.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn webhooks_through_the_client() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = client_of(&server);

    let mut new = hook("first", &receiver.url("/a"));
    new.tags = Some(vec!["ml".into()]);
    new.event_types = Some(vec!["training.*".into()]);
    new.description = Some("to be reset".into());
    let first = client.create_webhook(&new).await.expect("create");
    assert!(
        first
            .secret
            .as_deref()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    assert_eq!(first.status, WebhookStatus::Active);
    let second = client
        .create_webhook(&hook("second", &receiver.url("/b")))
        .await
        .expect("create second");

    // Reads carry health and never the secret.
    let read = client.get_webhook(&first.id).await.expect("get");
    assert_eq!(read.secret, None);
    assert!(read.health.is_some());
    assert_eq!(read.tags, vec!["ml"]);

    // Filters and pages.
    let tagged = client
        .list_webhooks(&WebhookFilter {
            tag: Some("ml".into()),
            ..Default::default()
        })
        .await
        .expect("list by tag");
    assert_eq!(
        tagged.data.iter().map(|w| &w.id).collect::<Vec<_>>(),
        [&first.id]
    );
    let subscribed = client
        .list_webhooks(&WebhookFilter {
            event_type: Some("deploy.done".into()),
            ..Default::default()
        })
        .await
        .expect("list by event type");
    assert_eq!(
        subscribed.data.iter().map(|w| &w.id).collect::<Vec<_>>(),
        [&second.id]
    );
    let page = client
        .list_webhooks(&WebhookFilter {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .expect("first page");
    assert_eq!(page.data.len(), 1);
    let cursor = page.next_cursor.expect("a second page");
    let rest = client
        .list_webhooks(&WebhookFilter {
            limit: Some(1),
            cursor: Some(cursor),
            ..Default::default()
        })
        .await
        .expect("second page");
    assert_eq!(rest.data[0].id, second.id);
    assert_eq!(rest.next_cursor, None);

    // Update: a field set, another reset to its default.
    let patch = WebhookPatch {
        name: Some("renamed".into()),
        retry: Some(RetryPolicy {
            max_retries: Some(2),
            ..Default::default()
        }),
        ..Default::default()
    }
    .reset("description");
    let updated = client
        .update_webhook(&first.id, &patch)
        .await
        .expect("update");
    assert_eq!(updated.name, "renamed");
    assert_eq!(updated.description, None);
    assert_eq!(updated.retry.max_retries, Some(2));

    // Pause, resume; enabling a webhook that is not disabled is a conflict.
    let paused = client.pause_webhook(&first.id).await.expect("pause");
    assert_eq!(paused.status, WebhookStatus::Paused);
    let resumed = client.resume_webhook(&first.id).await.expect("resume");
    assert_eq!(resumed.status, WebhookStatus::Active);
    let err = client.enable_webhook(&first.id, false).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(err.api_error().map(|e| e.code()), Some("invalid_state"));

    // A test send reaches the receiver, signed with the webhook's secret.
    let result = client
        .test_webhook(
            &first.id,
            &TestRequest {
                event_type: Some("training.test".into()),
                data: Some(json!({"n": 1})),
            },
        )
        .await
        .expect("test send");
    assert!(result.success, "{result:?}");
    assert_eq!(result.status_code, Some(200));
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    let secret = client.webhook_secret(&first.id).await.expect("secret");
    assert_eq!(Some(&secret.secret), first.secret.as_ref());
    let verified = verify(
        &secret.secret,
        &request.headers,
        &request.body,
        herald_client::verify::DEFAULT_TOLERANCE,
    )
    .expect("the test request verifies");
    assert_eq!(verified.scheme, Scheme::Standard);

    // Rotation: a new secret; the old one keeps signing for the grace.
    let rotated = client
        .rotate_secret(
            &first.id,
            &RotateSecret {
                grace_period_hours: Some(1.0),
                ..Default::default()
            },
        )
        .await
        .expect("rotate");
    assert_ne!(rotated.secret, secret.secret);
    assert_eq!(rotated.previous.len(), 1);
    assert_eq!(rotated.previous[0].secret, secret.secret);

    // The test send shows in the webhook's log; nothing failed to retry.
    let log = client
        .webhook_deliveries(&first.id, &DeliveryFilter::default())
        .await
        .expect("webhook deliveries");
    assert_eq!(log.data.len(), 1);
    assert!(log.data[0].test);
    let requeued = client
        .retry_failed(
            &first.id,
            &RetryWindow {
                max_age_hours: Some(24.0),
                ..Default::default()
            },
        )
        .await
        .expect("retry failed");
    assert_eq!(requeued.requeued, 0);
    let report = client
        .webhook_analytics(&first.id, Some(3))
        .await
        .expect("analytics");
    assert_eq!(report.period_days, 3);
    assert_eq!(report.daily.len(), 3);

    // Delete one, bulk-delete the other and one unknown.
    client.delete_webhook(&first.id).await.expect("delete");
    let err = client.get_webhook(&first.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.field(), Some("id"));
    let bulk = client
        .bulk_delete_webhooks(&[second.id.clone(), first.id.clone()])
        .await
        .expect("bulk delete");
    assert_eq!(bulk.deleted, [second.id]);
    assert_eq!(bulk.not_found, [first.id]);
}

#[tokio::test]
async fn filters_through_the_client() {
    let server = TestServer::start().await;
    let client = client_of(&server);
    let mut new = hook("filtered", "http://127.0.0.1:9/h");
    new.filter = Some(Filter {
        match_doc: Some(json!({"data.severity": "high"})),
        expr: None,
    });
    let made = client.create_webhook(&new).await.expect("create");
    assert_eq!(made.filter, new.filter);
    let test = |data: serde_json::Value| FilterTest {
        event: json!({"type": "alert", "data": data}),
        filter: None,
    };
    let yes = client
        .test_filter(&made.id, &test(json!({"severity": "high"})))
        .await
        .expect("test");
    assert!(yes.matches, "{}", yes.reason);
    let no = client
        .test_filter(&made.id, &test(json!({"severity": "low"})))
        .await
        .expect("test");
    assert!(!no.matches);
    assert_eq!(no.reason, r#"match: data.severity: "low" is not "high""#);
    let cleared = client
        .update_webhook(&made.id, &WebhookPatch::default().reset("filter"))
        .await
        .expect("clear");
    assert_eq!(cleared.filter, None);
    let bad = WebhookPatch {
        filter: Some(Filter {
            match_doc: None,
            expr: Some("event.data.severity ==".into()),
        }),
        ..WebhookPatch::default()
    };
    let e = client.update_webhook(&made.id, &bad).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(e.field(), Some("filter.expr"), "{e}");
}

#[tokio::test]
async fn events_and_deliveries_through_the_client() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = client_of(&server);
    let webhook = client
        .create_webhook(&hook("events", &receiver.url("/e")))
        .await
        .expect("create");

    let event = NewEvent::new("training.complete", json!({"accuracy": 0.968})).source("trainer");
    let sent = client
        .send_event(&event)
        .idempotency_key("key-1")
        .await
        .expect("send");
    assert_eq!(sent.deliveries, 1);
    let again = client
        .send_event(&event)
        .idempotency_key("key-1")
        .await
        .expect("send again");
    assert_eq!(
        again.id, sent.id,
        "the idempotency key returns the first answer"
    );

    let batch = client
        .send_events(&[
            NewEvent::new("deploy.done", json!({})).id("batch-1"),
            NewEvent::new("deploy.done", json!({})).id("batch-2"),
        ])
        .await
        .expect("batch");
    assert_eq!(
        batch.data.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["batch-1", "batch-2"]
    );

    let detail = client.get_event(&sent.id).await.expect("get event");
    assert_eq!(detail.event.event_type, "training.complete");
    assert_eq!(detail.event.data, json!({"accuracy": 0.968}));
    assert_eq!(detail.deliveries.len(), 1);
    let delivery_id = detail.deliveries[0].delivery_id.clone();
    let delivered = wait_for_status(&client, &delivery_id, DeliveryStatus::Delivered).await;
    let attempt = &delivered.attempts[0];
    assert_eq!(attempt.status_code, Some(200));
    assert_eq!(attempt.response_body.as_deref(), Some("ok"));
    assert!(
        attempt
            .request_headers
            .as_ref()
            .is_some_and(|h| h.contains_key("webhook-signature"))
    );

    let listed = client
        .list_events(&EventFilter {
            event_type: Some("deploy.done".into()),
            ..Default::default()
        })
        .await
        .expect("list events");
    assert_eq!(listed.data.len(), 2);
    let deliveries = client
        .list_deliveries(&DeliveryFilter {
            event_id: Some(sent.id.clone()),
            ..Default::default()
        })
        .await
        .expect("list deliveries");
    assert_eq!(deliveries.data.len(), 1);

    // A delivered delivery cannot be retried; a replay makes a new one.
    let err = client.retry_delivery(&delivery_id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let replayed = client
        .replay_event(&sent.id, Some(std::slice::from_ref(&webhook.id)))
        .await
        .expect("replay");
    assert_eq!(replayed.deliveries, 1);
    assert_eq!(replayed.webhook_ids, std::slice::from_ref(&webhook.id));
    let replayed_all = client.replay_event(&sent.id, None).await.expect("replay");
    assert_eq!(replayed_all.deliveries, 1);

    // A failed delivery is retried on request.
    let failing_receiver = Receiver::start_with_default(Reply::status(500)).await;
    let mut failing = hook("failing", &failing_receiver.url("/f"));
    failing.event_types = Some(vec!["only.failing".into()]);
    failing.retry = Some(RetryPolicy {
        max_retries: Some(0),
        ..Default::default()
    });
    let failing = client.create_webhook(&failing).await.expect("create");
    let sent = client
        .send_event(&NewEvent::new("only.failing", json!({})))
        .await
        .expect("send");
    let detail = client.get_event(&sent.id).await.expect("get");
    let failed_id = detail
        .deliveries
        .iter()
        .find(|d| d.webhook_id == failing.id)
        .expect("a delivery to the failing webhook")
        .delivery_id
        .clone();
    let failed = wait_for_status(&client, &failed_id, DeliveryStatus::Failed).await;
    assert_eq!(failed.attempts[0].status_code, Some(500));
    let retried = client.retry_delivery(&failed_id).await.expect("retry");
    assert_ne!(retried.status, DeliveryStatus::Failed);

    // `json()` is the API's answer as it came.
    let raw = client.get_event(&sent.id).json().await.expect("raw");
    assert_eq!(raw["id"], sent.id);
    assert!(raw["deliveries"].is_array());
}

/// What Herald sends verifies under each scheme, and a changed body does not.
#[tokio::test]
async fn every_signature_scheme_verifies() {
    let server = TestServer::start().await;
    let client = client_of(&server);
    for scheme in [
        SignatureScheme::Standard,
        SignatureScheme::Ed25519,
        SignatureScheme::HmacSha256Hex,
    ] {
        let receiver = Receiver::start().await;
        let mut new = hook(scheme.as_str(), &receiver.url("/s"));
        new.signature = Some(SignatureConfig {
            scheme: Some(scheme.clone()),
        });
        new.event_types = Some(vec![format!("sig.{}", scheme.as_str())]);
        let created = client.create_webhook(&new).await.expect("create");
        let key = match scheme {
            SignatureScheme::Ed25519 => created.public_key.clone().expect("public key"),
            _ => created.secret.clone().expect("secret"),
        };
        client
            .send_event(&NewEvent::new(
                format!("sig.{}", scheme.as_str()),
                json!({"n": 1}),
            ))
            .await
            .expect("send");
        let request = receiver.wait_for(1, WAIT).await.remove(0);
        let tolerance = Duration::from_secs(60);
        let verified = verify(&key, &request.headers, &request.body, tolerance)
            .unwrap_or_else(|e| panic!("{scheme}: {e}; headers {:?}", request.headers));
        assert_eq!(verified.scheme.as_str(), scheme.as_str());
        let mut tampered = request.body.to_vec();
        tampered.push(b' ');
        let err = verify(&key, &request.headers, &tampered, tolerance).unwrap_err();
        assert!(
            matches!(err, VerifyError::Mismatch { .. }),
            "{scheme}: {err}"
        );
        // The secret of another webhook does not verify it.
        let other = client
            .create_webhook(&hook("other", &receiver.url("/o")))
            .await
            .expect("create");
        let other_key = other.secret.expect("secret");
        if scheme != SignatureScheme::Ed25519 {
            let err = verify(&other_key, &request.headers, &request.body, tolerance).unwrap_err();
            assert!(
                matches!(err, VerifyError::Mismatch { .. }),
                "{scheme}: {err}"
            );
        }
    }
}

#[tokio::test]
async fn tenants_keys_and_audit_through_the_client() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let admin = client_of(&server);

    let tenant = admin.create_tenant("acme").await.expect("create tenant");
    assert!(tenant.api_key.starts_with("hrld_"));
    let listed = admin.list_tenants().await.expect("list tenants");
    assert!(listed.data.iter().any(|t| t.id == tenant.tenant.id));

    // The admin acting for the tenant creates what its key then sees.
    let as_tenant = admin.with_tenant(Some(&tenant.tenant.id));
    let created = as_tenant
        .create_webhook(&hook("tenant hook", &receiver.url("/t")))
        .await
        .expect("create for tenant");
    let keyed = admin.with_tenant(None).with_token(Some(&tenant.api_key));
    let seen = keyed
        .list_webhooks(&WebhookFilter::default())
        .await
        .expect("tenant lists");
    assert_eq!(
        seen.data.iter().map(|w| &w.id).collect::<Vec<_>>(),
        [&created.id]
    );
    let own = admin
        .list_webhooks(&WebhookFilter::default())
        .await
        .expect("default tenant lists");
    assert!(
        own.data.is_empty(),
        "the default tenant sees none of acme's"
    );

    // A tenant key may not manage tenants.
    let err = keyed.list_tenants().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert_eq!(err.status(), Some(403));

    // Keys: add one, revoke the first; the revoked one stops working.
    let key = admin.add_key(&tenant.tenant.id).await.expect("add key");
    let detail = admin
        .get_tenant(&tenant.tenant.id)
        .await
        .expect("get tenant");
    assert_eq!(detail.keys.len(), 2);
    admin
        .revoke_key(&tenant.tenant.id, &tenant.api_key_id)
        .await
        .expect("revoke");
    let err = keyed
        .list_webhooks(&WebhookFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    keyed
        .with_token(Some(&key.api_key))
        .list_webhooks(&WebhookFilter::default())
        .await
        .expect("the new key works");

    // The tenant's audit log has the webhook; the operator's the tenant.
    let audit = as_tenant
        .audit(&AuditFilter::default())
        .await
        .expect("audit");
    assert!(
        audit
            .data
            .iter()
            .any(|e| e.action == "webhook.created" && e.resource_id == created.id)
    );
    let operator = admin
        .audit(&AuditFilter {
            resource_id: Some(tenant.tenant.id.clone()),
            ..Default::default()
        })
        .await
        .expect("operator audit");
    assert!(operator.data.iter().any(|e| e.action == "tenant.created"));

    admin
        .delete_tenant(&tenant.tenant.id)
        .await
        .expect("delete tenant");
    let err = admin.get_tenant(&tenant.tenant.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = as_tenant
        .list_webhooks(&WebhookFilter::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.field(), Some("X-Herald-Tenant"));
    let err = admin.delete_tenant("tnt_default").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn errors_carry_the_api_body_and_a_kind() {
    let server = TestServer::start().await;
    let client = client_of(&server);

    let err = client
        .create_webhook(&hook("bad", "not a url"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    assert_eq!(err.status(), Some(422));
    assert_eq!(err.field(), Some("url"));
    assert!(err.to_string().contains("url"), "{err}");

    // A field this client does not name reaches the server, which names it.
    let mut typo = hook("typo", "http://127.0.0.1:9/x");
    typo.extra.insert("evnt_types".into(), json!(["*"]));
    let err = client.create_webhook(&typo).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(err.field(), Some("evnt_types"));

    let err = client
        .list_deliveries(&DeliveryFilter {
            limit: Some(0),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("limit"));

    let err = client
        .with_token(Some("wrong-token-wrong-token"))
        .stats()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.api_error().map(|e| e.code()), Some("unauthorized"));

    let nowhere = Client::new(
        ClientConfig::new(format!("http://127.0.0.1:{}", closed_port()))
            .token(ADMIN_TOKEN)
            .connect_timeout(Duration::from_secs(2)),
    )
    .expect("client");
    let err = nowhere.stats().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(err.is_retryable());

    // Nothing of the bad requests was stored.
    let all = client
        .list_webhooks(&WebhookFilter::default())
        .await
        .expect("list");
    assert!(all.data.is_empty());
}

#[tokio::test]
async fn figures_catalog_and_health_through_the_client() {
    let server = TestServer::start().await;
    let client = client_of(&server);
    let mut tagged = hook("tagged", "http://127.0.0.1:9/x");
    tagged.tags = Some(vec!["ops".into()]);
    client.create_webhook(&tagged).await.expect("create");

    assert_eq!(client.healthz().await.expect("healthz").status, "ok");
    assert_eq!(client.readyz().await.expect("readyz").status, "ready");
    let spec = client.openapi().await.expect("openapi");
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let providers = client.providers().await.expect("providers");
    assert!(
        providers
            .data
            .iter()
            .any(|p| p.name == "slack" && p.enabled)
    );
    let stats = client.stats().await.expect("stats");
    assert_eq!(stats.deliveries.total, 0);
    let summary = client.summary().await.expect("summary");
    assert_eq!(summary.webhooks.total, 1);
    assert_eq!(summary.per_webhook.len(), 1);
    let tags = client.tags().await.expect("tags");
    assert_eq!(tags.data[0].tag, "ops");
    assert_eq!(tags.data[0].webhooks, 1);
    let range = client
        .analytics(&AnalyticsQuery {
            granularity: Some(Granularity::SixHours),
            ..Default::default()
        })
        .await
        .expect("analytics");
    assert_eq!(range.meta.granularity, Granularity::SixHours);
    assert!(!range.data.is_empty(), "empty buckets are listed too");
    let err = client
        .analytics(&AnalyticsQuery {
            group_by: vec!["colour".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("group_by"));
}
