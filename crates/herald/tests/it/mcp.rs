//! Herald's MCP server driven by a real MCP client, the official Python
//! SDK (`tests/support/mcp_client.py`), over stdio (the real `herald mcp`
//! binary) and over streamable HTTP (`/mcp` on the API listener), against
//! a real server delivering to a receiver on loopback: the tools create a
//! webhook, send an event and read its delivery; read-only mode offers and
//! allows only reading; a tenant's key sees only its tenant; the audit log
//! names `mcp:<key id>`; `/mcp` refuses foreign hosts and missing tokens.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{ADMIN_TOKEN, ApiClient, Receiver, TestServer, WAIT, python};

/// Every tool the server offers, and those it offers read-only.
const ALL_TOOLS: &[&str] = &[
    "analytics.get",
    "analytics.query",
    "audit.list",
    "deliveries.get",
    "deliveries.list",
    "deliveries.retry",
    "events.cancel",
    "events.get",
    "events.list",
    "events.replay",
    "events.send",
    "providers.list",
    "stats.get",
    "webhooks.create",
    "webhooks.delete",
    "webhooks.get",
    "webhooks.list",
    "webhooks.pause",
    "webhooks.replay_failed",
    "webhooks.resume",
    "webhooks.test",
    "webhooks.update",
];
const READ_TOOLS: &[&str] = &[
    "analytics.get",
    "analytics.query",
    "audit.list",
    "deliveries.get",
    "deliveries.list",
    "events.get",
    "events.list",
    "providers.list",
    "stats.get",
    "webhooks.get",
    "webhooks.list",
];

/// How the client reaches the MCP server.
#[derive(Clone)]
enum Transport {
    /// Spawns `herald mcp` with these extra arguments, acting with `token`
    /// (and `tenant`) on the server at `url`.
    Stdio {
        url: String,
        token: String,
        tenant: Option<String>,
        args: Vec<&'static str>,
    },
    /// `/mcp` at `url`, with `token` (none: no Authorization header) and
    /// `X-Herald-Tenant: tenant`.
    Http {
        url: String,
        token: Option<String>,
        tenant: Option<String>,
    },
}

impl Transport {
    fn stdio(server: &TestServer, token: &str, args: &[&'static str]) -> Transport {
        Transport::Stdio {
            url: server.url(""),
            token: token.to_string(),
            tenant: None,
            args: args.to_vec(),
        }
    }

    fn http(server: &TestServer, token: &str) -> Transport {
        Transport::Http {
            url: server.url("/mcp"),
            token: Some(token.to_string()),
            tenant: None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Transport::Stdio { .. } => "stdio",
            Transport::Http { .. } => "http",
        }
    }
}

/// Runs one MCP session of `steps` with the Python SDK's client; the
/// results, one per step. `expect_refusal`: the session must not start.
async fn mcp_session(transport: &Transport, steps: Value, expect_refusal: bool) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let steps_file = dir.path().join("steps.json");
    std::fs::write(&steps_file, steps.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/mcp_client.py");
    let mut command = tokio::process::Command::new(python::interpreter());
    command.arg(script);
    // Only what the test sets reaches `herald mcp`.
    for var in ["HERALD_URL", "HERALD_TOKEN", "HERALD_TENANT"] {
        command.env_remove(var);
    }
    match transport {
        Transport::Stdio {
            url,
            token,
            tenant,
            args,
        } => {
            command
                .arg("stdio")
                .env("HERALD_URL", url)
                .env("HERALD_TOKEN", token);
            if let Some(tenant) = tenant {
                command.env("HERALD_TENANT", tenant);
            }
            command.arg("--steps").arg(&steps_file);
            if expect_refusal {
                command.arg("--expect-refusal");
            }
            command
                .arg("--")
                .arg(env!("CARGO_BIN_EXE_herald"))
                .arg("mcp")
                .args(args);
        }
        Transport::Http { url, token, tenant } => {
            command.arg("http").args(["--url", url]);
            if let Some(token) = token {
                command.args(["--token", token]);
            }
            if let Some(tenant) = tenant {
                command.args(["--tenant", tenant]);
            }
            command.arg("--steps").arg(&steps_file);
            if expect_refusal {
                command.arg("--expect-refusal");
            }
        }
    }
    let output = command
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the MCP client finished within 2 minutes")
        .expect("run the MCP client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the MCP client over {} failed ({}):\n{stdout}\n--- stderr ---\n{stderr}",
        transport.name(),
        output.status
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("the MCP client printed no JSON ({e}):\n{stdout}\n--- stderr ---\n{stderr}")
    })
}

