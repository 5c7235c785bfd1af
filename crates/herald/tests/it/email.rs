//! Email delivery against a real SMTP server on loopback (Python's aiosmtpd,
//! `tests/support/smtp_sink.py`): the message is parsed and its parts,
//! headers and recipients checked, with the server-wide mail server and
//! with a webhook's own authenticated one; SMTP refusals decide between
//! retry (4xx) and failure (5xx). Outside dev mode a webhook's own mail
//! server is reached only at an address that passed the destination check.
//! Files from event data arrive byte for byte, under safe names, only for
//! webhooks that allow them, and a bad list fails without a retry.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{
    ApiClient, TestServer, WAIT, create_webhook, only_delivery_for_event, post_event,
    training_complete, wait_for_delivery_status,
};
use base64::Engine;
use herald_core::network::AllowedNetworks;
use herald_server::DnsOverrides;
use mailparse::MailHeaderMap;
use secrecy::SecretString;
use serde_json::{Value, json};

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
struct Received {
    mail_from: String,
    rcpt_tos: Vec<String>,
    raw: Vec<u8>,
    auth_login: Option<String>,
}

/// The SMTP server process; killed when dropped.
struct SmtpSink {
    child: Child,
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    fn start(args: &[&str]) -> SmtpSink {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let python = crate::common::python::interpreter();
        let mut child = Command::new(&python)
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e} (run scripts/test, which sets it up)",
                    python.display()
                )
            });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_else(|| {
            panic!(
                "the SMTP test server did not start under {}: run scripts/test, which \
                     installs tests/support/requirements.txt",
                python.display()
            )
        });
        let port = first
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the SMTP server: {first}"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line).expect("a JSON line per message");
                sink.lock().unwrap().push(Received {
                    mail_from: v["mail_from"].as_str().unwrap().to_string(),
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_string())
                        .collect(),
                    raw: base64::engine::general_purpose::STANDARD
                        .decode(v["data"].as_str().unwrap())
                        .unwrap(),
                    auth_login: v["auth_login"].as_str().map(str::to_string),
                });
            }
        });
        SmtpSink {
            child,
            port,
            received,
        }
    }

    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + WAIT;
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server got {} message(s), expected {n}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn delivered(client: &ApiClient, event_id: &str) -> Value {
    let delivery = only_delivery_for_event(client, event_id).await;
    wait_for_delivery_status(client, &delivery, "delivered", WAIT).await
}

/// A server whose default mail server is the plain-text sink on `port`.
async fn with_relay(port: u16, dev: bool) -> TestServer {
    TestServer::start_with(move |s| {
        s.dev = dev;
        s.smtp_url = Some(SecretString::from(format!(
            "smtp://127.0.0.1:{port}?tls=none"
        )));
        s.smtp_from = Some("Herald <herald@acme.test>".to_string());
    })
    .await
}

