//! Secrets never leak: webhooks of every kind are created with known
//! secrets (signing secret, auth tokens and passwords, custom credential
//! headers, credential-bearing hook URLs, provider keys, an SMTP password),
//! events are delivered (and some fail), and then the stored data (the raw
//! SQLite files, or every row of the PostgreSQL database as `pg_dump`
//! prints it), the server's log and every API answer other than creation
//! and `GET …/secret` are searched for each secret: none may appear.

use std::path::Path;

use crate::common::binary::spawn_herald_with;
use crate::common::*;
use axum::http::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A known secret and the webhook that holds it.
struct Planted {
    secret: &'static str,
    webhook: Value,
}

/// The secret rotated in: base64 of 32 known bytes.
const ROTATED_SECRET: &str = "whsec_cm90YXRlZC1zZWNyZXQta2V5LTAxMjM0NTY3ODk=";

/// The signing secret: `whsec_` + base64 of 36 known bytes.
const SIGNING_SECRET: &str = "whsec_c2VjcmV0LXNjYW4tc2lnbmluZy1rZXktMDEyMzQ1Njc4OWFi";

fn plants(ok: &Receiver, closed_port: u16) -> Vec<(&'static str, Value)> {
    let dead = |path: &str| format!("http://127.0.0.1:{closed_port}{path}");
    vec![
        (
            "c2VjcmV0LXNjYW4tc2lnbmluZy1rZXktMDEyMzQ1Njc4OWFi",
            json!({"name": "signed", "url": ok.url("/plain"), "secret": SIGNING_SECRET}),
        ),
        (
            "bearerSecretToken000111",
            json!({"name": "bearer", "url": ok.url("/bearer"),
                   "auth": {"type": "bearer", "token": "bearerSecretToken000111"}}),
        ),
        (
            "basicSecretPassword444",
            json!({"name": "basic", "url": ok.url("/basic"),
                   "auth": {"type": "basic", "username": "herald", "password": "basicSecretPassword444"}}),
        ),
        (
            "apiKeySecretValue555",
            json!({"name": "api key", "url": ok.url("/key"),
                   "auth": {"type": "api_key", "key": "apiKeySecretValue555", "header": "X-Key"}}),
        ),
        (
            "headerSecretValue222333",
            json!({"name": "header", "url": ok.url("/header"),
                   "headers": {"X-Api-Token": "headerSecretValue222333"}}),
        ),
        (
            "slackSecretPath666777",
            json!({"name": "slack", "provider": "slack",
                   "url": ok.url("/services/T000/B000/slackSecretPath666777")}),
        ),
        (
            "deadSlackSecret000999",
            json!({"name": "slack (down)", "provider": "slack",
                   "url": dead("/services/T1/B1/deadSlackSecret000999"),
                   "retry": {"max_retries": 0}}),
        ),
        (
            "teamsSecretSig888999",
            json!({"name": "teams", "provider": "teams",
                   "url": ok.url("/workflows/run?sig=teamsSecretSig888999")}),
        ),
        (
            "discordSecretToken000",
            json!({"name": "discord", "provider": "discord",
                   "url": ok.url("/api/webhooks/123/discordSecretToken000")}),
        ),
        (
            "gchatSecretToken222",
            json!({"name": "google chat", "provider": "google_chat",
                   "url": ok.url("/v1/spaces/AAA/messages?key=gchatKey111&token=gchatSecretToken222")}),
        ),
        (
            "zapierSecretPath333",
            json!({"name": "zapier", "provider": "zapier",
                   "url": ok.url("/hooks/catch/123/zapierSecretPath333")}),
        ),
        (
            "mattermostSecretHook444",
            json!({"name": "mattermost", "provider": "mattermost",
                   "url": ok.url("/hooks/mattermostSecretHook444")}),
        ),
        (
            "PDSECRETROUTINGKEY0123456789ABCD",
            json!({"name": "pagerduty", "provider": "pagerduty", "url": ok.url("/v2/enqueue"),
                   "settings": {"routing_key": "PDSECRETROUTINGKEY0123456789ABCD"}}),
        ),
        (
            "jiraSecretApiToken555",
            json!({"name": "jira", "provider": "jira", "url": ok.url(""),
                   "settings": {"email": "bot@acme.com", "api_token": "jiraSecretApiToken555",
                                "project_key": "ML"}}),
        ),
        (
            "ghp_githubSecretToken666",
            json!({"name": "github", "provider": "github", "url": ok.url(""),
                   "settings": {"token": "ghp_githubSecretToken666", "repository": "acme/models"}}),
        ),
        (
            "ddSecretApiKey777888",
            json!({"name": "datadog", "provider": "datadog", "url": ok.url(""),
                   "settings": {"api_key": "ddSecretApiKey777888"}}),
        ),
        (
            "smtpSecretPassword999",
            json!({"name": "email", "provider": "email",
                   "settings": {"to": ["ops@acme.test"], "from": "herald@acme.test",
                                "smtp": {"host": "127.0.0.1", "port": closed_port, "tls": "none",
                                         "username": "mailer", "password": "smtpSecretPassword999"}},
                   "retry": {"max_retries": 0}}),
        ),
    ]
}

