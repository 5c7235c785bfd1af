//! The browser tests' tools: playwright-core (and axe) from npm, driving
//! Debian's Chromium.

use std::path::PathBuf;

/// Names the playwright-core install; `scripts/test` sets it.
const NODE_MODULES_VAR: &str = "HERALD_TEST_NODE_MODULES";

/// Where playwright-core is: `HERALD_TEST_NODE_MODULES`, else where an
/// earlier `scripts/test` left it in the target directory.
pub(crate) fn node_modules() -> PathBuf {
    let path = std::env::var_os(NODE_MODULES_VAR)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
            scratch
                .parent()
                .unwrap_or(&scratch)
                .join("test-browser")
                .join("node_modules")
        });
    assert!(
        path.join("playwright-core").is_dir(),
        "\nplaywright-core is missing ({} has none).\nRun scripts/test once: it \
         installs it from tests/support/browser/package-lock.json, and Chromium.\n",
        path.display()
    );
    path
}

/// Runs `tests/support/browser/<script>` with `args` under Node, within
/// `timeout`; returns its last stdout line as JSON. Panics with the
/// script's output when it fails.
pub(crate) async fn run(
    script: &str,
    args: &[&str],
    timeout: std::time::Duration,
) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support/browser")
        .join(script);
    let run = tokio::process::Command::new("node")
        .arg(&path)
        .args(args)
        .env("NODE_PATH", node_modules())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(timeout, run)
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within {timeout:?}"))
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\n{stderr}\nreport so far: {stdout}"
    );
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{script} printed no JSON report ({e}):\n{stdout}\n{stderr}"))
}
