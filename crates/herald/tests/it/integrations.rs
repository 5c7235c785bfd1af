//! Native integrations end to end: for every provider a real event goes
//! through the server to a loopback receiver standing in for the service,
//! and the exact request (method, path, query, headers, auth, body) is
//! checked; the providers' answer rules are checked by the resulting
//! delivery state; the catalog and the provider switch are checked through
//! the API.

use std::time::Duration;

use crate::common::{
    ApiClient, Receiver, Reply, TestServer, WAIT, create_webhook, only_delivery_for_event,
    post_event, training_complete, wait_for_delivery_status,
};
use axum::http::Method;
use base64::Engine;
use herald_providers::{EventInput, Provider, ProviderKind, Rendered};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the provider renders for a stored event, computed in the test from
/// the event as the API reports it: the body the receiver must get, byte
/// for byte.
async fn expected_request(
    client: &ApiClient,
    webhook: &Value,
    event_id: &str,
) -> herald_providers::HttpRequest {
    let (status, event) = client.get(&format!("/api/v1/events/{event_id}")).await;
    assert_eq!(status, StatusCode::OK, "{event}");
    let timestamp_ms = chrono::DateTime::parse_from_rfc3339(event["created_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    let (_, stored) = client
        .get(&format!(
            "/api/v1/webhooks/{}",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    let kind = ProviderKind::parse(stored["provider"].as_str().unwrap()).unwrap();
    let provider = Provider::parse(
        kind,
        webhook_url(webhook).as_deref(),
        &webhook_settings(webhook),
        &herald_core::webhook::UrlPolicy::dev(),
    )
    .expect("the test's settings are valid");
    let input = EventInput {
        id: event_id,
        event_type: event["type"].as_str().unwrap(),
        timestamp_ms,
        data: &event["data"],
    };
    match provider.render(&input).expect("renders") {
        Some(Rendered::Http(request)) => request,
        other => panic!("expected an HTTP request, got {other:?}"),
    }
}

// The create answer masks credentials, so tests keep what they sent next to
// the created webhook under these keys.
fn webhook_url(webhook: &Value) -> Option<String> {
    webhook["sent"]["url"].as_str().map(str::to_string)
}
fn webhook_settings(webhook: &Value) -> Value {
    webhook["sent"]["settings"].clone()
}

async fn create(client: &ApiClient, body: Value) -> Value {
    let mut created = create_webhook(client, body.clone()).await;
    created["sent"] = body;
    created
}

/// One provider case: what to create, how the fake service answers, and
/// what must arrive.
struct Case {
    provider: &'static str,
    /// Path (and query) the webhook's URL points at on the receiver.
    url_path: &'static str,
    settings: Value,
    reply: Reply,
    method: Method,
    /// Path the request must arrive at.
    path: String,
    query: Option<&'static str>,
    /// Headers that must arrive with exactly these values.
    headers: Vec<(&'static str, String)>,
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn cases() -> Vec<Case> {
    let json_type = ("content-type", "application/json".to_string());
    vec![
        Case {
            provider: "slack",
            url_path: "/services/T000/B000/XXXX",
            settings: json!({"channel": "#ml", "username": "Herald", "icon_emoji": ":rocket:"}),
            reply: Reply::ok().body("ok"),
            method: Method::POST,
            path: "/services/T000/B000/XXXX".into(),
            query: None,
            headers: vec![json_type.clone()],
        },
        Case {
            provider: "mattermost",
            url_path: "/hooks/abc123",
            settings: json!({"channel": "town-square"}),
            reply: Reply::ok().body("ok"),
            method: Method::POST,
            path: "/hooks/abc123".into(),
            query: None,
            headers: vec![json_type.clone()],
        },
        Case {
            provider: "teams",
            url_path: "/workflows/run",
            settings: json!({}),
            reply: Reply::status(202),
            method: Method::POST,
            path: "/workflows/run".into(),
            query: None,
            headers: vec![json_type.clone()],
        },
        Case {
            provider: "teams",
            url_path: "/webhookb2/legacy",
            settings: json!({"format": "message_card"}),
            reply: Reply::ok().body("1"),
            method: Method::POST,
            path: "/webhookb2/legacy".into(),
            query: None,
            headers: vec![json_type.clone()],
        },
        Case {
            provider: "discord",
            url_path: "/api/webhooks/123/tok",
            settings: json!({"username": "Herald"}),
            reply: Reply::status(204),
            method: Method::POST,
            path: "/api/webhooks/123/tok".into(),
            query: None,
            headers: vec![json_type.clone()],
        },
        Case {
            provider: "google_chat",
            url_path: "/v1/spaces/AAA/messages?key=k&token=t",
            settings: json!({"thread_key": "{{ event.data.experiment_name }}"}),
            reply: Reply::ok().body("{}"),
            method: Method::POST,
            path: "/v1/spaces/AAA/messages".into(),
            query: Some("key=k&token=t&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"),
            headers: vec![json_type.clone()],
        },
        Case {
            provider: "pagerduty",
            url_path: "/v2/enqueue",
            settings: json!({"routing_key": "R0UT1NGKEY0123456789ABCDEFGHIJKL"}),
            reply: Reply::status(202).body(r#"{"status":"success","dedup_key":"x"}"#),
            method: Method::POST,
            path: "/v2/enqueue".into(),
            query: None,
            headers: vec![json_type.clone()],
        },
        Case {
            provider: "jira",
            url_path: "",
            settings: json!({
                "email": "bot@acme.com",
                "api_token": "jira-token-123",
                "project_key": "ML",
                "issue_type": "Task",
                "labels": ["herald"],
            }),
            reply: Reply::status(201).body(r#"{"id":"10000","key":"ML-1"}"#),
            method: Method::POST,
            path: "/rest/api/3/issue".into(),
            query: None,
            headers: vec![
                json_type.clone(),
                ("authorization", basic("bot@acme.com", "jira-token-123")),
            ],
        },
        Case {
            provider: "github",
            url_path: "",
            settings: json!({"token": "ghp_testtoken", "repository": "acme/models", "labels": ["ml"]}),
            reply: Reply::status(201).body(r#"{"number":7}"#),
            method: Method::POST,
            path: "/repos/acme/models/issues".into(),
            query: None,
            headers: vec![
                json_type.clone(),
                ("authorization", "Bearer ghp_testtoken".to_string()),
                ("accept", "application/vnd.github+json".to_string()),
                ("x-github-api-version", "2022-11-28".to_string()),
            ],
        },
        Case {
            provider: "github",
            url_path: "",
            settings: json!({
                "token": "ghp_testtoken",
                "repository": "acme/models",
                "mode": "comment",
                "issue_number": "{{ event.data.issue }}",
            }),
            reply: Reply::status(201).body(r#"{"id":1}"#),
            method: Method::POST,
            path: "/repos/acme/models/issues/42/comments".into(),
            query: None,
            headers: vec![("authorization", "Bearer ghp_testtoken".to_string())],
        },
        Case {
            provider: "datadog",
            url_path: "",
            settings: json!({"api_key": "dd-api-key-1234", "tags": ["team:ml"]}),
            reply: Reply::status(202).body(r#"{"status":"ok"}"#),
            method: Method::POST,
            path: "/api/v1/events".into(),
            query: None,
            headers: vec![json_type.clone(), ("dd-api-key", "dd-api-key-1234".into())],
        },
        Case {
            provider: "zapier",
            url_path: "/hooks/catch/123/abc",
            settings: json!({}),
            reply: Reply::ok().body(r#"{"status":"success"}"#),
            method: Method::POST,
            path: "/hooks/catch/123/abc".into(),
            query: None,
            headers: vec![json_type],
        },
    ]
}

#[tokio::test]
async fn every_provider_sends_its_native_request() {
    let server = TestServer::start().await;
    let client = server.client();
    for (i, case) in cases().into_iter().enumerate() {
        let receiver = Receiver::start_with_default(case.reply.clone()).await;
        // Jira, GitHub and Datadog take a base URL; the others a hook URL.
        let url = receiver.url(case.url_path);
        let webhook = create(
            &client,
            json!({
                "name": format!("{} hook", case.provider),
                "provider": case.provider,
                "url": url,
                "event_types": ["training.*"],
                "settings": case.settings,
            }),
        )
        .await;
        let event_id = format!("evt_provider_case_{i}");
        let mut event = training_complete(&event_id);
        event["data"]["issue"] = json!(42);
        post_event(&client, event).await;

        let requests = receiver.wait_for(1, WAIT).await;
        let request = &requests[0];
        let what = format!("{} ({})", case.provider, case.url_path);
        assert_eq!(request.method, case.method, "{what}: method");
        assert_eq!(request.path, case.path, "{what}: path");
        assert_eq!(request.query.as_deref(), case.query, "{what}: query");
        for (name, value) in &case.headers {
            assert_eq!(
                request.header(name),
                Some(value.as_str()),
                "{what}: header {name}"
            );
        }
        assert!(
            request
                .header("user-agent")
                .is_some_and(|ua| ua.starts_with("Herald/")),
            "{what}: user agent"
        );
        assert!(
            request.header("webhook-signature").is_none(),
            "{what}: integrations are not signed like webhooks"
        );
        let expected = expected_request(&client, &webhook, &event_id).await;
        assert_eq!(
            request.json(),
            serde_json::from_slice::<Value>(&expected.body).unwrap(),
            "{what}: body"
        );
        assert_eq!(
            request.body.as_ref(),
            expected.body.as_slice(),
            "{what}: exact bytes"
        );

        let delivery = only_delivery_for_event(&client, &event_id).await;
        let delivery = wait_for_delivery_status(&client, &delivery, "delivered", WAIT).await;
        // Credentials never reach the delivery log.
        let logged = delivery["attempts"][0]["request_headers"].to_string();
        for secret in ["jira-token-123", "ghp_testtoken", "dd-api-key-1234"] {
            assert!(
                !logged.contains(secret),
                "{what}: {secret} logged in {logged}"
            );
        }
        // The next case subscribes to the same events.
        let (status, _) = client
            .delete(&format!(
                "/api/v1/webhooks/{}",
                webhook["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
}

#[tokio::test]
async fn readable_content_reaches_each_chat_service() {
    // Beyond byte equality with the renderer: the parts a person reads.
    let server = TestServer::start().await;
    let client = server.client();
    let slack = Receiver::start_with_default(Reply::ok().body("ok")).await;
    let discord = Receiver::start_with_default(Reply::status(204)).await;
    let teams = Receiver::start_with_default(Reply::status(202)).await;
    for (provider, receiver) in [("slack", &slack), ("discord", &discord), ("teams", &teams)] {
        create(
            &client,
            json!({"name": provider, "provider": provider, "url": receiver.url("/hook")}),
        )
        .await;
    }
    post_event(&client, training_complete("evt_readable")).await;

    let body = slack.wait_for(1, WAIT).await[0].json();
    let text = body.to_string();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("Training complete — ResNet34"),
        "{body}"
    );
    for part in ["Accuracy", "0.968", "Duration", "14m 32s", "View results"] {
        assert!(text.contains(part), "slack message lacks {part}: {body}");
    }
    assert!(text.contains("https://ml.example.com/experiments/1234"));

    let body = discord.wait_for(1, WAIT).await[0].json();
    let embed = &body["embeds"][0];
    assert!(
        embed["title"]
            .as_str()
            .unwrap()
            .contains("Training complete — ResNet34"),
        "{body}"
    );
    assert!(embed["color"].is_u64(), "{body}");
    assert_eq!(
        embed["fields"][0]["name"], "Accuracy",
        "fields keep the event's order: {body}"
    );

    let body = teams.wait_for(1, WAIT).await[0].json();
    assert_eq!(body["type"], "message");
    let card = &body["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["version"], "1.4");
    let text = card.to_string();
    assert!(
        text.contains("FactSet") && text.contains("Action.OpenUrl"),
        "{body}"
    );
}

/// The delivery of `event_id` once it reached `status`.
async fn settled(client: &ApiClient, event_id: &str, status: &str) -> Value {
    let delivery = only_delivery_for_event(client, event_id).await;
    wait_for_delivery_status(client, &delivery, status, WAIT).await
}

#[tokio::test]
async fn slack_succeeds_only_on_ok_and_404_is_permanent() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create(
        &client,
        json!({
            "name": "slack",
            "provider": "slack",
            "url": receiver.url("/services/T/B/X"),
            "retry": {"initial_delay_ms": 50, "max_retries": 3},
        }),
    )
    .await;

    // Only a 200 with the body `ok` is a delivery.
    receiver.script([Reply::ok().body("ok")]);
    post_event(&client, training_complete("evt_slack_ok")).await;
    settled(&client, "evt_slack_ok", "delivered").await;

    // A 200 whose body is anything else is not a message Slack confirmed:
    // failed, with Slack's text as the error.
    receiver.script([Reply::ok().body("invalid_payload")]);
    post_event(&client, training_complete("evt_slack_not_ok")).await;
    let delivery = settled(&client, "evt_slack_not_ok", "failed").await;
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{delivery:#}");
    assert_eq!(attempts[0]["status_code"], 200);
    assert_eq!(
        attempts[0]["error_message"], "invalid_payload",
        "{delivery:#}"
    );

    // 404 channel_not_found: the webhook is gone; no retry.
    receiver.script([Reply::status(404).body("channel_not_found")]);
    post_event(&client, training_complete("evt_slack_404")).await;
    let delivery = settled(&client, "evt_slack_404", "failed").await;
    assert_eq!(delivery["attempt_count"], 1, "{delivery:#}");
    assert!(
        delivery["last_error"]
            .as_str()
            .unwrap()
            .contains("channel_not_found"),
        "{delivery:#}"
    );
}

#[tokio::test]
async fn discord_429_waits_for_its_json_retry_after() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create(
        &client,
        json!({
            "name": "discord",
            "provider": "discord",
            "url": receiver.url("/api/webhooks/1/t"),
            // The backoff alone would retry after 20 ms.
            "retry": {"initial_delay_ms": 20, "max_retries": 3, "jitter": false},
        }),
    )
    .await;
    receiver.script([
        Reply::status(429).body(
            r#"{"message": "You are being rate limited.", "retry_after": 0.6, "global": false}"#,
        ),
        Reply::status(204),
    ]);
    post_event(&client, training_complete("evt_discord_429")).await;
    let requests = receiver.wait_for(2, WAIT).await;
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(550),
        "retried after {gap:?}, before Discord's retry_after of 0.6 s"
    );
    let delivery = settled(&client, "evt_discord_429", "delivered").await;
    assert_eq!(delivery["attempts"][0]["status_code"], 429);
    assert_eq!(delivery["attempts"][0]["outcome"], "retry");
}

#[tokio::test]
async fn pagerduty_400_fails_at_once_with_its_message() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start_with_default(
        Reply::status(400)
            .body(r#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}"#),
    )
    .await;
    create(
        &client,
        json!({
            "name": "pd",
            "provider": "pagerduty",
            "url": receiver.url("/v2/enqueue"),
            "settings": {"routing_key": "short"},
            "retry": {"initial_delay_ms": 20},
        }),
    )
    .await;
    post_event(&client, training_complete("evt_pd_400")).await;
    let delivery = settled(&client, "evt_pd_400", "failed").await;
    assert_eq!(delivery["attempt_count"], 1, "{delivery:#}");
    assert_eq!(delivery["attempts"][0]["outcome"], "failed");
    let error = delivery["attempts"][0]["error_message"].as_str().unwrap();
    assert!(error.contains("Event object is invalid"), "{error}");
    receiver
        .assert_quiet(Duration::from_millis(300), 1, "a 400 is not retried")
        .await;
}

#[tokio::test]
async fn providers_catalog_lists_every_provider_and_what_is_switched_off() {
    let server = TestServer::start_with(|s| {
        s.disabled_providers = vec![ProviderKind::Teams];
    })
    .await;
    let client = server.client();
    let (status, body) = client.get("/api/v1/providers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let providers = body["data"].as_array().unwrap();
    let names: Vec<&str> = providers
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expected in [
        "webhook",
        "slack",
        "teams",
        "discord",
        "mattermost",
        "google_chat",
        "email",
        "pagerduty",
        "jira",
        "github",
        "datadog",
        "zapier",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let slack = providers.iter().find(|p| p["name"] == "slack").unwrap();
    assert_eq!(slack["enabled"], true);
    assert_eq!(slack["default_rate_limit"]["per_second"], 1.0);
    let settings: Vec<&str> = slack["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for s in [
        "use_rich_formatting",
        "theme_color",
        "mention_on_failure",
        "template",
    ] {
        assert!(
            settings.contains(&s),
            "slack settings lack {s}: {settings:?}"
        );
    }
    assert!(!slack["limits"].as_array().unwrap().is_empty());
    // The marketplace: set-up steps, and what the provider sends for the
    // example event, rendered by the provider itself.
    for p in providers {
        let steps = p["setup"].as_array().unwrap();
        assert!(steps.len() >= 3, "{}: {steps:?}", p["name"]);
        assert!(
            p["example"].to_string().contains("ResNet34"),
            "{}: {}",
            p["name"],
            p["example"]
        );
    }
    assert_eq!(slack["example"]["method"], "POST");
    assert!(
        slack["example"]["body"]["blocks"].is_array(),
        "{}",
        slack["example"]
    );
    let email = providers.iter().find(|p| p["name"] == "email").unwrap();
    assert!(
        email["example"]["subject"].is_string(),
        "{}",
        email["example"]
    );
    let teams = providers.iter().find(|p| p["name"] == "teams").unwrap();
    assert_eq!(teams["enabled"], false);

    // The catalog needs the token like every API route.
    let anonymous = client.with_token(None);
    let (status, _) = anonymous.get("/api/v1/providers").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_switched_off_provider_is_skipped_and_the_others_deliver() {
    let server = TestServer::start_with(|s| {
        s.disabled_providers = vec![ProviderKind::Teams];
    })
    .await;
    let client = server.client();
    let teams = Receiver::start().await;
    let plain = Receiver::start().await;
    let teams_hook = create(
        &client,
        json!({"name": "teams", "provider": "teams", "url": teams.url("/t")}),
    )
    .await;
    create(&client, json!({"name": "plain", "url": plain.url("/p")})).await;
    post_event(&client, training_complete("evt_skip")).await;

    plain.wait_for(1, WAIT).await;
    let (_, list) = client.get("/api/v1/deliveries?event_id=evt_skip").await;
    let deliveries = list["data"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 2, "{list}");
    for d in deliveries {
        let id = d["id"].as_str().unwrap();
        if d["webhook_id"] != teams_hook["id"] {
            wait_for_delivery_status(&client, id, "delivered", WAIT).await;
            continue;
        }
        let delivery = wait_for_delivery_status(&client, id, "skipped", WAIT).await;
        let attempt = &delivery["attempts"][0];
        assert_eq!(attempt["outcome"], "skipped");
        assert_eq!(attempt["error_category"], "provider_disabled");
        let message = attempt["error_message"].as_str().unwrap();
        assert!(message.contains("HERALD_DISABLED_PROVIDERS"), "{message}");
    }
    teams
        .assert_quiet(Duration::from_millis(300), 0, "teams is switched off")
        .await;
}

#[tokio::test]
async fn provider_settings_are_checked_at_create_time() {
    let server = TestServer::start().await;
    let client = server.client();
    let cases = [
        (
            json!({"provider": "carrier_pigeon", "url": "https://x.example"}),
            "provider",
        ),
        (
            json!({"provider": "slack", "url": "https://hooks.slack.com/services/T/B/X",
                   "settings": {"template": {"title": "{{ event.data.name "}}}),
            "settings.template.title",
        ),
        (
            json!({"provider": "slack", "url": "https://hooks.slack.com/services/T/B/X",
                   "settings": {"colour": "red"}}),
            "settings.colour",
        ),
        (
            json!({"provider": "slack", "url": "https://hooks.slack.com/services/T/B/X",
                   "settings": {"theme_color": "purple"}}),
            "settings.theme_color",
        ),
        (
            json!({"provider": "pagerduty", "settings": {}}),
            "settings.routing_key",
        ),
        (
            json!({"provider": "github", "settings": {"token": "t", "repository": "no-slash"}}),
            "settings.repository",
        ),
        (
            json!({"provider": "email", "settings": {"to": ["not an address"], "from": "a@b.co",
                   "smtp": {"host": "127.0.0.1"}}}),
            "settings.to[0]",
        ),
        // No HERALD_SMTP_URL on this server: the webhook must name one.
        (
            json!({"provider": "email", "settings": {"to": ["ops@acme.com"], "from": "a@b.co"}}),
            "settings.smtp.host",
        ),
        (json!({"provider": "webhook"}), "url"),
    ];
    for (body, field) in cases {
        let mut body = body;
        body["name"] = json!("bad");
        let (status, answer) = client.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} answered {answer}"
        );
        assert_eq!(answer["error"]["field"], field, "{body} answered {answer}");
    }
}

#[tokio::test]
async fn outside_dev_mode_a_slack_webhook_must_be_a_slack_url() {
    let server = TestServer::start_with(|s| s.dev = false).await;
    let client = server.client();
    let (status, answer) = client
        .post(
            "/api/v1/webhooks",
            json!({"name": "s", "provider": "slack", "url": "https://example.com/services/T/B/X"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["field"], "url", "{answer}");
    let (status, answer) = client
        .post(
            "/api/v1/webhooks",
            json!({"name": "s", "provider": "slack",
                   "url": "https://hooks.slack.com/services/T000/B000/XXXXXXXX"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // The hook URL is a credential: shown masked from now on.
    assert!(
        !answer["url"].as_str().unwrap().contains("T000/B000"),
        "{answer}"
    );
    assert!(
        answer["url"].as_str().unwrap().ends_with("XXXX"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_template_shapes_the_message() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start_with_default(Reply::ok().body("ok")).await;
    create(
        &client,
        json!({
            "name": "templated",
            "provider": "slack",
            "url": receiver.url("/services/T/B/X"),
            "settings": {"template": {
                "title": "{{ event.data.experiment_name }} finished at {{ (event.data.accuracy * 100) | round(1) }}%",
                "fields": {"Run": "{{ event.id }}"},
            }},
        }),
    )
    .await;
    post_event(&client, training_complete("evt_templated")).await;
    let body = receiver.wait_for(1, WAIT).await[0].json();
    let text = body.to_string();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("ResNet34 finished at 96.8%"),
        "{body}"
    );
    assert!(text.contains("evt_templated"), "{body}");
}

#[tokio::test]
async fn slack_messages_are_paced_to_its_one_per_second() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start_with_default(Reply::ok().body("ok")).await;
    create(
        &client,
        json!({"name": "paced", "provider": "slack", "url": receiver.url("/services/T/B/X")}),
    )
    .await;
    for i in 0..3 {
        post_event(&client, training_complete(&format!("evt_paced_{i}"))).await;
    }
    receiver.wait_for(3, WAIT).await;
    // The webhook's worker goes idle after the third; the budget does not
    // start over when it starts again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    post_event(&client, training_complete("evt_paced_after_idle")).await;
    let requests = receiver.wait_for(4, WAIT).await;
    for pair in requests.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(950),
            "Slack allows one message per second; two went {gap:?} apart"
        );
    }
}

#[tokio::test]
async fn a_datadog_metric_webhook_posts_one_series_point_per_event() {
    let server = TestServer::start().await;
    let client = server.client();
    let datadog = Receiver::start_with_default(Reply::status(202).body(r#"{"errors":[]}"#)).await;
    create(
        &client,
        json!({
            "name": "job durations",
            "provider": "datadog",
            "url": datadog.url(""),
            "event_types": ["job.*"],
            "retry": {"initial_delay_ms": 10},
            "settings": {
                "api_key": "dd-metric-key-5678",
                "tags": ["team:ml"],
                "metric": {
                    "name": "herald.job.duration_ms",
                    "value": "/data/timing/total_ms",
                    "tags": ["env:{{ event.data.env }}", "job:{{ event.data.job }}"],
                    "type": "gauge",
                },
            },
        }),
    )
    .await;
    post_event(
        &client,
        json!({
            "id": "evt_dd_metric",
            "type": "job.finished",
            "data": {"env": "prod", "job": "nightly", "timing": {"total_ms": 1234.5}},
        }),
    )
    .await;
    let requests = datadog.wait_for(1, WAIT).await;
    let request = &requests[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/api/v2/series");
    assert_eq!(request.header("dd-api-key"), Some("dd-metric-key-5678"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("application/json"));
    let (_, event) = client.get("/api/v1/events/evt_dd_metric").await;
    let seconds = chrono::DateTime::parse_from_rfc3339(event["created_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert_eq!(
        request.json(),
        json!({"series": [{
            "metric": "herald.job.duration_ms",
            "type": 3,
            "points": [{"timestamp": seconds, "value": 1234.5}],
            "tags": ["team:ml", "env:prod", "job:nightly", "event_type:job.finished", "source:herald"],
        }]})
    );
    let delivery = only_delivery_for_event(&client, "evt_dd_metric").await;
    let delivery = wait_for_delivery_status(&client, &delivery, "delivered", WAIT).await;
    let logged = delivery["attempts"][0]["request_headers"].to_string();
    assert!(!logged.contains("dd-metric-key-5678"), "{logged}");

    // An event without the value fails at once, and nothing is posted.
    post_event(
        &client,
        json!({"id": "evt_dd_no_value", "type": "job.finished", "data": {"env": "prod"}}),
    )
    .await;
    let delivery = only_delivery_for_event(&client, "evt_dd_no_value").await;
    let delivery = wait_for_delivery_status(&client, &delivery, "failed", WAIT).await;
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "not retried: {delivery:#}");
    assert_eq!(attempts[0]["error_category"], "render");
    assert_eq!(
        attempts[0]["error_message"],
        "metric.value: /data/timing/total_ms is not in this event"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(datadog.requests().len(), 1, "nothing more was posted");
}

#[tokio::test]
async fn datadog_metric_settings_are_422s_naming_the_field() {
    let server = TestServer::start().await;
    let client = server.client();
    for (metric, extra, field) in [
        (json!({"value": 1}), json!({}), "settings.metric.name"),
        (
            json!({"name": "a.b", "value": "/id"}),
            json!({}),
            "settings.metric.value",
        ),
        (
            json!({"name": "a.b", "value": 1, "type": "histogram"}),
            json!({}),
            "settings.metric.type",
        ),
        (
            json!({"name": "a.b", "value": 1}),
            json!({"priority": "low"}),
            "settings.priority",
        ),
    ] {
        let mut settings = json!({"api_key": "k", "metric": metric});
        crate::common::merge(&mut settings, extra);
        let (status, answer) = client
            .post(
                "/api/v1/webhooks",
                json!({"name": "m", "provider": "datadog", "settings": settings}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
}