#[tokio::test]
async fn email_goes_out_as_text_and_html_to_every_recipient() {
    let sink = SmtpSink::start(&[]);
    let port = sink.port;
    let server = with_relay(port, true).await;
    let client = server.client();
    create_webhook(
        &client,
        json!({
            "name": "ml team mail",
            "provider": "email",
            "settings": {
                "to": ["ops@acme.test", "ml@acme.test"],
                "cc": ["lead@acme.test"],
                "bcc": ["audit@acme.test"],
            },
        }),
    )
    .await;
    post_event(&client, training_complete("evt_mail_1")).await;
    post_event(&client, training_complete("evt_mail_2")).await;

    let messages = sink.wait_for(2).await;
    let message = &messages[0];
    assert_eq!(message.mail_from, "herald@acme.test");
    let mut rcpts = message.rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(
        rcpts,
        [
            "audit@acme.test",
            "lead@acme.test",
            "ml@acme.test",
            "ops@acme.test"
        ]
    );
    assert_eq!(message.auth_login, None);

    let mail = mailparse::parse_mail(&message.raw).expect("a parseable message");
    let header = |name: &str| mail.headers.get_first_value(name);
    let subject = header("Subject").expect("Subject");
    assert!(
        subject.contains("Training complete — ResNet34"),
        "{subject}"
    );
    assert!(header("From").unwrap().contains("herald@acme.test"));
    let to = header("To").unwrap();
    assert!(
        to.contains("ops@acme.test") && to.contains("ml@acme.test"),
        "{to}"
    );
    assert!(header("Cc").unwrap().contains("lead@acme.test"));
    assert_eq!(header("Bcc"), None, "Bcc recipients stay hidden");
    assert_eq!(header("Auto-Submitted").as_deref(), Some("auto-generated"));
    assert!(header("Date").is_some());
    let id_1 = header("Message-ID").expect("Message-ID");
    let other = mailparse::parse_mail(&messages[1].raw).unwrap();
    let id_2 = other.headers.get_first_value("Message-ID").unwrap();
    assert_ne!(id_1, id_2, "every message has its own Message-ID");

    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    assert_eq!(mail.subparts.len(), 2);
    assert_eq!(mail.subparts[0].ctype.mimetype, "text/plain", "text first");
    assert_eq!(mail.subparts[1].ctype.mimetype, "text/html", "HTML last");
    let text = mail.subparts[0].get_body().unwrap();
    for part in [
        "Accuracy",
        "0.968",
        "Duration",
        "14m 32s",
        "https://ml.example.com/experiments/1234",
    ] {
        assert!(text.contains(part), "text part lacks {part}:\n{text}");
    }
    let html = mail.subparts[1].get_body().unwrap();
    assert!(html.contains("<table"), "fields as a table:\n{html}");
    assert!(
        html.contains("href=\"https://ml.example.com/experiments/1234\""),
        "buttons as links:\n{html}"
    );

    let delivery = delivered(&client, "evt_mail_1").await;
    let reply = delivery["attempts"][0]["response_body"].as_str().unwrap();
    assert!(reply.starts_with("250"), "{reply}");
}

#[tokio::test]
async fn a_webhook_can_log_in_to_its_own_mail_server() {
    let sink = SmtpSink::start(&["--auth", "herald:s3cret-pass"]);
    let server = TestServer::start().await;
    let client = server.client();
    let created = create_webhook(
        &client,
        json!({
            "name": "own server",
            "provider": "email",
            "settings": {
                "to": ["oncall@acme.test"],
                "from": "alerts@acme.test",
                "use_rich_formatting": false,
                "smtp": {
                    "host": "127.0.0.1",
                    "port": sink.port,
                    "tls": "none",
                    "username": "herald",
                    "password": "s3cret-pass",
                },
            },
        }),
    )
    .await;
    assert!(
        !created.to_string().contains("s3cret-pass"),
        "the SMTP password is never shown: {created}"
    );
    post_event(&client, training_complete("evt_mail_auth")).await;
    let messages = sink.wait_for(1).await;
    assert_eq!(messages[0].auth_login.as_deref(), Some("herald"));
    assert_eq!(messages[0].rcpt_tos, ["oncall@acme.test"]);
    let mail = mailparse::parse_mail(&messages[0].raw).unwrap();
    assert_eq!(
        mail.ctype.mimetype, "text/plain",
        "without rich formatting only the text part is sent"
    );
    assert!(
        mail.get_body()
            .unwrap()
            .contains("Training complete — ResNet34")
    );
    delivered(&client, "evt_mail_auth").await;
}

#[tokio::test]
async fn smtp_5xx_fails_and_4xx_retries() {
    for (code, status, outcome) in [("550", "failed", "failed"), ("451", "retrying", "retry")] {
        let sink = SmtpSink::start(&["--reject", code]);
        let server = TestServer::start().await;
        let client = server.client();
        create_webhook(
            &client,
            json!({
                "name": "refused",
                "provider": "email",
                "retry": {"initial_delay_ms": 60_000},
                "settings": {
                    "to": ["ops@acme.test"],
                    "from": "alerts@acme.test",
                    "smtp": {"host": "127.0.0.1", "port": sink.port, "tls": "none"},
                },
            }),
        )
        .await;
        let event_id = format!("evt_smtp_{code}");
        post_event(&client, training_complete(&event_id)).await;
        let delivery = only_delivery_for_event(&client, &event_id).await;
        let delivery = wait_for_delivery_status(&client, &delivery, status, WAIT).await;
        let attempt = &delivery["attempts"][0];
        assert_eq!(attempt["outcome"], outcome, "SMTP {code}: {delivery:#}");
        assert_eq!(
            attempt["error_category"], "smtp",
            "SMTP {code}: {delivery:#}"
        );
        assert!(
            attempt["error_message"].as_str().unwrap().contains(code),
            "SMTP {code}: {delivery:#}"
        );
    }
}