/// Everything the server stored, by where it came from: every file in the
/// data directory (the SQLite database with its WAL, or whatever a
/// PostgreSQL node keeps locally) and, on PostgreSQL, a dump of every row.
/// Fails unless the database itself was read, so the scan cannot pass by
/// looking at the wrong place.
fn stored_data(data_dir: &Path, event_id: &str) -> Vec<(String, Vec<u8>)> {
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(data_dir).expect("list the data directory") {
        let path = entry.expect("data directory entry").path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            stored.push((name, std::fs::read(&path).expect("read a stored file")));
        }
    }
    match database::remembered_url(data_dir) {
        Some(url) => {
            let dump = database::dump_data(&url);
            assert!(
                String::from_utf8_lossy(&dump).contains(event_id),
                "the dump of {url} holds the test's rows"
            );
            stored.push((format!("pg_dump of {url}"), dump));
        }
        None => {
            // The rows are in the database file or still in its WAL,
            // depending on whether a checkpoint ran: one of them holds the
            // test's event.
            let id = event_id.as_bytes();
            let read = stored.iter().any(|(name, bytes)| {
                name.starts_with("herald.db") && bytes.windows(id.len()).any(|w| w == id)
            });
            assert!(read, "the database file (or its WAL) holds the test's rows");
        }
    }
    stored
}

