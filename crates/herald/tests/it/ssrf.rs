//! Destinations outside dev mode (SSRF protection), against the real server
//! and real loopback receivers: literal forbidden addresses in every
//! spelling are refused at the API, names resolving to them are blocked at
//! send time with nothing reaching any receiver, redirects are never
//! followed, `HERALD_ALLOWED_NETWORKS` opens a range, and `https://` is
//! required unless `HERALD_ALLOW_HTTP` is set.
//!
//! Host names are pointed at addresses with `HERALD_DNS_OVERRIDES`, so no
//! test depends on the machine's resolver.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{
    ApiClient, Receiver, Reply, TestServer, WAIT, create_webhook, only_delivery_for_event,
    post_event, wait_for_delivery_status,
};
use herald_core::network::AllowedNetworks;
use herald_server::DnsOverrides;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A production-mode server (`dev = false`) that accepts `http://` so the
/// loopback receivers can stand in for destinations.
async fn production(allowed_networks: &str, dns_overrides: &str) -> TestServer {
    let allowed = AllowedNetworks::parse(allowed_networks).expect("valid allowlist");
    let overrides = DnsOverrides::parse(dns_overrides).expect("valid overrides");
    TestServer::start_with(move |s| {
        s.dev = false;
        s.allow_http = true;
        s.allowed_networks = allowed.clone();
        s.dns_overrides = overrides.clone();
    })
    .await
}

/// Creates a webhook expecting a 422 on `field`; returns the message.
async fn refused(client: &ApiClient, body: Value, field: &str) -> String {
    let (status, answer) = client.post("/api/v1/webhooks", body.clone()).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{body} answered {answer}"
    );
    assert_eq!(answer["error"]["field"], field, "{body} answered {answer}");
    answer["error"]["message"].as_str().unwrap().to_string()
}