#[tokio::test]
async fn outside_dev_mode_a_webhooks_own_mail_server_is_reached_only_at_a_checked_address() {
    let sink = SmtpSink::start(&[]);
    let allowed = AllowedNetworks::parse("127.0.0.1/32").unwrap();
    // `mail.mixed.test` would reach the sink through its first answer if
    // only that one were checked.
    let overrides = DnsOverrides::parse(
        "mail.inside.test=127.0.0.1,mail.mixed.test=127.0.0.1,mail.mixed.test=10.0.0.25",
    )
    .unwrap();
    let server = TestServer::start_with(move |s| {
        s.dev = false;
        s.allowed_networks = allowed.clone();
        s.dns_overrides = overrides.clone();
    })
    .await;
    let client = server.client();
    for (i, host) in ["mail.mixed.test", "mail.inside.test"].iter().enumerate() {
        create_webhook(
            &client,
            json!({
                "name": host,
                "provider": "email",
                "event_types": [format!("mail.{i}")],
                "retry": {"strategy": "none"},
                "settings": {
                    "to": ["ops@acme.test"],
                    "from": "alerts@acme.test",
                    "smtp": {"host": host, "port": sink.port, "tls": "none"},
                },
            }),
        )
        .await;
    }
    post_event(
        &client,
        json!({"id": "evt_mixed", "type": "mail.0", "data": {}}),
    )
    .await;
    let delivery = only_delivery_for_event(&client, "evt_mixed").await;
    let delivery = wait_for_delivery_status(&client, &delivery, "failed", WAIT).await;
    let attempt = &delivery["attempts"][0];
    assert_eq!(
        attempt["error_category"], "blocked_destination",
        "{attempt:#}"
    );
    let message = attempt["error_message"].as_str().unwrap();
    assert!(
        message.contains("`mail.mixed.test` resolves to") && message.contains("10.0.0.25"),
        "{message}"
    );

    // The allowed name is delivered, through the address it was checked at.
    post_event(
        &client,
        json!({"id": "evt_inside", "type": "mail.1", "data": {}}),
    )
    .await;
    delivered(&client, "evt_inside").await;
    let messages = sink.wait_for(1).await;
    assert_eq!(
        messages.len(),
        1,
        "the blocked webhook's mail never went out"
    );
    assert_eq!(messages[0].rcpt_tos, ["ops@acme.test"]);
}

#[tokio::test]
async fn outside_dev_mode_the_operators_mail_server_is_trusted() {
    let sink = SmtpSink::start(&[]);
    let port = sink.port;
    // A relay on loopback, as operators often run one, with no allowlist.
    let server = with_relay(port, false).await;
    let client = server.client();
    create_webhook(
        &client,
        json!({"name": "ops mail", "provider": "email", "settings": {"to": ["ops@acme.test"]}}),
    )
    .await;
    post_event(&client, training_complete("evt_trusted_relay")).await;
    delivered(&client, "evt_trusted_relay").await;
    assert_eq!(sink.wait_for(1).await[0].rcpt_tos, ["ops@acme.test"]);
}