/// The spellings a stored secret could take: as written, and as the hex
/// that `pg_dump` prints for a `bytea` column.
fn spellings(secret: &str) -> [(String, &'static str); 2] {
    [(secret.to_string(), ""), (hex::encode(secret), " (as hex)")]
}

#[tokio::test]
async fn no_secret_reaches_the_database_file_the_log_or_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let log = dir.path().join("herald.log");
    // Debug logging is the most a production operator would turn on.
    let (mut child, client) = spawn_herald_with(&data_dir, &log, &[("HERALD_LOG", "debug")]).await;
    let ok = Receiver::start_with_default(Reply::ok().body("ok")).await;
    let closed_port = crate::common::closed_port();

    let mut planted = Vec::new();
    for (secret, body) in plants(&ok, closed_port) {
        let (status, webhook) = client.post("/api/v1/webhooks", body).await;
        assert_eq!(status, StatusCode::CREATED, "{secret}: {webhook}");
        planted.push(Planted { secret, webhook });
    }

    // Deliver to all of them (the dead Slack hook and the mail server fail).
    let event = post_event(&client, training_complete("evt_secret_scan")).await;
    let event_id = event["id"].as_str().unwrap().to_string();
    let deliveries = delivery_ids_for_event(&client, &event_id).await;
    assert_eq!(deliveries.len(), planted.len());
    for id in &deliveries {
        wait_for_value(WAIT, "a recorded attempt", || {
            let client = client.clone();
            let id = id.clone();
            async move {
                let (_, d) = client.get(&format!("/api/v1/deliveries/{id}")).await;
                d["attempts"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
                    .then_some(())
            }
        })
        .await;
    }

    // Every read the API offers, plus the answers of changes.
    let mut answers: Vec<(String, Value)> = Vec::new();
    let mut read = |path: String, body: Value| answers.push((path, body));
    for path in [
        "/api/v1/webhooks?limit=250".to_string(),
        "/api/v1/events".to_string(),
        format!("/api/v1/events/{event_id}"),
        "/api/v1/deliveries?limit=250".to_string(),
        "/api/v1/deliveries?status=failed".to_string(),
        "/api/v1/audit?limit=250".to_string(),
        "/api/v1/stats".to_string(),
    ] {
        let (status, body) = client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        read(path, body);
    }
    for id in &deliveries {
        let path = format!("/api/v1/deliveries/{id}");
        read(path.clone(), client.get(&path).await.1);
    }
    for p in &planted {
        let id = p.webhook["id"].as_str().unwrap();
        for path in [
            format!("/api/v1/webhooks/{id}"),
            format!("/api/v1/webhooks/{id}/deliveries"),
        ] {
            read(path.clone(), client.get(&path).await.1);
        }
        let path = format!("/api/v1/webhooks/{id}");
        let (status, body) = client.patch(&path, json!({"description": "scanned"})).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", p.secret);
        read(format!("PATCH {path}"), body);
    }
    let signed = planted[0].webhook["id"].as_str().unwrap();
    // A rotated-in secret is as secret as the first one, and the private
    // half of an ed25519 key pair is never shown at all.
    let r = client
        .send(
            Method::POST,
            &format!("/api/v1/webhooks/{signed}/secret/rotate"),
            Some(&json!({"secret": ROTATED_SECRET, "grace_period_hours": 1})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (status, ed25519) = client
        .post(
            "/api/v1/webhooks",
            json!({"name": "ed25519", "url": ok.url("/ed"), "signature": {"scheme": "ed25519"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ed25519}");
    assert!(!ed25519.to_string().contains("whsk_"), "{ed25519}");
    let (_, listed) = client.get("/api/v1/webhooks?limit=250").await;
    read("webhooks after rotation".into(), listed);
    let r = client
        .send(
            Method::POST,
            &format!("/api/v1/webhooks/{signed}/test"),
            None,
            &[],
        )
        .await;
    read("test send".into(), r.body);
    let dead = planted[6].webhook["id"].as_str().unwrap();
    let r = client
        .send(
            Method::POST,
            &format!("/api/v1/webhooks/{dead}/test"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.body["success"], false, "{}", r.body);
    read("failing test send".into(), r.body);

    // The dedicated route does show the signing secret: the scan is real.
    let (_, shown) = client
        .get(&format!("/api/v1/webhooks/{signed}/secret"))
        .await;
    assert_eq!(shown["secret"], ROTATED_SECRET);
    assert_eq!(shown["previous"][0]["secret"], SIGNING_SECRET);

    // Stop hard (kill waits for the exit): on SQLite whatever is in the
    // WAL stays there to be searched too.
    child.kill().await.unwrap();
    let mut files = stored_data(&data_dir, &event_id);
    files.push(("server log".into(), std::fs::read(&log).unwrap()));
    let log_text = String::from_utf8_lossy(&files.last().unwrap().1).to_string();
    assert!(
        log_text.contains("webhook created"),
        "the log was captured: {log_text}"
    );

    let mut leaks = Vec::new();
    let needles = planted
        .iter()
        .map(|p| p.secret)
        .chain(["cm90YXRlZC1zZWNyZXQta2V5LTAxMjM0NTY3ODk", "whsk_"]);
    for secret in needles {
        for (spelling, how) in spellings(secret) {
            let needle = spelling.as_bytes();
            for (name, bytes) in &files {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    leaks.push(format!("{secret}{how} in {name}"));
                }
            }
        }
        for (path, body) in &answers {
            if body.to_string().contains(secret) {
                leaks.push(format!("{secret} in the answer to {path}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// The data directory opens only with the master key it was written with:
/// a wrong key stops the start with a message that says so, the key file is
/// private to its owner, and the right key brings every webhook back.
#[tokio::test]
async fn stored_secrets_open_only_with_their_master_key() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let webhook = create_webhook(
        &client,
        json!({"name": "kept", "url": "http://127.0.0.1:9/h"}),
    )
    .await;
    server.stop().await;
    let key_file = server.data_dir().join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "master.key mode {mode:o}");
    }

    let mut settings = herald_server::Settings::new(server.data_dir().to_path_buf());
    settings.dev = true;
    // The same database the server wrote to, so the key is checked
    // against its rows rather than against an empty database.
    settings.database_url = database::database_url_for(server.data_dir())
        .await
        .map(Into::into);
    settings.master_key = Some(secrecy::SecretString::from(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string(),
    ));
    let error = match herald_server::Application::build(settings).await {
        Ok(_) => panic!("a wrong master key must not start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("master key"), "{error}");

    server.restart().await;
    let (status, body) = server
        .client()
        .get(&format!(
            "/api/v1/webhooks/{}",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "kept");
}
