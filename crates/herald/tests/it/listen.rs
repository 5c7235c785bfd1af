//! `herald listen` and `herald signature verify`, as the real binary: a
//! Herald server delivers to `listen`, which checks each signature and
//! forwards the request to an app on loopback, whose answer lands in the
//! server's delivery log; forged requests are refused, or forwarded with
//! `--forward-invalid`.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::common::{
    Receiver, Reply, TestServer, only_delivery_for_event, post_event, wait_for_delivery_status,
    wait_until,
};

const WAIT: Duration = Duration::from_secs(20);

/// A running `herald listen` and the lines it printed so far.
struct Listener {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    printed: Arc<Notify>,
    /// Reads its stdout to the end.
    reader: tokio::task::JoinHandle<()>,
}

impl Listener {
    fn spawn(server: &TestServer, args: &[&str]) -> Listener {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("listen")
            .args(["--url", &server.url("")])
            .args(["--token", server.client().token().expect("admin token")])
            .args(args)
            .env_remove("HERALD_TENANT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start herald listen");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let printed = Arc::new(Notify::new());
        let stdout = child.stdout.take().expect("piped stdout");
        let (into, notify) = (lines.clone(), printed.clone());
        let reader = tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                into.lock().unwrap().push(line);
                notify.notify_waiters();
            }
        });
        Listener {
            child,
            lines,
            printed,
            reader,
        }
    }

    /// The first line printed that `matches`, waiting for it.
    async fn line(&self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let printed = self.printed.notified();
            tokio::pin!(printed);
            printed.as_mut().enable();
            if let Some(line) = self.lines.lock().unwrap().iter().find(|l| matches(l)) {
                return line.clone();
            }
            if tokio::time::timeout_at(deadline, printed).await.is_err() {
                panic!(
                    "herald listen did not print {what}; it printed: {:#?}",
                    self.lines.lock().unwrap()
                );
            }
        }
    }

    /// The listener's address and its webhook, from its first line.
    async fn started(&self) -> (String, String) {
        let line = self
            .line("where it listens", |l| l.starts_with("Listening on "))
            .await;
        let words: Vec<&str> = line.split_whitespace().collect();
        (words[2].to_string(), words[5].to_string())
    }

    /// Stops it as Ctrl-C does, and waits for it to exit.
    async fn interrupt(mut self) -> Vec<String> {
        let pid = self.child.id().expect("still running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("herald listen stops on SIGINT")
            .expect("wait for herald listen");
        assert!(status.success(), "herald listen exited with {status}");
        // The last lines are in once the reader has met the end of stdout.
        tokio::time::timeout(WAIT, self.reader)
            .await
            .expect("stdout closes when herald listen exits")
            .expect("the reader ends");
        self.lines.lock().unwrap().clone()
    }
}