/// A plain relay reached with STARTTLS (the default) used to be refused
/// with "STARTTLS is not supported on this server: STARTTLS is not
/// supported on this server" and no hint; it is said once, with the fix.
#[tokio::test]
async fn a_relay_without_starttls_is_named_once_with_the_setting_to_change() {
    let sink = SmtpSink::start(&[]);
    let port = sink.port;
    let server = TestServer::start_with(move |s| {
        s.smtp_url = Some(SecretString::from(format!("smtp://127.0.0.1:{port}")));
        s.smtp_from = Some("Herald <herald@acme.test>".to_string());
    })
    .await;
    let client = server.client();
    create_webhook(
        &client,
        json!({"name": "mail", "provider": "email", "settings": {"to": ["ops@acme.test"]},
               "retry": {"max_retries": 0}}),
    )
    .await;
    post_event(&client, training_complete("evt_starttls")).await;
    let delivery_id = only_delivery_for_event(&client, "evt_starttls").await;
    let delivery = wait_for_delivery_status(&client, &delivery_id, "failed", WAIT).await;
    let (_, detail) = client
        .get(&format!("/api/v1/deliveries/{delivery_id}"))
        .await;
    let message = detail["attempts"][0]["error_message"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        message.matches("STARTTLS is not supported").count(),
        1,
        "{message} ({delivery})"
    );
    assert!(
        message.contains("`?tls=none` to HERALD_SMTP_URL"),
        "{message}"
    );
}

/// Waits for the delivery of `event_id` to the webhook `webhook_id` to
/// reach `status`.
async fn delivery_to(client: &ApiClient, event_id: &str, webhook_id: &str, status: &str) -> Value {
    let ids = crate::common::delivery_ids_for_event(client, event_id).await;
    for id in ids {
        let (_, d) = client.get(&format!("/api/v1/deliveries/{id}")).await;
        if d["webhook_id"] == webhook_id {
            return wait_for_delivery_status(client, &id, status, WAIT).await;
        }
    }
    panic!("no delivery of {event_id} to {webhook_id}");
}