/// The names of a `list_tools` step's tools.
fn tool_names(listed: &Value) -> Vec<String> {
    let mut names: Vec<String> = listed["tools"]
        .as_array()
        .expect("a tool list")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// A tool call's answer, failing unless it succeeded; its structured
/// content.
fn succeeded<'a>(result: &'a Value, what: &str) -> &'a Value {
    assert_eq!(result["isError"], false, "{what}: {result:#}");
    let text = result["text"].as_array().expect("text content");
    assert!(
        text.first()
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty()),
        "{what} says what happened in words: {result:#}"
    );
    &result["structured"]
}

/// A new tenant: its id, its API key and the key's id.
async fn tenant(admin: &ApiClient, name: &str) -> (String, String, String) {
    let (status, body) = admin.post("/api/v1/tenants", json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().unwrap().to_string(),
        body["api_key"].as_str().unwrap().to_string(),
        body["api_key_id"].as_str().unwrap().to_string(),
    )
}

/// What an agent does first: list the tools, subscribe a webhook, send an
/// event, read its delivery and the audit log, all as one tenant's key.
async fn create_send_and_read(transport_for: impl Fn(&TestServer, &str) -> Transport) {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let admin = server.client();
    let (_, key, key_id) = tenant(&admin, "agents").await;
    let transport = transport_for(&server, &key);
    let steps = json!([
        {"list_tools": true},
        {"tool": "webhooks.create", "arguments": {
            "name": "agent hook", "url": receiver.url("/hook"), "event_types": ["mcp.*"],
            "headers": {"X-Api-Token": "very-secret-header-value"}}},
        {"tool": "events.send", "arguments": {"type": "mcp.checked", "data": {"answer": 42}}},
        {"tool": "deliveries.list", "arguments": {"event_id": "${2:structured.id}"},
         "until": {"path": "structured.data.0.status", "equals": "delivered", "timeout_s": 30}},
        {"tool": "deliveries.get", "arguments": {"id": "${3:structured.data.0.id}"}},
        {"tool": "webhooks.get", "arguments": {"id": "${1:structured.id}"}},
        {"tool": "events.get", "arguments": {"id": "${2:structured.id}"}},
        {"tool": "webhooks.get", "arguments": {"id": "wh_01JD0000000000000000000000"}},
        {"tool": "providers.list", "arguments": {}},
        {"list_resources": true},
        {"read_resource": "herald://deliveries/${3:structured.data.0.id}"},
        {"list_prompts": true},
        {"prompt": "webhooks.why_failing", "arguments": {"webhook_id": "${1:structured.id}"}},
        {"read_resource": "herald://webhooks/wh_01JD0000000000000000000000"},
    ]);
    let results = mcp_session(&transport, steps, false).await;
    let what = transport.name();

    // Every tool, each with a JSON Schema of its arguments.
    assert_eq!(tool_names(&results[0]), ALL_TOOLS, "{what}: the tools");
    for tool in results[0]["tools"].as_array().unwrap() {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool:#}");
        assert!(tool["description"].is_string(), "{tool:#}");
    }
    let create_schema = results[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "webhooks.create")
        .unwrap();
    assert_eq!(create_schema["inputSchema"]["required"], json!(["name"]));

    let webhook = succeeded(&results[1], "webhooks.create");
    let webhook_id = webhook["id"].as_str().unwrap();
    assert!(webhook_id.starts_with("wh_"), "{webhook}");
    let event = succeeded(&results[2], "events.send");
    assert_eq!(event["deliveries"], 1, "{event}");
    let event_id = event["id"].as_str().unwrap();

    // It reached the receiver, and the delivery log says so.
    let arrived = receiver.wait_for(1, WAIT).await;
    assert_eq!(arrived[0].json()["data"], json!({"answer": 42}));
    assert_eq!(arrived[0].json()["id"], event_id);
    let delivery = succeeded(&results[4], "deliveries.get");
    assert_eq!(delivery["status"], "delivered", "{delivery:#}");
    assert_eq!(delivery["webhook_id"], webhook_id);
    assert_eq!(delivery["attempts"][0]["status_code"], 200, "{delivery:#}");
    let summary = results[4]["text"][0].as_str().unwrap();
    assert!(summary.contains("delivered"), "{summary}");
    let read_event = succeeded(&results[6], "events.get");
    assert_eq!(read_event["deliveries"][0]["status"], "delivered");

    // The answers are the API's own, masking included: the webhook as the
    // tool shows it is the webhook as the API shows it to the same key.
    let api = admin.with_token(Some(&key));
    let (status, mut from_api) = api.get(&format!("/api/v1/webhooks/{webhook_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let mut from_tool = results[5]["structured"].clone();
    for shown in [&mut from_api, &mut from_tool] {
        shown.as_object_mut().unwrap().remove("health");
    }
    assert_eq!(
        from_tool, from_api,
        "{what}: the tool shows what the API shows"
    );
    let masked = from_tool["headers"]["X-Api-Token"].as_str().unwrap();
    assert!(masked.starts_with("****"), "{masked}");
    let everything = results.to_string();
    assert!(
        !everything.contains("very-secret-header-value"),
        "{what}: a secret header came back unmasked"
    );
    let attempt_headers = delivery["attempts"][0]["request_headers"].to_string();
    assert!(
        !attempt_headers.contains("very-secret-header-value"),
        "{attempt_headers}"
    );

    // An API error is a tool error with the API's words and field.
    let missing = &results[7];
    assert_eq!(missing["isError"], true, "{missing:#}");
    assert_eq!(missing["structured"]["status"], 404, "{missing:#}");
    assert_eq!(missing["structured"]["answer"]["error"]["field"], "id");
    let providers = succeeded(&results[8], "providers.list");
    assert!(
        providers["data"].as_array().unwrap().len() > 5,
        "{providers}"
    );

    // Resources: the tenant's webhooks, and any delivery by its URI; the
    // prompt starts from what Herald shows about the webhook.
    let resources = &results[9];
    let uris: Vec<&str> = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [format!("herald://webhooks/{webhook_id}")],
        "{resources}"
    );
    assert_eq!(resources["templates"].as_array().unwrap().len(), 3);
    let text = results[10]["contents"][0]["text"].as_str();
    let read: Value = serde_json::from_str(text.unwrap_or_else(|| panic!("{:#}", results[10])))
        .expect("a resource is JSON");
    assert_eq!(read["status"], "delivered", "{read}");
    assert_eq!(read["attempts"][0]["status_code"], 200);
    assert_eq!(results[11]["prompts"][0]["name"], "webhooks.why_failing");
    let prompt = results[12]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap();
    assert!(prompt.contains(webhook_id), "{prompt}");
    assert!(prompt.contains("deliveries.get"), "{prompt}");
    assert!(
        results[13]["protocol_error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not_found")),
        "{:#}",
        results[13]
    );

    // The audit log names the key, marked as an agent's change.
    let (status, audit) = api
        .get(&format!("/api/v1/audit?resource_id={webhook_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert_eq!(audit["data"][0]["action"], "webhook.created", "{audit}");
    assert_eq!(
        audit["data"][0]["actor"],
        format!("mcp:{key_id}"),
        "{what}: {audit}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn over_stdio_an_agent_creates_a_webhook_sends_an_event_and_reads_its_delivery() {
    create_send_and_read(|server, key| Transport::stdio(server, key, &[])).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_http_an_agent_creates_a_webhook_sends_an_event_and_reads_its_delivery() {
    create_send_and_read(Transport::http).await;
}

/// Read-only mode lists only the reading tools, refuses a write tool
/// called anyway, and changes nothing.
async fn read_only_refuses_writes(server: &TestServer, transport: Transport) {
    let admin = server.client();
    let receiver = Receiver::start().await;
    crate::common::create_webhook(
        &admin,
        crate::common::webhook_body(&receiver.url("/hook"), json!({"name": "existing"})),
    )
    .await;
    let steps = json!([
        {"list_tools": true},
        {"tool": "webhooks.list", "arguments": {}},
        {"tool": "webhooks.create", "arguments": {"name": "sneaky", "url": receiver.url("/x")}},
        {"tool": "events.send", "arguments": {"type": "mcp.sneaky"}},
        {"tool": "webhooks.pause", "arguments": {"id": "${1:structured.data.0.id}"}},
    ]);
    let results = mcp_session(&transport, steps, false).await;
    let what = transport.name();
    assert_eq!(
        tool_names(&results[0]),
        READ_TOOLS,
        "{what}: read-only tools"
    );
    let listed = succeeded(&results[1], "webhooks.list");
    assert_eq!(listed["data"][0]["name"], "existing", "{listed}");
    for refused in &results.as_array().unwrap()[2..] {
        assert_eq!(refused["isError"], true, "{what}: {refused:#}");
        assert_eq!(refused["structured"]["reason"], "read_only", "{refused:#}");
        let text = refused["text"][0].as_str().unwrap();
        assert!(text.contains("read-only"), "{text}");
    }
    // Nothing changed: one webhook, still active, no event.
    let (_, webhooks) = admin.get("/api/v1/webhooks").await;
    let webhooks = webhooks["data"].as_array().unwrap();
    assert_eq!(webhooks.len(), 1, "{webhooks:?}");
    assert_eq!(webhooks[0]["status"], "active");
    let (_, events) = admin.get("/api/v1/events").await;
    assert_eq!(events["data"], json!([]), "{events}");
    receiver
        .assert_quiet(Duration::from_millis(200), 0, "nothing was sent")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_over_stdio_offers_and_allows_only_reading() {
    let server = TestServer::start().await;
    let transport = Transport::stdio(&server, ADMIN_TOKEN, &["--read-only"]);
    read_only_refuses_writes(&server, transport).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_over_http_offers_and_allows_only_reading() {
    let server = TestServer::start_with(|s| s.mcp_read_only = true).await;
    let transport = Transport::http(&server, ADMIN_TOKEN);
    read_only_refuses_writes(&server, transport).await;
}

/// One tenant's key reaches only that tenant through MCP, on both
/// transports; the admin token reaches the tenant it names.
#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_key_cannot_see_another_tenants_webhooks() {
    let server = TestServer::start().await;
    let admin = server.client();
    let receiver = Receiver::start().await;
    let (tenant_a, key_a, _) = tenant(&admin, "a").await;
    let (tenant_b, key_b, _) = tenant(&admin, "b").await;
    let mut ids = Vec::new();
    for (key, name) in [(&key_a, "hook of a"), (&key_b, "hook of b")] {
        let created = crate::common::create_webhook(
            &admin.with_token(Some(key)),
            crate::common::webhook_body(&receiver.url("/hook"), json!({"name": name})),
        )
        .await;
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let (id_a, id_b) = (&ids[0], &ids[1]);
    let cases = [
        (Transport::http(&server, &key_a), id_a, id_b, "hook of a"),
        (
            Transport::stdio(&server, &key_b, &[]),
            id_b,
            id_a,
            "hook of b",
        ),
        (
            Transport::Http {
                url: server.url("/mcp"),
                token: Some(ADMIN_TOKEN.to_string()),
                tenant: Some(tenant_a.clone()),
            },
            id_a,
            id_b,
            "hook of a",
        ),
        (
            Transport::Stdio {
                url: server.url(""),
                token: ADMIN_TOKEN.to_string(),
                tenant: Some(tenant_b.clone()),
                args: vec![],
            },
            id_b,
            id_a,
            "hook of b",
        ),
    ];
    for (transport, own, other, own_name) in cases {
        let steps = json!([
            {"tool": "webhooks.list", "arguments": {}},
            {"tool": "webhooks.get", "arguments": {"id": own}},
            {"tool": "webhooks.get", "arguments": {"id": other}},
            {"tool": "webhooks.pause", "arguments": {"id": other}},
            {"tool": "deliveries.list", "arguments": {"webhook_id": other}},
            {"read_resource": format!("herald://webhooks/{other}")},
            {"list_resources": true},
        ]);
        let results = mcp_session(&transport, steps, false).await;
        let what = transport.name();
        let listed = succeeded(&results[0], "webhooks.list");
        let names: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [own_name], "{what}: {listed}");
        succeeded(&results[1], "webhooks.get of its own");
        for foreign in &results.as_array().unwrap()[2..4] {
            assert_eq!(foreign["isError"], true, "{what}: {foreign:#}");
            assert_eq!(foreign["structured"]["status"], 404, "{what}: {foreign:#}");
        }
        let deliveries = succeeded(&results[4], "deliveries.list");
        assert_eq!(deliveries["data"], json!([]), "{what}: {deliveries}");
        assert!(
            results[5]["protocol_error"].is_object(),
            "{what}: another tenant's webhook as a resource: {:#}",
            results[5]
        );
        let listed = results[6]["resources"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "{what}: {listed:?}");
        assert_eq!(listed[0]["uri"], format!("herald://webhooks/{own}"));
    }
    // Neither pause went through.
    for id in &ids {
        let owner = if id == id_a { &tenant_a } else { &tenant_b };
        let webhook = admin
            .send(
                reqwest::Method::GET,
                &format!("/api/v1/webhooks/{id}"),
                None,
                &[("X-Herald-Tenant", owner)],
            )
            .await;
        assert_eq!(webhook.status, StatusCode::OK, "{:?}", webhook.body);
        assert_eq!(webhook.body["status"], "active", "{:?}", webhook.body);
    }
}

/// `/mcp` answers only loopback names (or the listed ones), and only to a
/// valid token: with the Herald error body, and a real MCP client cannot
/// start a session without one.
#[tokio::test(flavor = "multi_thread")]
async fn http_refuses_foreign_hosts_and_missing_tokens() {
    let server = TestServer::start_with(|s| {
        s.mcp_allowed_hosts = herald_server::McpHosts::parse(&["herald.test".into()]).unwrap();
    })
    .await;
    let http = reqwest::Client::new();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    let post = |headers: &[(&str, &str)]| {
        let mut request = http
            .post(server.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(&initialize);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let port = server.url("").rsplit(':').next().unwrap().to_string();
    // The request's headers, the status expected, and the header blamed.
    type Case<'a> = (Vec<(&'a str, String)>, StatusCode, Option<&'a str>);
    let cases: Vec<Case<'_>> = vec![
        (vec![], StatusCode::UNAUTHORIZED, None),
        (
            vec![("authorization", "Bearer not-a-token".into())],
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            vec![("authorization", bearer.clone())],
            StatusCode::OK,
            None,
        ),
        (
            vec![
                ("authorization", bearer.clone()),
                ("host", format!("evil.example:{port}")),
            ],
            StatusCode::FORBIDDEN,
            Some("Host"),
        ),
        // Refused before the token is even looked at.
        (
            vec![("host", "evil.example".into())],
            StatusCode::FORBIDDEN,
            Some("Host"),
        ),
        (
            vec![
                ("authorization", bearer.clone()),
                ("origin", "http://evil.example".into()),
            ],
            StatusCode::FORBIDDEN,
            Some("Origin"),
        ),
        (
            vec![("authorization", bearer.clone()), ("origin", "null".into())],
            StatusCode::FORBIDDEN,
            Some("Origin"),
        ),
        (
            vec![
                ("authorization", bearer.clone()),
                ("origin", "http://localhost:3000".into()),
            ],
            StatusCode::OK,
            None,
        ),
        (
            vec![
                ("authorization", bearer.clone()),
                ("host", "localhost".into()),
            ],
            StatusCode::OK,
            None,
        ),
        // A name HERALD_MCP_ALLOWED_HOSTS lists.
        (
            vec![
                ("authorization", bearer.clone()),
                ("host", format!("herald.test:{port}")),
                ("origin", "https://herald.test".into()),
            ],
            StatusCode::OK,
            None,
        ),
    ];
    for (headers, expected, field) in cases {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = post(&pairs).await.expect("POST /mcp");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, expected, "{headers:?}: {body}");
        if status == StatusCode::OK {
            assert_eq!(body["result"]["serverInfo"]["name"], "herald", "{body}");
        } else {
            assert!(body["error"]["code"].is_string(), "{headers:?}: {body}");
            assert_eq!(body["error"]["field"].as_str(), field, "{body}");
        }
    }

    // The real client: no token, or a wrong one, and no session starts.
    for token in [None, Some("hrld_key_01JD0000000000000000000000_nope")] {
        let transport = Transport::Http {
            url: server.url("/mcp"),
            token: token.map(str::to_string),
            tenant: None,
        };
        let refused = mcp_session(&transport, json!([]), true).await;
        assert!(refused["refused"].is_string(), "{refused}");
        assert_eq!(
            refused["http_statuses"],
            json!([401]),
            "{token:?}: {refused}"
        );
    }
    // Nor over stdio with a token the server refuses: the session starts
    // (stdio has no HTTP), but every tool answers the API's 401.
    let transport = Transport::stdio(&server, "not-a-valid-token-at-all", &[]);
    let results = mcp_session(
        &transport,
        json!([{"tool": "webhooks.list", "arguments": {}}]),
        false,
    )
    .await;
    assert_eq!(results[0]["isError"], true, "{results:#}");
    assert_eq!(results[0]["structured"]["status"], 401, "{results:#}");
}

/// `herald mcp` with no token anywhere says so and exits non-zero, before
/// speaking MCP at all.
#[tokio::test(flavor = "multi_thread")]
async fn herald_mcp_without_a_token_says_so_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("mcp")
        .env_remove("HERALD_TOKEN")
        .env_remove("HERALD_URL")
        .env_remove("HERALD_DATA_DIR")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HERALD_TOKEN"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing on the protocol stream");

    // With a stored admin token (in ./herald-data, as `herald serve`
    // leaves it), a bad URL is what is refused.
    std::fs::create_dir(dir.path().join("herald-data")).unwrap();
    std::fs::write(dir.path().join("herald-data/admin-token"), "tok\n").unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["mcp", "--url", "ftp://example.com"])
        .env_remove("HERALD_TOKEN")
        .env_remove("HERALD_DATA_DIR")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("http://"), "{stderr}");
}

