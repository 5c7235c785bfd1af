//! The `herald` command line: the real binary against a real server, for
//! every command group. `--json` answers are parsed back and checked, bad
//! input exits with its documented code and a one-line message naming the
//! field, and changes nothing.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{
    ADMIN_TOKEN, Receiver, Reply, TestServer, WAIT, closed_port, create_webhook,
    wait_for_delivery_status, webhook_body,
};

/// The documented exit codes (docs/CLI.md).
const USAGE: i32 = 2;
const NOT_FOUND: i32 = 3;
const AUTH: i32 = 4;
const VALIDATION: i32 = 5;
const CONFLICT: i32 = 6;
const UNREACHABLE: i32 = 9;

/// Runs `herald` against one server, from an empty directory (so no
/// `./herald-data/admin-token` is picked up unless a test puts one there).
struct Herald {
    url: String,
    dir: TempDir,
}

/// What one run did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts success and returns stdout.
    fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "herald failed: stdout {}\nstderr {}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts the exit code and a one-line message on stderr mentioning
    /// every one of `words`.
    fn fails(&self, code: i32, words: &[&str]) {
        assert_eq!(
            self.code, code,
            "exit code; stdout {}\nstderr {}",
            self.stdout, self.stderr
        );
        let message = self.stderr.trim_end();
        assert_eq!(message.lines().count(), 1, "one line: {message:?}");
        assert!(message.starts_with("error: "), "{message}");
        for word in words {
            assert!(message.contains(word), "{word:?} not in {message:?}");
        }
    }
}

impl Herald {
    fn new(server: &TestServer) -> Self {
        Self {
            url: server.url(""),
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[("HERALD_TOKEN", ADMIN_TOKEN)]).await
    }

    async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output: Output = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .current_dir(self.dir.path())
            .env("HERALD_URL", &self.url)
            .env_remove("HERALD_TOKEN")
            .env_remove("HERALD_TENANT")
            .env_remove("HERALD_DATA_DIR")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("run herald");
        Run {
            code: output.status.code().expect("exit code"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.path().join(name), text).expect("write file");
        self.path(name)
    }
}

async fn webhook_count(server: &TestServer) -> usize {
    let (_, list) = server.client().get("/api/v1/webhooks").await;
    list["data"].as_array().expect("data").len()
}

