//! The OpenAPI document: the committed copy is the one the code derives,
//! it validates as OpenAPI 3.1, and the server serves it and its docs page
//! without a token.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;

use crate::common::{TestServer, browser, python};

/// Set to `1` to rewrite `docs/openapi.json` from the code.
const UPDATE_VAR: &str = "HERALD_UPDATE_OPENAPI";

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn committed_spec_is_the_one_the_code_derives() {
    let derived = herald_server::openapi_text();
    let path = committed_path();
    if std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1") {
        std::fs::write(&path, derived).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == derived,
        "docs/openapi.json is stale (the API changed). Regenerate it with\n    \
         {UPDATE_VAR}=1 cargo test -p herald --test it openapi::committed\nand commit it."
    );
}

/// Writes the derived document to a scratch file for the Python tools.
pub(crate) fn spec_file(dir: &Path) -> PathBuf {
    let path = dir.join("openapi.json");
    std::fs::write(&path, herald_server::openapi_text()).expect("write the spec");
    path
}

#[test]
fn spec_validates_as_openapi_3_1() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_file(dir.path());
    let doc = herald_server::openapi_document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["webhooks"]["herald.delivery.failed"]["post"].is_object());
    let output = std::process::Command::new(python::interpreter())
        .args([
            "-c",
            "import sys\n\
             from openapi_spec_validator import validate\n\
             from openapi_spec_validator import OpenAPIV31SpecValidator\n\
             from openapi_spec_validator.readers import read_from_filename\n\
             spec, _ = read_from_filename(sys.argv[1])\n\
             validate(spec, cls=OpenAPIV31SpecValidator)\n\
             print('valid')\n",
        ])
        .arg(&spec)
        .output()
        .expect("run the validator");
    assert!(
        output.status.success(),
        "the spec is not valid OpenAPI 3.1:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn spec_and_docs_page_are_served_without_a_token() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let spec = http
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(spec.status(), StatusCode::OK);
    assert_eq!(spec.headers()["content-type"], "application/json");
    assert_eq!(spec.text().await.unwrap(), herald_server::openapi_text());

    let page = http.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    let html = page.text().await.unwrap();
    // Every script is one of the server's own, and nothing names another
    // origin.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    let scripts: Vec<&str> = html
        .split("<script src=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(scripts, ["/docs/redoc.standalone.js", "/docs/init.js"]);
    assert!(!html.contains("<script>"), "no inline script: {html}");
    for script in scripts {
        let answer = http.get(server.url(script)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{script}");
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript"),
            "{script}"
        );
        let body = answer.text().await.unwrap();
        assert!(body.contains("Redoc"), "{script} is not the page's script");
    }
    let missing = http.get(server.url("/docs/other.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// The docs page in a real browser: Redoc renders the spec (its title and
/// every tag), with no script error and nothing fetched from elsewhere
/// (the page's policy blocks Redoc's one outside image, its branding).
#[tokio::test(flavor = "multi_thread")]
async fn docs_page_renders_in_a_browser() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let screenshot = dir.path().join("docs.png");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/browser/docs_page.js"
    );
    let run = tokio::process::Command::new("node")
        .arg(script)
        .arg(server.url(""))
        .arg(&screenshot)
        .env("NODE_PATH", browser::node_modules())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .expect("the browser finished within two minutes")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("one JSON line");
    assert_eq!(report["title"], "Herald (0.1.0)", "{report}");
    let headings: Vec<&str> = report["headings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h.as_str())
        .collect();
    for tag in [
        "webhooks",
        "events",
        "deliveries",
        "tenants",
        "outgoing webhooks",
    ] {
        assert!(headings.contains(&tag), "no `{tag}` section: {report}");
    }
    // Anything on the console but the blocked branding image is a broken
    // page, or the policy blocking something the page needs.
    let errors: Vec<&str> = report["consoleErrors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .filter(|e| !e.contains("logo-mini.svg"))
        .collect();
    assert!(errors.is_empty(), "console errors: {report}");
    let others: Vec<&str> = report["otherOrigins"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u.as_str())
        .filter(|u| !u.ends_with("/redoc/logo-mini.svg"))
        .collect();
    assert!(others.is_empty(), "requests to other origins: {report}");
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);
}