#[tokio::test]
async fn http_answers_what_it_cannot_read_with_json_errors() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {}", server.client().token().expect("admin token"));
    let post = |body: &'static str| {
        http.post(server.url("/mcp"))
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    // Not JSON, and JSON that is no JSON-RPC message: 400 with a JSON-RPC
    // error, never plain text.
    for (body, code) in [
        ("not json", -32700),
        (r#"{"jsonrpc": "2.0"}"#, -32600),
        ("[]", -32600),
    ] {
        let answer = post(body).await.expect("reach /mcp");
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = answer.json().await.expect("a JSON body");
        assert_eq!(error["jsonrpc"], "2.0", "{error}");
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
    }
    // Other refusals keep their status, with the API's error body.
    let answer = http
        .get(server.url("/mcp"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("reach /mcp");
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    let error: Value = answer.json().await.expect("a JSON body");
    assert_eq!(error["error"]["code"], "method_not_allowed", "{error}");
    let too_big = "a".repeat(2 << 20);
    let answer = http
        .post(server.url("/mcp"))
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(too_big)
        .send()
        .await
        .expect("reach /mcp");
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = answer.json().await.expect("a JSON body");
    assert_eq!(error["error"]["code"], "payload_too_large", "{error}");
}

#[tokio::test]
async fn http_refuses_a_body_that_is_not_json_by_its_type() {
    let server = TestServer::start().await;
    let answer = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header(
            "authorization",
            format!("Bearer {}", server.client().token().expect("admin token")),
        )
        .header("content-type", "text/plain")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#)
        .send()
        .await
        .expect("reach /mcp");
    let status = answer.status();
    let error: Value = answer.json().await.expect("a JSON body");
    assert!(status.is_client_error(), "{status}: {error}");
    assert!(error["error"]["code"].is_string(), "{error}");
}