#[tokio::test]
async fn webhooks_commands() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let herald = Herald::new(&server);
    let api = server.client();

    let created = herald
        .run(&[
            "webhooks",
            "create",
            "--json",
            "--name",
            "ci",
            "--webhook-url",
            &receiver.url("/hook"),
            "-e",
            "training.complete,deploy.*",
            "--tag",
            "ml",
            "--header",
            "X-Team: ml",
            "--description",
            "goes away",
            "--max-retries",
            "3",
        ])
        .await;
    let hook = created.json();
    created.ok();
    let id = hook["id"].as_str().expect("id").to_string();
    assert!(
        hook["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    assert_eq!(
        hook["event_types"],
        json!(["training.complete", "deploy.*"])
    );
    assert_eq!(hook["headers"], json!({"X-Team": "ml"}));
    assert_eq!(hook["retry"]["max_retries"], 3);
    // `--json` is the API's answer itself.
    let (_, stored) = api.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(stored["name"], "ci");

    // --from-file gives the rest; flags override it.
    let file = herald.write(
        "hook.json",
        &json!({"name": "from file", "url": receiver.url("/file"), "timeout_ms": 5000,
                "retry": {"strategy": "fixed", "initial_delay_ms": 2000}})
        .to_string(),
    );
    let second = herald
        .run(&[
            "webhooks",
            "create",
            "--json",
            "--from-file",
            &file,
            "--name",
            "flag wins",
            "--max-retries",
            "1",
        ])
        .await
        .json();
    assert_eq!(second["name"], "flag wins");
    assert_eq!(second["timeout_ms"], 5000);
    assert_eq!(second["retry"]["strategy"], "fixed");
    assert_eq!(second["retry"]["max_retries"], 1);
    let second_id = second["id"].as_str().unwrap().to_string();

    // list: a table by default, the API's page with --json.
    let table = herald.run(&["webhooks", "list"]).await;
    let text = table.ok();
    assert!(text.starts_with("ID"), "{text}");
    assert!(text.contains(&id) && text.contains("flag wins"), "{text}");
    let page = herald
        .run(&["webhooks", "list", "--json", "--tag", "ml"])
        .await
        .json();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["id"], id.as_str());
    let page = herald
        .run(&["webhooks", "list", "--json", "--limit", "1"])
        .await
        .json();
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let rest = herald
        .run(&[
            "webhooks", "list", "--json", "--limit", "1", "--cursor", &cursor,
        ])
        .await
        .json();
    assert_eq!(rest["data"][0]["id"], second_id.as_str());

    let get = herald.run(&["webhooks", "get", &id]).await;
    assert!(get.ok().contains("health:"), "{}", get.stdout);
    let got = herald.run(&["webhooks", "get", &id, "--json"]).await.json();
    assert!(got["health"]["state"].is_string());

    let updated = herald
        .run(&[
            "webhooks",
            "update",
            &id,
            "--json",
            "--name",
            "renamed",
            "--reset",
            "description",
        ])
        .await
        .json();
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["description"], Value::Null);

    herald.run(&["webhooks", "pause", &id]).await.ok();
    let (_, paused) = api.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(paused["status"], "paused");
    let resumed = herald
        .run(&["webhooks", "resume", &id, "--json"])
        .await
        .json();
    assert_eq!(resumed["status"], "active");
    herald
        .run(&["webhooks", "enable", &id])
        .await
        .fails(CONFLICT, &["invalid_state"]);

    let tested = herald
        .run(&[
            "webhooks",
            "test",
            &id,
            "--json",
            "--type",
            "ci.test",
            "--data",
            r#"{"n": 1}"#,
        ])
        .await
        .json();
    assert_eq!(tested["success"], true, "{tested}");
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.json()["type"], "ci.test");

    let secret = herald
        .run(&["webhooks", "secret", &id, "--json"])
        .await
        .json();
    assert_eq!(secret["secret"], hook["secret"]);
    let rotated = herald
        .run(&[
            "webhooks",
            "rotate-secret",
            &id,
            "--json",
            "--grace-period-hours",
            "0",
        ])
        .await
        .json();
    assert_ne!(rotated["secret"], hook["secret"]);
    assert_eq!(rotated["previous"], json!([]));

    let schedule = herald
        .run(&["webhooks", "retry-schedule", &id, "--json"])
        .await
        .json();
    assert_eq!(schedule["webhook_id"], id.as_str());
    assert_eq!(
        schedule["attempts"].as_array().unwrap().len(),
        4,
        "1 + 3 retries"
    );
    let text = herald.run(&["webhooks", "retry-schedule", &id]).await;
    assert!(text.ok().contains("SINCE FIRST TRY"), "{}", text.stdout);
    assert!(text.stdout.contains("worst case"), "{}", text.stdout);

    let requeued = herald
        .run(&[
            "webhooks",
            "retry-failed",
            &id,
            "--json",
            "--max-age-hours",
            "1",
        ])
        .await
        .json();
    assert_eq!(requeued["requeued"], 0);

    // delete one; deleting several at once names the one not found.
    herald.run(&["webhooks", "delete", &id]).await.ok();
    herald
        .run(&["webhooks", "get", &id])
        .await
        .fails(NOT_FOUND, &["id", "not_found"]);
    let bulk = herald.run(&["webhooks", "delete", &second_id, &id]).await;
    bulk.fails(NOT_FOUND, &[&id]);
    assert!(bulk.stdout.contains(&second_id), "{}", bulk.stdout);
    assert_eq!(webhook_count(&server).await, 0);
}