/// A request as Herald would send it, with a made-up signature.
async fn forged(listener_url: &str) -> (StatusCode, String) {
    let answer = reqwest::Client::new()
        .post(listener_url)
        .header("content-type", "application/json")
        .header("webhook-id", "msg_forged")
        .header(
            "webhook-timestamp",
            chrono::Utc::now().timestamp().to_string(),
        )
        .header(
            "webhook-signature",
            "v1,bm90IGEgcmVhbCBzaWduYXR1cmUgYXQgYWxsIQ==",
        )
        .body(r#"{"id":"evt_forged","type":"training.complete","data":{}}"#)
        .send()
        .await
        .expect("reach the listener");
    let status = answer.status();
    (status, answer.text().await.unwrap_or_default())
}

#[tokio::test]
async fn listen_forwards_verified_deliveries_and_refuses_forged_ones() {
    let server = TestServer::start().await;
    let client = server.client();
    let app = Receiver::start_with_default(
        Reply::status(201)
            .header("content-type", "application/json")
            .body(r#"{"app":"saw it"}"#),
    )
    .await;
    let listener = Listener::spawn(
        &server,
        &[
            "--forward-to",
            &app.url("/webhooks"),
            "--events",
            "training.*",
            "--print-secret",
        ],
    );
    let (listening, webhook_id) = listener.started().await;
    let secret_line = listener
        .line("the secret", |l| l.starts_with("Signing secret: "))
        .await;
    let secret = secret_line
        .trim_start_matches("Signing secret: ")
        .to_string();
    let (status, webhook) = client.get(&format!("/api/v1/webhooks/{webhook_id}")).await;
    assert_eq!(status, StatusCode::OK, "{webhook}");
    assert_eq!(webhook["url"], listening.as_str());
    assert_eq!(webhook["event_types"], json!(["training.*"]));

    // A real delivery: verified, forwarded exactly, the app's answer logged.
    let event = post_event(
        &client,
        json!({"type": "training.complete", "data": {"experiment_name": "ResNet34"}}),
    )
    .await;
    let event_id = event["id"].as_str().expect("event id");
    let seen = app.wait_for(1, WAIT).await;
    assert_eq!(seen[0].path, "/webhooks");
    assert_eq!(seen[0].json()["id"], event_id);
    let verified = herald_client::verify(
        &secret,
        &seen[0].headers,
        &seen[0].body,
        herald_client::verify::DEFAULT_TOLERANCE,
    );
    assert!(
        verified.is_ok(),
        "the app gets Herald's own signed request: {verified:?}"
    );
    let delivery_id = only_delivery_for_event(&client, event_id).await;
    let delivery = wait_for_delivery_status(&client, &delivery_id, "delivered", WAIT).await;
    let attempt = &delivery["attempts"][0];
    assert_eq!(attempt["status_code"], 201, "{delivery:#}");
    assert!(
        attempt["response_body"]
            .as_str()
            .is_some_and(|b| b.contains("saw it")),
        "the app's body is in the delivery log: {attempt:#}"
    );
    listener
        .line("the verified delivery", |l| {
            l.starts_with("--> training.complete")
                && l.contains(event_id)
                && l.ends_with("[signature ok]")
        })
        .await;
    listener
        .line("the app's answer", |l| {
            l.starts_with("<-- 201 POST ") && l.contains("/webhooks") && l.ends_with(" ms")
        })
        .await;

    // A forged one: printed INVALID, refused, never reaches the app.
    let (status, body) = forged(&listening).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    listener
        .line("the forged request", |l| {
            l.contains("evt_forged") && l.contains("[signature INVALID]")
        })
        .await;
    app.assert_quiet(
        Duration::from_millis(300),
        1,
        "a forged request is not forwarded",
    )
    .await;

    // Stopping removes the webhook it made.
    let lines = listener.interrupt().await;
    assert!(
        lines
            .iter()
            .any(|l| l == &format!("Removed webhook {webhook_id}")),
        "{lines:#?}"
    );
    let (status, _) = client.get(&format!("/api/v1/webhooks/{webhook_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listen_reuses_a_webhook_and_forwards_invalid_ones_when_asked() {
    let server = TestServer::start().await;
    let client = server.client();
    let app = Receiver::start().await;
    let (status, webhook) = client
        .post(
            "/api/v1/webhooks",
            json!({"name": "mine", "url": "http://127.0.0.1:9/elsewhere", "event_types": ["*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    let id = webhook["id"].as_str().expect("id").to_string();
    let listener = Listener::spawn(
        &server,
        &[
            "--webhook",
            &id,
            "--forward-to",
            &app.url("/in"),
            "--forward-invalid",
        ],
    );
    let (listening, webhook_id) = listener.started().await;
    assert_eq!(webhook_id, id);
    let (_, now) = client.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(now["url"], listening.as_str(), "pointed at the listener");

    let (status, _) = forged(&listening).await;
    assert_eq!(status, StatusCode::OK, "the app's answer comes back");
    listener
        .line("the forged request", |l| l.contains("[signature INVALID]"))
        .await;
    let seen = app.wait_for(1, WAIT).await;
    assert_eq!(seen[0].header("webhook-id"), Some("msg_forged"));

    // A webhook it did not make stays when it stops.
    let lines = listener.interrupt().await;
    assert!(
        !lines.iter().any(|l| l.starts_with("Removed webhook")),
        "{lines:#?}"
    );
    let (status, _) = client.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn listen_without_forward_to_prints_and_answers_ok_and_explains_a_refused_url() {
    let server = TestServer::start().await;
    let client = server.client();
    let listener = Listener::spawn(&server, &["--print-body"]);
    let (_, webhook_id) = listener.started().await;
    post_event(
        &client,
        json!({"type": "task.created", "data": {"title": "Write docs"}}),
    )
    .await;
    listener
        .line("the delivery", |l| {
            l.starts_with("--> task.created evt_") && l.ends_with("[signature ok]")
        })
        .await;
    listener
        .line("the body", |l| l.contains("\"title\": \"Write docs\""))
        .await;
    let delivered = format!("/api/v1/webhooks/{webhook_id}/deliveries?status=delivered");
    wait_until(WAIT, "the delivery answered 200", || async {
        let (_, page) = client.get(&delivered).await;
        page["data"].as_array().map(Vec::len) == Some(1)
    })
    .await;
    listener.interrupt().await;

    // A server outside --dev refuses a loopback destination: say what to do.
    let strict = TestServer::start_with(|s| s.dev = false).await;
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["listen", "--url", &strict.url("")])
        .args(["--token", strict.client().token().unwrap()])
        .output()
        .await
        .expect("run herald listen");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--dev") && stderr.contains("--public-url"),
        "{stderr}"
    );
    let (_, list) = strict.client().get("/api/v1/webhooks").await;
    assert_eq!(list["data"], json!([]), "nothing was created");
}

#[tokio::test]
async fn signature_verify_checks_a_captured_request() {
    let server = TestServer::start().await;
    let client = server.client();
    let app = Receiver::start().await;
    let (_, webhook) = client
        .post(
            "/api/v1/webhooks",
            json!({"name": "v", "url": app.url("/h")}),
        )
        .await;
    let secret = webhook["secret"]
        .as_str()
        .expect("secret on create")
        .to_string();
    post_event(&client, json!({"type": "a.b", "data": {"n": 1}})).await;
    let seen = app.wait_for(1, WAIT).await;
    let dir = tempfile::tempdir().unwrap();
    let headers: String = seen[0]
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap()))
        .collect();
    std::fs::write(
        dir.path().join("headers"),
        format!("POST /h HTTP/1.1\n{headers}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("body"), &seen[0].body).unwrap();
    let mut tampered = seen[0].json();
    tampered["data"]["n"] = Value::from(2);
    std::fs::write(dir.path().join("tampered"), tampered.to_string()).unwrap();

    let verify = |body: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["signature", "verify", "--secret", &secret])
            .arg("--headers")
            .arg(format!("@{}", dir.path().join("headers").display()))
            .arg("--body")
            .arg(format!("@{}", dir.path().join(body).display()))
            .output()
            .expect("run herald signature verify")
    };
    let good = verify("body");
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{stdout}");
    assert!(stdout.starts_with("signature ok (standard"), "{stdout}");
    let bad = verify("tampered");
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("signature INVALID"), "{stdout}");
}

#[tokio::test]
async fn an_app_that_is_down_or_answers_too_much_is_a_502_in_the_log() {
    let server = TestServer::start().await;
    let client = server.client();
    let huge = "x".repeat(11 << 20);
    let app = Receiver::start_with_default(Reply::ok().body(&huge)).await;
    let down = format!("http://127.0.0.1:{}/webhooks", crate::common::closed_port());
    for (to, why) in [(app.url("/in"), "over"), (down, "onnect")] {
        let listener = Listener::spawn(&server, &["--forward-to", &to]);
        let (_, webhook_id) = listener.started().await;
        let event = post_event(&client, json!({"type": "a.b", "data": {}})).await;
        let event_id = event["id"].as_str().expect("event id");
        let delivery_id = only_delivery_for_event(&client, event_id).await;
        wait_until(WAIT, "the first attempt is recorded", || async {
            let (_, d) = client
                .get(&format!("/api/v1/deliveries/{delivery_id}"))
                .await;
            d["attempts"][0]["status_code"] == 502
        })
        .await;
        listener
            .line("the failed forward", |l| {
                l.starts_with("<-- error POST ") && l.contains(why)
            })
            .await;
        listener.interrupt().await;
        let (status, _) = client.get(&format!("/api/v1/webhooks/{webhook_id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
