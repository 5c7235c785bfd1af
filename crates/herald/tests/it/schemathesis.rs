//! Schemathesis against the real binary, on the engine of this test run:
//! every check it has, the stateful phase included. Any server error,
//! answer outside the spec or undocumented status fails the test with
//! schemathesis's report.

use std::process::Stdio;
use std::time::Duration;

use crate::common::binary::{CRASH_TOKEN, spawn_herald};
use crate::common::python;
use crate::openapi::spec_file;

/// How many examples schemathesis tries per operation and phase: enough
/// to reach every status an operation answers, few enough for a few
/// minutes per engine.
const EXAMPLES: &str = "25";

/// Schemathesis against the real binary, every check, stateful phase
/// included: any server error, answer outside the spec or undocumented
/// status fails the test with schemathesis's report.
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, client) = spawn_herald(dir.path(), &dir.path().join("herald.log")).await;
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
    let spec = spec_file(dir.path());
    let python = python::interpreter();
    let st = python.with_file_name("schemathesis");
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/schemathesis.toml"
    );
    let run = tokio::process::Command::new(&st)
        .args(["--config-file", config])
        .arg("run")
        .arg(&spec)
        .args(["--url", &client.url("/api/v1")])
        .args(["--header", &format!("Authorization: Bearer {CRASH_TOKEN}")])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", EXAMPLES])
        .args(["--seed", "1"])
        .args(["--workers", "2"])
        .args(["--request-timeout", "20"])
        .args(["--suppress-health-check", "all"])
        .args(["--generation-database", "none"])
        .arg("--no-color")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("schemathesis finished within 10 minutes")
        .expect("run schemathesis");
    child.kill().await.ok();
    let log = std::fs::read_to_string(dir.path().join("herald.log")).unwrap_or_default();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{}\n--- server log (tail) ---\n{}",
        String::from_utf8_lossy(&output.stderr),
        log.lines().rev().take(40).collect::<Vec<_>>().join("\n")
    );
    println!("{stdout}");
}