#[tokio::test]
async fn webhook_filters_from_the_command_line() {
    let server = TestServer::start().await;
    let herald = Herald::new(&server);
    let created = herald
        .run(&[
            "webhooks",
            "create",
            "--json",
            "--name",
            "pd",
            "--webhook-url",
            "http://127.0.0.1:9/h",
            "--filter",
            r#"{"data": {"severity": {"$in": ["high", "critical"]}}}"#,
            "--filter-expr",
            "event.data.amount >= 1000",
        ])
        .await;
    let webhook = created.json();
    assert_eq!(
        webhook["filter"],
        json!({"match": {"data": {"severity": {"$in": ["high", "critical"]}}},
               "expr": "event.data.amount >= 1000"}),
        "{}",
        created.stdout
    );
    let id = webhook["id"].as_str().unwrap();
    let shown = herald.run(&["webhooks", "get", id]).await;
    assert!(
        shown
            .ok()
            .contains(r#"{"data":{"severity":{"$in":["high","critical"]}}}"#),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("event.data.amount >= 1000"),
        "{}",
        shown.stdout
    );
    // A flag replaces the whole filter; `--reset filter` removes it.
    let updated = herald
        .run(&["webhooks", "update", id, "--json", "--filter-expr", "true"])
        .await;
    assert_eq!(
        updated.json()["filter"],
        json!({"expr": "true"}),
        "{}",
        updated.stdout
    );
    let reset = herald
        .run(&["webhooks", "update", id, "--json", "--reset", "filter"])
        .await;
    assert!(reset.json()["filter"].is_null(), "{}", reset.stdout);
    // Refused by the server, naming the part at fault.
    herald
        .run(&[
            "webhooks",
            "update",
            id,
            "--filter",
            r#"{"data.x": {"$foo": 1}}"#,
        ])
        .await
        .fails(VALIDATION, &["filter.match.data.x.$foo"]);
    herald
        .run(&["webhooks", "update", id, "--filter", "{not json"])
        .await
        .fails(USAGE, &["--filter"]);
}

#[tokio::test]
async fn scheduling_from_the_command_line() {
    let server = TestServer::start().await;
    let herald = Herald::new(&server);
    create_webhook(
        &server.client(),
        webhook_body("http://127.0.0.1:9/later", json!({})),
    )
    .await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let sent = herald
        .run(&[
            "events",
            "send",
            "--json",
            "--type",
            "reminder.due",
            "--id",
            "later-cli",
            "--deliver-at",
            &later,
        ])
        .await;
    assert_eq!(sent.json()["id"], "later-cli", "{}", sent.stdout);
    let shown = herald.run(&["events", "get", "later-cli"]).await;
    assert!(shown.ok().contains("deliver at"), "{}", shown.stdout);
    let cancelled = herald
        .run(&["events", "cancel", "later-cli", "--json"])
        .await;
    assert_eq!(
        cancelled.json(),
        json!({"id": "later-cli", "cancelled": 1}),
        "{}",
        cancelled.stdout
    );
    herald
        .run(&["events", "cancel", "later-cli"])
        .await
        .fails(CONFLICT, &["later-cli"]);
    herald
        .run(&["events", "send", "--type", "a", "--deliver-at", "soon"])
        .await
        .fails(USAGE, &["--deliver-at"]);

    let created = herald
        .run(&[
            "schedules",
            "create",
            "--json",
            "--name",
            "weekly",
            "--cron",
            "0 9 * * MON",
            "--timezone",
            "Europe/Berlin",
            "--type",
            "report.weekly",
            "--data",
            r#"{"report": "usage"}"#,
        ])
        .await;
    let schedule = created.json();
    assert_eq!(
        schedule["next_runs"].as_array().unwrap().len(),
        5,
        "{}",
        created.stdout
    );
    assert_eq!(schedule["event"]["data"], json!({"report": "usage"}));
    let id = schedule["id"].as_str().unwrap();
    let list = herald.run(&["schedules", "list"]).await;
    assert!(list.ok().contains("0 9 * * MON"), "{}", list.stdout);
    let paused = herald.run(&["schedules", "pause", id]).await;
    assert!(paused.ok().contains("paused"), "{}", paused.stdout);
    let resumed = herald.run(&["schedules", "resume", id, "--json"]).await;
    assert_eq!(resumed.json()["paused"], false, "{}", resumed.stdout);
    herald
        .run(&[
            "schedules",
            "create",
            "--name",
            "bad",
            "--cron",
            "* * *",
            "--type",
            "a",
        ])
        .await
        .fails(VALIDATION, &["cron"]);
    herald.run(&["schedules", "delete", id]).await.ok();
    herald
        .run(&["schedules", "get", id])
        .await
        .fails(NOT_FOUND, &[id]);
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    let server = TestServer::start().await;
    let herald = Herald::new(&server);
    fn create<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["webhooks", "create", "--name", "bad"];
        args.extend_from_slice(extra);
        args
    }

    // Refused by the server: the API's field and code, exit 5.
    herald
        .run(&create(&["--webhook-url", "not a url"]))
        .await
        .fails(VALIDATION, &["url", "validation_error", "422"]);
    herald
        .run(&create(&[
            "--webhook-url",
            "http://127.0.0.1:9/",
            "--timeout-ms",
            "5",
        ]))
        .await
        .fails(VALIDATION, &["timeout_ms"]);
    let typo = herald.write(
        "typo.json",
        r#"{"url": "http://127.0.0.1:9/", "evnt_types": ["*"]}"#,
    );
    herald
        .run(&create(&["--from-file", &typo]))
        .await
        .fails(VALIDATION, &["evnt_types"]);
    herald
        .run(&["events", "send", "--type", "bad type!"])
        .await
        .fails(VALIDATION, &["type"]);

    // Refused before anything is sent: exit 2.
    herald
        .run(&["events", "send", "--type", "t", "--data", "{bad"])
        .await
        .fails(USAGE, &["--data", "not valid JSON"]);
    herald
        .run(&["events", "send", "--type", "t", "--data", "@missing.json"])
        .await
        .fails(USAGE, &["--data", "missing.json"]);
    let not_object = herald.write("list.json", "[1]");
    herald
        .run(&create(&["--from-file", &not_object]))
        .await
        .fails(USAGE, &["--from-file", "object"]);
    herald
        .run(&create(&[
            "--webhook-url",
            "http://127.0.0.1:9/",
            "-H",
            "no colon",
        ]))
        .await
        .fails(USAGE, &["--header"]);
    herald
        .run(&["webhooks", "update", "wh_x"])
        .await
        .fails(USAGE, &["nothing to change"]);
    herald
        .run(&["analytics", "range", "--start", "yesterday"])
        .await
        .fails(USAGE, &["--start"]);
    let unknown_flag = herald.run(&["webhooks", "list", "--colour"]).await;
    assert_eq!(unknown_flag.code, USAGE, "{}", unknown_flag.stderr);
    assert!(
        unknown_flag.stderr.contains("--colour"),
        "{}",
        unknown_flag.stderr
    );
    let bad_value = herald
        .run(&["webhooks", "list", "--status", "asleep"])
        .await;
    assert_eq!(bad_value.code, USAGE, "{}", bad_value.stderr);

    // Credentials and reachability have their own codes.
    herald
        .run_with(
            &["webhooks", "list"],
            &[("HERALD_TOKEN", "wrong-wrong-wrong")],
        )
        .await
        .fails(AUTH, &["unauthorized"]);
    herald
        .run_with(&["webhooks", "list"], &[])
        .await
        .fails(AUTH, &["unauthorized"]);
    let unreachable = format!("http://127.0.0.1:{}", closed_port());
    herald
        .run(&["webhooks", "list", "--url", &unreachable])
        .await
        .fails(UNREACHABLE, &["cannot reach"]);

    // Nothing was stored.
    assert_eq!(webhook_count(&server).await, 0);
    let (_, events) = server.client().get("/api/v1/events").await;
    assert_eq!(events["data"], json!([]));
}

