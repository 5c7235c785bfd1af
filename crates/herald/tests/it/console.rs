//! The web console, end to end in a real browser (Debian's Chromium
//! through Playwright) against the real server, on the engine of the run;
//! and its safety rules checked over plain HTTP.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::common::{Receiver, Reply, TestServer, browser, create_webhook, database, webhook_body};

/// A tenant with one webhook of its own, and a portal link to it.
async fn tenant_with_portal(server: &TestServer, webhook_url: &str) -> (String, String) {
    let admin = server.client();
    let (status, tenant) = admin.post("/api/v1/tenants", json!({"name": "acme"})).await;
    assert_eq!(status, StatusCode::CREATED, "{tenant}");
    let key = tenant["api_key"].as_str().unwrap();
    let acme = admin.with_token(Some(key));
    create_webhook(
        &acme,
        webhook_body(webhook_url, json!({"name": "Acme orders"})),
    )
    .await;
    let tenant_id = tenant["id"].as_str().unwrap();
    let (status, link) = admin
        .post(
            &format!("/api/v1/tenants/{tenant_id}/portal-links"),
            json!({"expires_in_seconds": 300}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    (
        link["url"].as_str().unwrap().to_string(),
        "Acme orders".to_string(),
    )
}

/// The acceptance walk: sign in; create a Slack and a plain webhook
/// through the forms (a 422 shown at its field); a test send delivered; a
/// failing delivery opened, its receiver's body read, retried; pause and
/// resume; replay; CSRF-less posts refused; sign out; a portal link opens
/// only its tenant, once. Every page scanned by axe; nothing fetched from
/// another origin.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_runs_herald_from_the_console() {
    let server = TestServer::start().await;
    let ok = Receiver::start().await;
    let failing = Receiver::start_with_default(Reply::status(500).body("receiver exploded")).await;
    let (portal_url, portal_webhook) = tenant_with_portal(&server, &ok.url("/acme")).await;
    // The screenshots in the docs come from the SQLite pass.
    let screenshots = database::postgres_admin_url()
        .is_none()
        .then(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/images").to_string());
    let config = json!({
        "base": server.url(""),
        "token": server.client().token().unwrap(),
        "okUrl": ok.url("/slack"),
        "failUrl": failing.url("/hook"),
        "portalUrl": portal_url,
        "portalWebhook": portal_webhook,
        "screenshots": screenshots,
    });
    let report = browser::run(
        "console_flow.js",
        &[&config.to_string()],
        Duration::from_secs(300),
    )
    .await;

    let findings: Vec<(&String, &Value)> = report["axe"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    assert!(
        findings.is_empty(),
        "serious or critical accessibility findings: {findings:#?}"
    );
    assert!(
        report["axe"].as_object().unwrap().len() >= 12,
        "pages scanned: {report}"
    );
    assert_eq!(
        report["otherOrigins"],
        json!([]),
        "requests to other hosts: {report}"
    );
    assert_eq!(
        report["consoleErrors"],
        json!([]),
        "browser console errors: {report}"
    );

    // What the browser did, as the API and the receivers saw it.
    let admin = server.client();
    let slack_id = report["slackId"].as_str().unwrap();
    let (_, slack) = admin.get(&format!("/api/v1/webhooks/{slack_id}")).await;
    assert_eq!(slack["provider"], "slack");
    assert_eq!(slack["settings"]["theme_color"], "#2EB67D");
    assert_eq!(slack["status"], "active", "paused and resumed: {slack}");
    let slack_hits = ok
        .requests()
        .into_iter()
        .filter(|r| r.path == "/slack")
        .count();
    // The test send, the event, and its replay.
    assert!(
        slack_hits >= 3,
        "the Slack receiver got {slack_hits} requests"
    );
    let retried = report["retriedDelivery"].as_str().unwrap();
    let (_, delivery) = admin.get(&format!("/api/v1/deliveries/{retried}")).await;
    assert!(
        delivery["attempts"].as_array().unwrap().len() >= 2,
        "the retry made no second attempt: {delivery}"
    );
    let (_, audit) = admin.get("/api/v1/audit?limit=250").await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_id"] == slack_id)
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"webhook.created"), "audit: {actions:?}");
}

/// A cookie-holding client that follows no redirects.
fn browserless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` of a `Set-Cookie` named `name`.
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Signs in over plain HTTP; returns the session cookie and a page's CSRF token.
async fn sign_in(server: &TestServer) -> (String, String) {
    let http = browserless();
    let form = http.get(server.url("/ui/sign-in")).send().await.unwrap();
    let pre = cookie(&form, "herald_form").expect("the sign-in form sets its cookie");
    let token = pre.split_once('=').unwrap().1.to_string();
    let signed = http
        .post(server.url("/ui/sign-in"))
        .header(COOKIE, &pre)
        .form(&[
            ("form_token", token.as_str()),
            ("token", server.client().token().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let session = cookie(&signed, "herald_session").expect("a session cookie");
    let all = signed
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let set = all
        .iter()
        .find(|c| c.starts_with("herald_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let page = http
        .get(server.url("/ui/webhooks"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field on the page")
        .to_string();
    (session, csrf)
}

#[tokio::test]
async fn console_answers_carry_a_strict_policy_and_forms_need_their_token() {
    let server = TestServer::start().await;
    let http = browserless();
    let first = http.get(server.url("/ui")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(first.headers()[LOCATION], "/ui/sign-in");
    let policy = first.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(part), "{policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(first.headers()["x-content-type-options"], "nosniff");

    // A sign-in without the form's own cookie is refused: no login CSRF.
    let forged = http
        .post(server.url("/ui/sign-in"))
        .form(&[
            ("form_token", "x"),
            ("token", server.client().token().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(cookie(&forged, "herald_session").is_none());

    let (session, csrf) = sign_in(&server).await;
    let hook = create_webhook(
        &server.client(),
        webhook_body("http://127.0.0.1:9/x", json!({})),
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    let pause = |fields: Vec<(&'static str, String)>, origin: Option<&'static str>| {
        let mut request = http
            .post(server.url(&format!("/ui/webhooks/{id}/status")))
            .header(COOKIE, &session)
            .form(&fields);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status();
    // No token, a wrong one, or the right one from another site: refused.
    assert_eq!(
        status(
            pause(vec![("status", "paused".into())], None)
                .await
                .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            pause(
                vec![("status", "paused".into()), ("csrf", "wrong".into())],
                None
            )
            .await
            .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            pause(
                vec![("status", "paused".into()), ("csrf", csrf.clone())],
                Some("https://evil.example")
            )
            .await
            .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    let (_, still) = server.client().get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(still["status"], "active", "a refused form changed nothing");
    // With its token the same form works, through the API's own rules.
    let done = pause(
        vec![("status", "paused".into()), ("csrf", csrf.clone())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, paused) = server.client().get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(paused["status"], "paused");
    let (_, audit) = server
        .client()
        .get(&format!("/api/v1/audit?resource_id={id}"))
        .await;
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "webhook.updated" && e["actor"] == "admin"),
        "the console's change is in the audit log: {audit}"
    );

    // Signing out deletes the session: the cookie opens nothing afterwards.
    let out = http
        .post(server.url("/ui/sign-out"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = http
        .get(server.url("/ui/webhooks"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the session outlived its sign-out"
    );
}

#[tokio::test]
async fn portal_links_are_admin_only_checked_and_work_once() {
    let server = TestServer::start().await;
    let admin = server.client();
    let (_, tenant) = admin.post("/api/v1/tenants", json!({"name": "t"})).await;
    let tenant_id = tenant["id"].as_str().unwrap();
    let path = format!("/api/v1/tenants/{tenant_id}/portal-links");
    let key = admin.with_token(tenant["api_key"].as_str());
    let (status, _) = key.post(&path, json!({})).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a tenant key cannot make portal links"
    );
    for (body, field) in [
        (json!({"features": ["webhooks", "billing"]}), "features[1]"),
        (json!({"features": []}), "features"),
        (json!({"expires_in_seconds": 0}), "expires_in_seconds"),
        (json!({"session_seconds": 9_999_999}), "session_seconds"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (status, error) = admin.post(&path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let (status, _) = admin
        .post(
            "/api/v1/tenants/tnt_01M914GK66C54CF2MHSEPX46TE/portal-links",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A read-only link limited to deliveries: its session cannot change
    // anything nor open other sections.
    let (status, link) = admin
        .post(
            &path,
            json!({"read_only": true, "features": ["deliveries"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&server.url("/ui/portal/")), "{url}");
    let http = browserless();
    let landing = http.get(url).send().await.unwrap();
    let pre = cookie(&landing, "herald_form").unwrap();
    let form_token = pre.split_once('=').unwrap().1.to_string();
    let open = || {
        http.post(url)
            .header(COOKIE, &pre)
            .form(&[("form_token", form_token.as_str())])
            .send()
    };
    let opened = open().await.unwrap();
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let session = cookie(&opened, "herald_session").expect("a portal session");
    let get = |path: &'static str| http.get(server.url(path)).header(COOKIE, &session).send();
    assert_eq!(
        get("/ui/deliveries").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        get("/ui/webhooks").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get("/ui/tenants").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Spent: the second use is refused.
    assert_eq!(open().await.unwrap().status(), StatusCode::GONE);
    let audit = admin
        .send(
            reqwest::Method::GET,
            "/api/v1/audit",
            None,
            &[("X-Herald-Tenant", tenant_id)],
        )
        .await
        .body;
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "portal_link.created"),
        "{audit}"
    );
}