/// Every spelling of a forbidden literal address, and the words its
/// refusal must contain (the canonical address and its class).
const LITERALS: &[(&str, &str)] = &[
    ("http://2130706433/hook", "127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("http://0x7f000001/hook", "127.0.0.1 is a loopback address"),
    ("http://0x7f.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("http://127.1/hook", "127.0.0.1 is a loopback address"),
    ("http://127.0.0.1./hook", "127.0.0.1 is a loopback address"),
    ("http://[::1]/hook", "::1 is a loopback address"),
    (
        "http://[::ffff:127.0.0.1]/hook",
        "::ffff:127.0.0.1 is a loopback address",
    ),
    (
        "http://[::ffff:7f00:1]/hook",
        "::ffff:127.0.0.1 is a loopback address",
    ),
    (
        "http://169.254.169.254/latest/meta-data/",
        "169.254.169.254 is a link-local address",
    ),
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("http://172.16.0.1/hook", "172.16.0.1 is a private address"),
    (
        "http://192.168.1.1/hook",
        "192.168.1.1 is a private address",
    ),
    ("http://100.64.0.1/hook", "100.64.0.1 is a shared"),
    ("http://0.0.0.0/hook", "0.0.0.0 is the unspecified address"),
    ("http://0/hook", "0.0.0.0 is the unspecified address"),
    ("http://224.0.0.1/hook", "224.0.0.1 is a multicast address"),
    ("http://[fd00::1]/hook", "fd00::1 is a unique local"),
    ("http://[fe80::1]/hook", "fe80::1 is a link-local address"),
];

#[tokio::test]
async fn literal_forbidden_addresses_are_refused_in_every_spelling() {
    let server = production("", "").await;
    let client = server.client();
    for (url, words) in LITERALS {
        let message = refused(&client, json!({"name": "x", "url": url}), "url").await;
        assert!(message.contains(words), "{url}: {message}");
        // Only the address, never the URL, is echoed back.
        assert!(!message.contains("/hook"), "{url}: {message}");
    }

    // Updates are checked the same way: a webhook on a (never resolved at
    // creation) host name cannot be moved to a forbidden address.
    let webhook = create_webhook(
        &client,
        json!({"name": "named", "url": "http://hooks.example.test/hook"}),
    )
    .await;
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    for (url, words) in LITERALS {
        let (status, answer) = client.patch(&path, json!({"url": url})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {answer}");
        assert_eq!(answer["error"]["field"], "url", "{url}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{url}: {message}");
    }
    let (_, stored) = client.get(&path).await;
    assert_eq!(stored["url"], "http://hooks.example.test/hook");
    let (_, list) = client.get("/api/v1/webhooks").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "nothing refused was stored: {list}"
    );
}

#[tokio::test]
async fn integrations_and_mail_servers_are_destinations_too() {
    let server = production("", "").await;
    let client = server.client();
    // Integrations whose URL may be any host (self-hosted or proxied).
    for (provider, url, settings) in [
        ("teams", "https://[::ffff:10.0.0.1]/workflows/x", json!({})),
        ("mattermost", "https://169.254.169.254/hooks/x", json!({})),
        (
            "jira",
            "https://0x7f000001",
            json!({"email": "bot@acme.test", "api_token": "jira-token", "project_key": "ML"}),
        ),
        (
            "pagerduty",
            "https://192.168.0.10/v2/enqueue",
            json!({"routing_key": "R0UT1NGKEY0000000000000000000000"}),
        ),
    ] {
        let body = json!({"name": "x", "provider": provider, "url": url, "settings": settings});
        let message = refused(&client, body, "url").await;
        assert!(
            message.contains("points at a forbidden address: "),
            "{provider}: {message}"
        );
    }
    // A webhook's own SMTP server, in the spellings the C resolver reads.
    for host in [
        "127.0.0.1",
        "2130706433",
        "0x7f.1",
        "::1",
        "[::ffff:127.0.0.1]",
        "10.0.0.25",
        "fe80::25",
    ] {
        let body = json!({
            "name": "mail",
            "provider": "email",
            "settings": {"to": ["ops@acme.test"], "from": "herald@acme.test",
                         "smtp": {"host": host, "port": 25, "tls": "none"}},
        });
        let message = refused(&client, body, "settings.smtp.host").await;
        assert!(
            message.contains("points at a forbidden address: "),
            "{host}: {message}"
        );
    }
}

#[tokio::test]
async fn https_is_required_without_allow_http() {
    let server = TestServer::start_with(|s| s.dev = false).await;
    let client = server.client();
    let message = refused(
        &client,
        json!({"name": "x", "url": "http://hooks.example.com/hook"}),
        "url",
    )
    .await;
    assert!(message.contains("must use https://"), "{message}");
    assert!(message.contains("HERALD_ALLOW_HTTP"), "{message}");
    create_webhook(
        &client,
        json!({"name": "x", "url": "https://hooks.example.com/hook"}),
    )
    .await;
    // HERALD_ALLOW_HTTP relaxes the scheme, not the address rule.
    let relaxed = production("", "").await;
    let client = relaxed.client();
    create_webhook(
        &client,
        json!({"name": "x", "url": "http://hooks.example.com/hook"}),
    )
    .await;
    refused(
        &client,
        json!({"name": "x", "url": "http://127.0.0.1:9/hook"}),
        "url",
    )
    .await;
}

/// Waits for the one delivery of `event_id` to reach `status`, and returns
/// its first attempt.
async fn first_attempt(client: &ApiClient, event_id: &str, status: &str) -> Value {
    let delivery = only_delivery_for_event(client, event_id).await;
    let delivery = wait_for_delivery_status(client, &delivery, status, WAIT).await;
    delivery["attempts"][0].clone()
}

#[tokio::test]
async fn names_resolving_to_forbidden_addresses_are_blocked_and_nothing_is_sent() {
    // The receiver listens on 127.0.0.1: a name pointed there would reach
    // it if the check let it through.
    let receiver = Receiver::start().await;
    let port = receiver.port();
    let server = production(
        "",
        "loopback.test=127.0.0.1,loopback6.test=::1,private.test=10.0.0.1,\
         metadata.test=169.254.169.254,mixed.test=93.184.215.14,mixed.test=127.0.0.1",
    )
    .await;
    let client = server.client();
    let cases = [
        ("loopback.test", "127.0.0.1 is a loopback address"),
        ("loopback6.test", "::1 is a loopback address"),
        ("private.test", "10.0.0.1 is a private address"),
        ("metadata.test", "169.254.169.254 is a link-local address"),
        // One public answer does not make a name with a private one safe.
        ("mixed.test", "127.0.0.1 is a loopback address"),
    ];
    for (i, (host, words)) in cases.iter().enumerate() {
        create_webhook(
            &client,
            json!({
                "name": host,
                "url": format!("http://{host}:{port}/services/T000/B000/secret-part"),
                "event_types": [format!("probe.{i}")],
                "retry": {"strategy": "none"},
            }),
        )
        .await;
        let event_id = format!("evt_blocked_{i}");
        post_event(
            &client,
            json!({"id": event_id, "type": format!("probe.{i}"), "data": {}}),
        )
        .await;
        let attempt = first_attempt(&client, &event_id, "failed").await;
        assert_eq!(
            attempt["error_category"], "blocked_destination",
            "{host}: {attempt:#}"
        );
        assert_eq!(attempt["outcome"], "failed", "{host}: {attempt:#}");
        assert!(attempt["status_code"].is_null(), "{host}: {attempt:#}");
        let message = attempt["error_message"].as_str().unwrap();
        assert!(message.contains(words), "{host}: {message}");
        assert!(message.contains(&format!("`{host}`")), "{host}: {message}");
        assert!(!message.contains("secret-part"), "{host}: {message}");
    }
    // Every delivery has finished, so nothing more can be on its way.
    assert!(
        receiver.requests().is_empty(),
        "a blocked destination was reached: {:?}",
        receiver.requests()
    );

    // A blocked name is retried (it may resolve elsewhere later) under the
    // webhook's policy.
    create_webhook(
        &client,
        json!({
            "name": "retried",
            "url": format!("http://private.test:{port}/hook"),
            "event_types": ["probe.retried"],
            "retry": {"initial_delay_ms": 600_000},
        }),
    )
    .await;
    post_event(
        &client,
        json!({"id": "evt_retried", "type": "probe.retried", "data": {}}),
    )
    .await;
    let attempt = first_attempt(&client, "evt_retried", "retrying").await;
    assert_eq!(
        attempt["error_category"], "blocked_destination",
        "{attempt:#}"
    );
    assert_eq!(attempt["outcome"], "retry", "{attempt:#}");

    // A test send reports the refusal too.
    let (_, list) = client.get("/api/v1/webhooks?limit=1").await;
    let id = list["data"][0]["id"].as_str().unwrap().to_string();
    let (status, report) = client
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["success"], false, "{report}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("does not deliver to"),
        "{report}"
    );
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn a_literal_address_stored_before_the_policy_is_blocked_at_send_time() {
    let receiver = Receiver::start().await;
    let dev = Arc::new(AtomicBool::new(true));
    let mode = dev.clone();
    let mut server = TestServer::start_with(move |s| {
        s.dev = mode.load(Ordering::SeqCst);
        s.allow_http = true;
    })
    .await;
    // Created in dev mode, where loopback is fine.
    create_webhook(
        &server.client(),
        json!({"name": "old", "url": receiver.url("/secret-part")}),
    )
    .await;
    dev.store(false, Ordering::SeqCst);
    server.restart().await;
    let client = server.client();
    post_event(&client, json!({"id": "evt_old", "type": "a.b", "data": {}})).await;
    // Default retries, yet it fails at once: a literal address cannot change.
    let attempt = first_attempt(&client, "evt_old", "failed").await;
    assert_eq!(
        attempt["error_category"], "blocked_destination",
        "{attempt:#}"
    );
    let message = attempt["error_message"].as_str().unwrap();
    assert!(
        message.starts_with("127.0.0.1 is a loopback address"),
        "{message}"
    );
    assert!(!message.contains("secret-part"), "{message}");
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let second = Receiver::start().await;
    let first =
        Receiver::start_with_default(Reply::status(302).header("location", &second.url("/stolen")))
            .await;
    let port = first.port();
    // A public-looking name, opened by the allowlist.
    let server = production("127.0.0.1/32", "hooks.example.com=127.0.0.1").await;
    let client = server.client();
    create_webhook(
        &client,
        json!({
            "name": "redirecting",
            "url": format!("http://hooks.example.com:{port}/hook"),
            "retry": {"strategy": "none"},
        }),
    )
    .await;
    post_event(
        &client,
        json!({"id": "evt_redirect", "type": "a.b", "data": {}}),
    )
    .await;
    let attempt = first_attempt(&client, "evt_redirect", "failed").await;
    assert_eq!(attempt["status_code"], 302, "{attempt:#}");
    assert_eq!(attempt["error_category"], "http_3xx", "{attempt:#}");
    assert_eq!(first.requests().len(), 1);
    assert!(
        second.requests().is_empty(),
        "the redirect was followed: {:?}",
        second.requests()
    );
}

#[tokio::test]
async fn an_allowed_network_is_delivered_to() {
    let receiver = Receiver::start().await;
    let port = receiver.port();
    let server = production("127.0.0.1/32", "hooks.internal.test=127.0.0.1").await;
    let client = server.client();
    // Both a literal address and a name resolving into the range.
    create_webhook(
        &client,
        json!({"name": "literal", "url": receiver.url("/literal")}),
    )
    .await;
    create_webhook(
        &client,
        json!({"name": "named", "url": format!("http://hooks.internal.test:{port}/named")}),
    )
    .await;
    post_event(
        &client,
        json!({"id": "evt_allowed", "type": "a.b", "data": {}}),
    )
    .await;
    let requests = receiver.wait_for(2, WAIT).await;
    let mut paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/literal", "/named"]);
    // The allowlist opens exactly that range: the rest of loopback stays shut.
    refused(
        &client,
        json!({"name": "x", "url": "http://127.0.0.2/hook"}),
        "url",
    )
    .await;
}

#[tokio::test]
async fn an_invalid_allowed_network_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    // Configured like every other server of the run, so a bad range is
    // refused whichever database the server would have opened.
    let database = crate::common::database::database_env(dir.path()).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("HERALD_DATABASE_URL")
        .envs(database)
        .env("HERALD_ALLOWED_NETWORKS", "10.0.0.0/8,10.0.0.0/33")
        .env("HERALD_ADMIN_TOKEN", "ssrf-test-admin-token")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(WAIT, output)
        .await
        .expect("herald exits at once")
        .expect("run herald");
    assert!(!output.status.success(), "herald started anyway");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("HERALD_ALLOWED_NETWORKS: `10.0.0.0/33` is not a CIDR range"),
        "{stderr}"
    );
}