#[tokio::test]
async fn events_and_deliveries_commands() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let herald = Herald::new(&server);
    let api = server.client();
    let hook = create_webhook(&api, webhook_body(&receiver.url("/e"), json!({}))).await;
    let webhook_id = hook["id"].as_str().unwrap();

    let data = herald.write("data.json", r#"{"accuracy": 0.968}"#);
    let sent = herald
        .run(&[
            "events",
            "send",
            "--json",
            "--type",
            "training.complete",
            "--data",
            &format!("@{data}"),
            "--id",
            "run-42",
            "--source",
            "trainer",
        ])
        .await
        .json();
    assert_eq!(sent, json!({"id": "run-42", "deliveries": 1}));
    let human = herald
        .run(&["events", "send", "--type", "deploy.done", "--data", "{}"])
        .await;
    assert!(human.ok().contains("to 1 webhook(s)"), "{}", human.stdout);

    let batch = herald.write(
        "batch.json",
        r#"[{"type": "b.one", "id": "b1"}, {"type": "b.two", "id": "b2", "data": {"x": 1}}]"#,
    );
    let answer = herald
        .run(&["events", "send-batch", "--json", &format!("@{batch}")])
        .await
        .json();
    assert_eq!(answer["data"][1]["id"], "b2");
    let broken = herald.write("broken.json", r#"[{"type": "ok"}, {"data": {}}]"#);
    herald
        .run(&["events", "send-batch", &format!("@{broken}")])
        .await
        .fails(USAGE, &["events[1]", "type"]);

    let event = herald
        .run(&["events", "get", "run-42", "--json"])
        .await
        .json();
    assert_eq!(event["data"], json!({"accuracy": 0.968}));
    let delivery_id = event["deliveries"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_delivery_status(&api, &delivery_id, "delivered", WAIT).await;
    let text = herald.run(&["events", "get", "run-42"]).await;
    assert!(text.ok().contains(&delivery_id), "{}", text.stdout);
    let list = herald
        .run(&["events", "list", "--json", "--type", "b.two"])
        .await
        .json();
    assert_eq!(list["data"][0]["id"], "b2");

    let deliveries = herald
        .run(&["deliveries", "list", "--json", "--event", "run-42"])
        .await
        .json();
    assert_eq!(deliveries["data"][0]["id"], delivery_id.as_str());
    let table = herald
        .run(&[
            "deliveries",
            "list",
            "--webhook",
            webhook_id,
            "--status",
            "delivered",
        ])
        .await;
    assert!(table.ok().contains(&delivery_id), "{}", table.stdout);

    // One delivery, readable: its attempt with request and response.
    let shown = herald.run(&["deliveries", "get", &delivery_id]).await;
    let text = shown.ok();
    for part in [
        "status:",
        "attempt 1",
        "HTTP 200",
        "request headers:",
        "webhook-signature:",
        "response body:",
        "ok",
    ] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
    let detail = herald
        .run(&["deliveries", "get", &delivery_id, "--json"])
        .await
        .json();
    assert_eq!(detail["attempts"][0]["status_code"], 200);
    herald
        .run(&["deliveries", "retry", &delivery_id])
        .await
        .fails(CONFLICT, &["invalid_state"]);
    herald
        .run(&["deliveries", "get", "dlv_nope"])
        .await
        .fails(NOT_FOUND, &["id"]);

    let replayed = herald
        .run(&[
            "events",
            "replay",
            "run-42",
            "--json",
            "--webhook",
            webhook_id,
        ])
        .await
        .json();
    assert_eq!(replayed["deliveries"], 1);

    // A failed delivery is retried from the command line.
    let failing = Receiver::start_with_default(Reply::status(500)).await;
    let bad = create_webhook(
        &api,
        webhook_body(
            &failing.url("/f"),
            json!({"event_types": ["only.failing"], "retry": {"max_retries": 0}}),
        ),
    )
    .await;
    herald
        .run(&["events", "send", "--type", "only.failing", "--id", "f-1"])
        .await
        .ok();
    let list = herald
        .run(&["deliveries", "list", "--json", "--event", "f-1"])
        .await
        .json();
    assert_eq!(list["data"][0]["webhook_id"], bad["id"]);
    let failed_id = list["data"][0]["id"].as_str().unwrap().to_string();
    wait_for_delivery_status(&api, &failed_id, "failed", WAIT).await;
    let text = herald.run(&["deliveries", "get", &failed_id]).await;
    assert!(text.ok().contains("HTTP 500"), "{}", text.stdout);
    assert!(text.stdout.contains("http_5xx"), "{}", text.stdout);
    let retried = herald
        .run(&["deliveries", "retry", &failed_id, "--json"])
        .await
        .json();
    assert_ne!(retried["status"], "failed");
}

#[tokio::test]
async fn tenants_keys_audit_providers_and_analytics_commands() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let herald = Herald::new(&server);

    let tenant = herald
        .run(&["tenants", "create", "acme", "--json"])
        .await
        .json();
    let tenant_id = tenant["id"].as_str().unwrap().to_string();
    let key = tenant["api_key"].as_str().unwrap().to_string();
    let listed = herald.run(&["tenants", "list"]).await;
    assert!(listed.ok().contains("acme"), "{}", listed.stdout);
    let detail = herald
        .run(&["tenants", "get", &tenant_id, "--json"])
        .await
        .json();
    assert_eq!(detail["keys"].as_array().unwrap().len(), 1);

    // --tenant: the admin acts for acme; acme's key then sees the webhook.
    let created = herald
        .run(&[
            "webhooks",
            "create",
            "--json",
            "--tenant",
            &tenant_id,
            "--name",
            "acme hook",
            "--webhook-url",
            &receiver.url("/t"),
        ])
        .await
        .json();
    let seen = herald
        .run_with(&["webhooks", "list", "--json"], &[("HERALD_TOKEN", &key)])
        .await
        .json();
    assert_eq!(seen["data"][0]["id"], created["id"]);
    herald
        .run_with(&["tenants", "list"], &[("HERALD_TOKEN", &key)])
        .await
        .fails(AUTH, &["forbidden"]);

    // A portal link: its address, read-only and limited, shown once.
    let link = herald
        .run(&[
            "tenants",
            "portal-link",
            &tenant_id,
            "--read-only",
            "--features",
            "webhooks,deliveries",
            "--expires-in",
            "120",
            "--json",
        ])
        .await
        .json();
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .starts_with(&server.url("/ui/portal/")),
        "{link}"
    );
    assert_eq!(link["read_only"], true);
    assert_eq!(
        link["features"],
        serde_json::json!(["webhooks", "deliveries"])
    );
    let shown = herald.run(&["tenants", "portal-link", &tenant_id]).await;
    assert!(shown.ok().contains("works once"), "{}", shown.stdout);
    herald
        .run(&[
            "tenants",
            "portal-link",
            &tenant_id,
            "--features",
            "billing",
        ])
        .await
        .fails(VALIDATION, &["features[0]"]);

    let added = herald
        .run(&["keys", "add", &tenant_id, "--json"])
        .await
        .json();
    let keys = herald.run(&["keys", "list", &tenant_id]).await;
    assert!(
        keys.ok().contains(added["id"].as_str().unwrap()),
        "{}",
        keys.stdout
    );
    herald
        .run(&[
            "keys",
            "revoke",
            &tenant_id,
            tenant["api_key_id"].as_str().unwrap(),
        ])
        .await
        .ok();
    herald
        .run_with(&["webhooks", "list"], &[("HERALD_TOKEN", &key)])
        .await
        .fails(AUTH, &["unauthorized"]);

    let audit = herald
        .run(&["audit", "--json", "--tenant", &tenant_id])
        .await
        .json();
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "webhook.created")
    );
    let audit = herald.run(&["audit", "--resource", &tenant_id]).await;
    assert!(audit.ok().contains("tenant.created"), "{}", audit.stdout);

    let providers = herald.run(&["providers"]).await;
    assert!(providers.ok().contains("slack"), "{}", providers.stdout);
    let slack = herald.run(&["providers", "slack", "--json"]).await.json();
    assert_eq!(slack["name"], "slack");
    let slack = herald.run(&["providers", "slack"]).await;
    assert!(slack.ok().contains("settings:"), "{}", slack.stdout);
    herald
        .run(&["providers", "carrier-pigeon"])
        .await
        .fails(NOT_FOUND, &["carrier-pigeon"]);

    let summary = herald.run(&["analytics", "--tenant", &tenant_id]).await;
    assert!(summary.ok().contains("acme hook"), "{}", summary.stdout);
    let stats = herald.run(&["analytics", "stats", "--json"]).await.json();
    assert_eq!(stats["deliveries"]["total"], 0);
    let report = herald
        .run(&[
            "analytics",
            "webhook",
            created["id"].as_str().unwrap(),
            "--days",
            "2",
            "--json",
            "--tenant",
            &tenant_id,
        ])
        .await
        .json();
    assert_eq!(report["daily"].as_array().unwrap().len(), 2);
    let range = herald
        .run(&["analytics", "range", "--granularity", "6h", "--json"])
        .await
        .json();
    assert_eq!(range["meta"]["granularity"], "6h");
    // Grouped, only groups that had attempts are listed: none here.
    let range = herald
        .run(&["analytics", "range", "--group-by", "webhook_id"])
        .await;
    assert!(range.ok().contains("by 1h"), "{}", range.stdout);
    assert!(range.stdout.contains("(none)"), "{}", range.stdout);
    herald
        .run(&["analytics", "range", "--group-by", "colour"])
        .await
        .fails(VALIDATION, &["group_by"]);
    let tags = herald.run(&["analytics", "tags", "--json"]).await.json();
    assert_eq!(tags["data"], json!([]));

    herald.run(&["tenants", "delete", &tenant_id]).await.ok();
    herald
        .run(&["tenants", "get", &tenant_id])
        .await
        .fails(NOT_FOUND, &["not_found"]);
}