#[tokio::test]
async fn an_attachment_arrives_intact_only_where_the_webhook_allows_it() {
    let sink = SmtpSink::start(&[]);
    let server = with_relay(sink.port, true).await;
    let client = server.client();
    let with_files = create_webhook(
        &client,
        json!({
            "name": "reports with files",
            "provider": "email",
            "event_types": ["report.ready"],
            "settings": {"to": ["files@acme.test"], "attachments": true},
        }),
    )
    .await;
    create_webhook(
        &client,
        json!({
            "name": "reports without files",
            "provider": "email",
            "event_types": ["report.ready"],
            "settings": {"to": ["plain@acme.test"]},
        }),
    )
    .await;
    let bytes: Vec<u8> = (0..=255).collect();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    post_event(
        &client,
        json!({
            "id": "evt_mail_files",
            "type": "report.ready",
            "data": {
                "title": "Q3 report",
                "message": "Numbers attached.",
                "attachments": [
                    {
                        "filename": "../../exports/all bytes.bin",
                        "content_type": "application/x-herald-test",
                        "content_base64": b64(&bytes),
                    },
                    {
                        "filename": "C:\\tmp\\\"evil\"\r\nX-Injected: 1.txt",
                        "content_type": "text/plain\r\nX-Injected: 1",
                        "content_base64": b64(b"line one\nline two\r\n"),
                    },
                    {"filename": "résumé.pdf", "content_base64": b64(b"%PDF-1.4")},
                ],
            },
        }),
    )
    .await;
    let messages = sink.wait_for(2).await;
    let find = |to: &str| {
        messages
            .iter()
            .find(|m| m.rcpt_tos == [to])
            .unwrap_or_else(|| panic!("no message to {to}"))
    };

    let raw = &find("files@acme.test").raw;
    let text = String::from_utf8_lossy(raw);
    assert!(
        !text.lines().any(|l| l.starts_with("X-Injected")),
        "no header injection:\n{text}"
    );
    let mail = mailparse::parse_mail(raw).expect("a parseable message");
    assert_eq!(mail.ctype.mimetype, "multipart/mixed");
    assert_eq!(mail.subparts.len(), 4, "the body and three files");
    let body = &mail.subparts[0];
    assert_eq!(body.ctype.mimetype, "multipart/alternative");
    assert_eq!(body.subparts[0].ctype.mimetype, "text/plain");
    assert_eq!(body.subparts[1].ctype.mimetype, "text/html");
    let body_text = body.subparts[0].get_body().unwrap();
    assert!(body_text.contains("Numbers attached."), "{body_text}");
    assert!(
        !body_text.contains(&b64(&bytes)[..40]) && !body_text.contains("content_base64"),
        "no base64 in the text:\n{body_text}"
    );
    let files: Vec<(String, String, Vec<u8>)> = mail.subparts[1..]
        .iter()
        .map(|part| {
            let disposition = part.get_content_disposition();
            assert_eq!(
                disposition.disposition,
                mailparse::DispositionType::Attachment
            );
            (
                disposition
                    .params
                    .get("filename")
                    .cloned()
                    .unwrap_or_default(),
                part.ctype.mimetype.clone(),
                part.get_body_raw().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            (
                "all bytes.bin".to_string(),
                "application/x-herald-test".to_string(),
                bytes.clone()
            ),
            (
                "evilX-Injected_ 1.txt".to_string(),
                "application/octet-stream".to_string(),
                b"line one\nline two\r\n".to_vec()
            ),
            (
                "résumé.pdf".to_string(),
                "application/octet-stream".to_string(),
                b"%PDF-1.4".to_vec()
            ),
        ]
    );

    let plain = mailparse::parse_mail(&find("plain@acme.test").raw).unwrap();
    assert_eq!(
        plain.ctype.mimetype, "multipart/alternative",
        "without settings.attachments no file is sent"
    );
    assert!(
        plain
            .subparts
            .iter()
            .all(|p| p.get_content_disposition().disposition
                != mailparse::DispositionType::Attachment)
    );
    let id = with_files["id"].as_str().unwrap();
    delivery_to(&client, "evt_mail_files", id, "delivered").await;
}

#[tokio::test]
async fn attachments_over_the_caps_or_not_base64_fail_at_once() {
    let sink = SmtpSink::start(&[]);
    let server = with_relay(sink.port, true).await;
    let client = server.client();
    create_webhook(
        &client,
        json!({
            "name": "files",
            "provider": "email",
            "retry": {"initial_delay_ms": 10},
            "settings": {"to": ["files@acme.test"], "attachments": true},
        }),
    )
    .await;
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"filename": format!("f{i}.txt"), "content_base64": "eA=="}))
        .collect();
    for (id, attachments, part) in [
        (
            "evt_files_many",
            json!(eleven),
            "data.attachments: holds 11 files",
        ),
        (
            "evt_files_bad",
            json!([{"filename": "a.txt", "content_base64": "eA=="}, {"content_base64": "not base64!"}]),
            "data.attachments[1].content_base64: is not valid base64",
        ),
        (
            "evt_files_shape",
            json!([{"filename": "a.txt"}]),
            "data.attachments[0].content_base64: is required",
        ),
    ] {
        post_event(
            &client,
            json!({"id": id, "type": "report.ready", "data": {"attachments": attachments}}),
        )
        .await;
        let delivery = only_delivery_for_event(&client, id).await;
        let delivery = wait_for_delivery_status(&client, &delivery, "failed", WAIT).await;
        let attempts = delivery["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "never retried: {delivery:#}");
        assert_eq!(attempts[0]["error_category"], "render", "{delivery:#}");
        let message = attempts[0]["error_message"].as_str().unwrap();
        assert!(message.starts_with(part), "{id}: {message}");
    }
    // The file size caps (5 MiB each, 10 MiB together) lie beyond the
    // default event size; the provider's tests cover them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        sink.received.lock().unwrap().is_empty(),
        "nothing was mailed"
    );
}

#[tokio::test]
async fn the_attachments_setting_is_checked_when_the_webhook_is_saved() {
    let server = TestServer::start().await;
    let client = server.client();
    let (status, answer) = client
        .post(
            "/api/v1/webhooks",
            json!({
                "name": "files",
                "provider": "email",
                "settings": {"to": ["files@acme.test"], "from": "a@acme.test",
                             "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none"},
                             "attachments": "yes"},
            }),
        )
        .await;
    assert_eq!(
        status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "{answer}"
    );
    assert_eq!(answer["error"]["field"], "settings.attachments", "{answer}");
}
