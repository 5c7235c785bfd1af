//! Schemathesis against the real binary, on the engine of this test run:
//! every check it has, the stateful phase included. Any server error,
//! answer outside the spec or undocumented status fails the test with
//! schemathesis's report.

use std::process::Stdio;
use std::time::Duration;

use crate::common::binary::{CRASH_TOKEN, spawn_herald_with};
use crate::common::python;
use crate::openapi::spec_file;

/// How many examples schemathesis tries per operation and phase: enough
/// to reach every status an operation answers, few enough for a few
/// minutes per engine.
const EXAMPLES: &str = "40";

/// Schemathesis against the real binary, every check, stateful phase
/// included, once as the operator (admin token) and once as a tenant (its
/// API key, which the admin routes refuse): any server error, answer
/// outside the spec or undocumented status fails the test with
/// schemathesis's report.
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("herald.log");
    // Every provider switched off: the fuzzer creates webhooks to whatever
    // URLs the spec allows (`http://1.2/` is 1.0.0.2), and none of its
    // deliveries or test sends may leave this machine. They are recorded
    // as skipped instead, through the same API.
    let all_providers: Vec<&str> = herald_providers::ProviderKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let disabled = all_providers.join(",");
    let (mut child, client) = spawn_herald_with(
        dir.path(),
        &log,
        &[("HERALD_DISABLED_PROVIDERS", &disabled)],
    )
    .await;
    let (_, catalog) = client.get("/api/v1/providers").await;
    let enabled: Vec<&serde_json::Value> = catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["enabled"] != false)
        .collect();
    assert!(enabled.is_empty(), "providers still on: {enabled:?}");
    // Some state for the stateful phase and the examples to find.
    let receiver = crate::common::closed_port();
    crate::common::create_webhook(
        &client,
        crate::common::webhook_body(
            &format!("http://127.0.0.1:{receiver}/hook"),
            serde_json::json!({}),
        ),
    )
    .await;
    let (status, tenant) = client
        .post("/api/v1/tenants", serde_json::json!({"name": "fuzzed"}))
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{tenant}");
    let key = tenant["api_key"].as_str().unwrap();
    let spec = spec_file(dir.path());
    for (caller, token) in [("the admin token", CRASH_TOKEN), ("a tenant API key", key)] {
        // A run whose token no longer works would pass on 401s alone.
        let (status, _) = client.with_token(Some(token)).get("/api/v1/webhooks").await;
        assert_eq!(status, reqwest::StatusCode::OK, "{caller} works");
        if let Err(report) = schemathesis(dir.path(), &spec, &client.url("/api/v1"), token).await {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            child.kill().await.ok();
            panic!(
                "schemathesis found problems with {caller}:\n{report}\n--- server log (tail) ---\n{}",
                log.lines().rev().take(40).collect::<Vec<_>>().join("\n")
            );
        }
    }
    child.kill().await.ok();
}

/// Runs schemathesis with `token`; its report when it found anything.
async fn schemathesis(
    dir: &std::path::Path,
    spec: &std::path::Path,
    base: &str,
    token: &str,
) -> Result<(), String> {
    let st = python::interpreter().with_file_name("schemathesis");
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/schemathesis.toml"
    );
    let run = tokio::process::Command::new(&st)
        .args(["--config-file", config])
        .arg("run")
        .arg(spec)
        .args(["--url", base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", EXAMPLES])
        .args(["--seed", "1"])
        // One worker: with two, its threads parse Python source at the
        // same time (hypothesis describing its filters), which CPython
        // 3.11's parser does not survive ("AST constructor recursion
        // depth mismatch", a runtime error of the tool, not a finding).
        .args(["--workers", "1"])
        .args(["--request-timeout", "20"])
        .args(["--suppress-health-check", "all"])
        .args(["--generation-database", "none"])
        .arg("--no-color")
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("schemathesis finished within 10 minutes")
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    ))
}