#[tokio::test]
async fn the_token_herald_serve_wrote_is_used_when_none_is_given() {
    let server = TestServer::start().await;
    let herald = Herald::new(&server);
    herald
        .run_with(&["webhooks", "list"], &[])
        .await
        .fails(AUTH, &["unauthorized"]);
    std::fs::create_dir(herald.dir.path().join("herald-data")).unwrap();
    herald.write("herald-data/admin-token", &format!("{ADMIN_TOKEN}\n"));
    herald.run_with(&["webhooks", "list"], &[]).await.ok();
    // HERALD_DATA_DIR points elsewhere: the file there counts.
    let elsewhere = herald.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    herald
        .run_with(&["webhooks", "list"], &[("HERALD_DATA_DIR", &elsewhere)])
        .await
        .fails(AUTH, &["unauthorized"]);
    std::fs::write(Path::new(&elsewhere).join("admin-token"), ADMIN_TOKEN).unwrap();
    herald
        .run_with(&["webhooks", "list"], &[("HERALD_DATA_DIR", &elsewhere)])
        .await
        .ok();
}

#[tokio::test]
async fn completions_for_bash_zsh_and_fish() {
    let server = TestServer::start().await;
    let herald = Herald::new(&server);
    for shell in ["bash", "zsh", "fish"] {
        let run = herald.run(&["completions", shell]).await;
        let script = run.ok();
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        // Fish writes options as `-l json`, the others as `--json`.
        for word in ["webhooks", "deliveries", "retry-schedule", "json", "tenant"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    herald
        .run(&["completions", "tcsh"])
        .await
        .code
        .eq(&USAGE)
        .then_some(())
        .expect("an unknown shell is a usage error");
}
