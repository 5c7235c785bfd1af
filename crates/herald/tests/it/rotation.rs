//! Signing-key rotation and the `ed25519` scheme, end to end: the real
//! server delivers to a loopback receiver, and every signature is checked
//! with an independent verifier (the `standardwebhooks` crate for `v1`,
//! `ed25519-dalek` with the API's `whpk_` key for `v1a`).

use std::time::Duration;

use crate::common::{
    ApiClient, Receiver, Recorded, TestServer, WAIT, create_webhook, post_event, webhook_body,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

/// The secret from the Standard Webhooks specification's test vector.
const OLD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A grace period short enough to wait out in a test.
const SHORT_GRACE_SECS: f64 = 3.0;

fn short_grace() -> Value {
    json!({ "grace_period_hours": SHORT_GRACE_SECS / 3600.0 })
}

async fn rotate(client: &ApiClient, id: &str, body: Value) -> Value {
    let (status, answer) = client
        .post(&format!("/api/v1/webhooks/{id}/secret/rotate"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "rotation answered {answer}");
    answer
}

/// Sleeps until just after `expires_at` (an RFC 3339 time from the API).
/// Waiting out a grace period is inherently a sleep; it is kept to seconds.
async fn sleep_past(expires_at: &Value) {
    let expires_at: DateTime<Utc> = expires_at
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("expires_at is not a time: {expires_at}"));
    let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(200)).await;
}

/// Fails the test when a request meant to arrive during the grace period
/// came after it (a slow machine), so that is never mistaken for a bug.
fn assert_within_grace(request: &Recorded, expires_at: &Value) {
    let expires_at: DateTime<Utc> = expires_at.as_str().unwrap().parse().unwrap();
    let sent: i64 = request
        .header("webhook-timestamp")
        .and_then(|t| t.parse().ok())
        .expect("webhook-timestamp header");
    assert!(
        sent < expires_at.timestamp(),
        "the delivery went out after the grace period ({sent} ≥ {expires_at}); the machine is too slow for this test"
    );
}

fn verify_standard(secret: &str, request: &Recorded) -> bool {
    standardwebhooks::Webhook::new(secret)
        .expect("valid secret")
        .verify(&request.body, &request.headers)
        .is_ok()
}

/// The signatures of a request's `webhook-signature` header.
fn signatures(request: &Recorded) -> Vec<String> {
    request
        .header("webhook-signature")
        .expect("webhook-signature header")
        .split(' ')
        .map(str::to_string)
        .collect()
}

/// Whether any `v1a` signature of the request verifies with `public_key`
/// (`whpk_…` as the API shows it), checked with `ed25519-dalek` alone.
fn verify_v1a(public_key: &str, request: &Recorded) -> bool {
    let bytes: [u8; 32] = BASE64
        .decode(public_key.strip_prefix("whpk_").expect("whpk_ prefix"))
        .expect("public key is base64")
        .try_into()
        .expect("public key is 32 bytes");
    let key = VerifyingKey::from_bytes(&bytes).expect("a valid Ed25519 public key");
    let id = request.header("webhook-id").expect("webhook-id header");
    let timestamp = request
        .header("webhook-timestamp")
        .expect("webhook-timestamp header");
    let mut message = format!("{id}.{timestamp}.").into_bytes();
    message.extend_from_slice(&request.body);
    signatures(request).iter().any(|versioned| {
        let Some(encoded) = versioned.strip_prefix("v1a,") else {
            return false;
        };
        let Some(bytes) = BASE64
            .decode(encoded)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        key.verify_strict(&message, &Signature::from_bytes(&bytes))
            .is_ok()
    })
}

/// A webhook to `receiver` signed with [`OLD_SECRET`]; returns its id.
async fn signed_with_old_secret(client: &ApiClient, receiver: &Receiver) -> String {
    let webhook = create_webhook(
        client,
        webhook_body(&receiver.url("/hook"), json!({ "secret": OLD_SECRET })),
    )
    .await;
    webhook["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn rotated_secret_and_old_one_both_verify_during_grace_then_only_the_new() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let id = &signed_with_old_secret(&client, &receiver).await;

    let rotated = rotate(&client, id, short_grace()).await;
    let new_secret = rotated["secret"]
        .as_str()
        .expect("the new secret")
        .to_string();
    assert!(new_secret.starts_with("whsec_") && new_secret != OLD_SECRET);
    assert_eq!(rotated["public_key"], Value::Null);
    let previous = rotated["previous"].as_array().expect("previous list");
    assert_eq!(previous.len(), 1, "{rotated}");
    assert_eq!(previous[0]["secret"], OLD_SECRET);
    let expires_at = previous[0]["expires_at"].clone();
    let (_, shown) = client.get(&format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(
        shown, rotated,
        "GET …/secret shows what the rotation answered"
    );

    post_event(
        &client,
        json!({ "type": "training.complete", "data": {"n": 1} }),
    )
    .await;
    let during = receiver.wait_for(1, WAIT).await.remove(0);
    assert_within_grace(&during, &expires_at);
    assert!(
        verify_standard(OLD_SECRET, &during),
        "old secret must verify"
    );
    assert!(
        verify_standard(&new_secret, &during),
        "new secret must verify"
    );
    let unrelated = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    assert!(!verify_standard(unrelated, &during), "the check can fail");
    let sent = signatures(&during);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let new_only = standardwebhooks::Webhook::new(&new_secret).unwrap();
    let id_header = during.header("webhook-id").unwrap();
    let timestamp: i64 = during.header("webhook-timestamp").unwrap().parse().unwrap();
    assert_eq!(
        sent[0],
        new_only.sign(id_header, timestamp, &during.body).unwrap(),
        "the new secret's signature comes first"
    );

    sleep_past(&expires_at).await;
    post_event(
        &client,
        json!({ "type": "training.complete", "data": {"n": 2} }),
    )
    .await;
    let after = receiver.wait_for(2, WAIT).await.remove(1);
    assert!(
        verify_standard(&new_secret, &after),
        "new secret must verify"
    );
    assert!(
        !verify_standard(OLD_SECRET, &after),
        "the old secret must stop after the grace period"
    );
    assert_eq!(signatures(&after).len(), 1);
    let (_, shown) = client.get(&format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(
        shown["previous"],
        json!([]),
        "expired secrets are not shown"
    );
}

#[tokio::test]
async fn ed25519_keys_both_verify_during_grace_then_only_the_new() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/signed"),
            json!({ "signature": { "scheme": "ed25519" } }),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let old_key = webhook["public_key"]
        .as_str()
        .expect("an ed25519 webhook shows its public key")
        .to_string();
    let (_, fetched) = client.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(fetched["public_key"], old_key.as_str());

    let rotated = rotate(&client, id, short_grace()).await;
    let new_key = rotated["public_key"]
        .as_str()
        .expect("the new public key")
        .to_string();
    assert_ne!(new_key, old_key);
    assert_eq!(rotated["previous"][0]["public_key"], old_key.as_str());
    let expires_at = rotated["previous"][0]["expires_at"].clone();
    for answer in [&webhook, &fetched, &rotated] {
        assert!(
            !answer.to_string().contains("whsk_"),
            "a private key is shown: {answer}"
        );
    }
    let (_, fetched) = client.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(fetched["public_key"], new_key.as_str());

    post_event(
        &client,
        json!({ "type": "model.deployed", "data": {"n": 1} }),
    )
    .await;
    let during = receiver.wait_for(1, WAIT).await.remove(0);
    assert_within_grace(&during, &expires_at);
    let sent = signatures(&during);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().all(|s| s.starts_with("v1a,")), "{sent:?}");
    assert!(verify_v1a(&old_key, &during), "old key must verify");
    assert!(verify_v1a(&new_key, &during), "new key must verify");
    let mut tampered = during.clone();
    tampered.body = format!("{} ", String::from_utf8_lossy(&during.body)).into();
    assert!(!verify_v1a(&new_key, &tampered), "the check can fail");

    sleep_past(&expires_at).await;
    post_event(
        &client,
        json!({ "type": "model.deployed", "data": {"n": 2} }),
    )
    .await;
    let after = receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(signatures(&after).len(), 1);
    assert!(verify_v1a(&new_key, &after), "new key must verify");
    assert!(
        !verify_v1a(&old_key, &after),
        "the old key must stop after the grace period"
    );
}

#[tokio::test]
async fn switching_to_ed25519_by_patch_creates_a_key_pair_kept_across_switches() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let webhook = create_webhook(&client, webhook_body(&receiver.url("/hook"), json!({}))).await;
    let id = webhook["id"].as_str().unwrap();
    assert_eq!(webhook["public_key"], Value::Null);

    let path = format!("/api/v1/webhooks/{id}");
    let ed25519 = json!({ "signature": { "scheme": "ed25519" } });
    let (status, patched) = client.patch(&path, ed25519.clone()).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let key = patched["public_key"]
        .as_str()
        .expect("switching to ed25519 creates a key pair")
        .to_string();

    post_event(&client, json!({ "type": "a", "data": {} })).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert!(verify_v1a(&key, &request), "{:?}", request.headers);

    let (_, standard) = client
        .patch(&path, json!({ "signature": { "scheme": "standard" } }))
        .await;
    assert_eq!(standard["public_key"], Value::Null, "unused, so not shown");
    let (_, back) = client.patch(&path, ed25519).await;
    assert_eq!(back["public_key"], key.as_str(), "the same key pair again");
}

#[tokio::test]
async fn batched_delivery_carries_every_signature_during_grace() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/batch"),
            json!({ "secret": OLD_SECRET, "batch": { "max_events": 2, "max_wait_ms": 60000 } }),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let new_secret = rotate(&client, id, json!({ "grace_period_hours": 1 })).await["secret"]
        .as_str()
        .unwrap()
        .to_string();

    for n in 0..2 {
        post_event(&client, json!({ "type": "a", "data": { "n": n } })).await;
    }
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(
        request.json().as_array().map(Vec::len),
        Some(2),
        "one batch"
    );
    assert!(verify_standard(OLD_SECRET, &request));
    assert!(verify_standard(&new_secret, &request));
}

#[tokio::test]
async fn hex_scheme_signs_with_the_new_secret_only() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let webhook = create_webhook(
        &client,
        webhook_body(
            &receiver.url("/legacy"),
            json!({ "secret": OLD_SECRET, "signature": { "scheme": "hmac_sha256_hex" } }),
        ),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let new_secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let rotated = rotate(
        &client,
        id,
        json!({ "secret": new_secret, "grace_period_hours": 1 }),
    )
    .await;
    assert_eq!(
        rotated["secret"], new_secret,
        "a caller-chosen secret is used"
    );

    post_event(&client, json!({ "type": "a", "data": {} })).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    let mut mac = Hmac::<Sha256>::new_from_slice(new_secret.as_bytes()).unwrap();
    mac.update(&request.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        request.header("x-webhook-signature"),
        Some(expected.as_str())
    );
}

#[tokio::test]
async fn zero_grace_period_stops_the_old_secret_at_once() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    let id = &signed_with_old_secret(&client, &receiver).await;
    let rotated = rotate(&client, id, json!({ "grace_period_hours": 0 })).await;
    assert_eq!(rotated["previous"], json!([]));

    post_event(&client, json!({ "type": "a", "data": {} })).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert!(verify_standard(
        rotated["secret"].as_str().unwrap(),
        &request
    ));
    assert!(!verify_standard(OLD_SECRET, &request));
}

#[tokio::test]
async fn rotation_refuses_bad_input_and_unknown_webhooks() {
    let server = TestServer::start().await;
    let client = server.client();
    let webhook = create_webhook(
        &client,
        webhook_body("http://127.0.0.1:9/hook", json!({ "secret": OLD_SECRET })),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}/secret/rotate");

    for (body, field) in [
        (json!({ "grace_period_hours": -1 }), "grace_period_hours"),
        (json!({ "grace_period_hours": 720.5 }), "grace_period_hours"),
        (json!({ "grace_period_hours": "24" }), "grace_period_hours"),
        (json!({ "secret": "not-a-secret" }), "secret"),
        (json!({ "secret": OLD_SECRET }), "secret"),
        (json!({ "grace": 1 }), "grace"),
    ] {
        let (status, answer) = client.post(&path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "validation_error", "{answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (_, shown) = client.get(&format!("/api/v1/webhooks/{id}/secret")).await;
    assert_eq!(
        shown["secret"], OLD_SECRET,
        "a refused rotation changes nothing"
    );

    let unknown = "/api/v1/webhooks/wh_01JD0000000000000000000000/secret/rotate";
    let (status, answer) = client.post(unknown, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["field"], "id", "{answer}");

    // An empty body takes every default.
    let response = client
        .send_raw(reqwest::Method::POST, &path, "application/json", Vec::new())
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let expires_at: DateTime<Utc> = response.body["previous"][0]["expires_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("the replaced secret's expiry");
    let hours = (expires_at - Utc::now()).num_minutes() as f64 / 60.0;
    assert!(
        (23.9..=24.0).contains(&hours),
        "default grace of 24 h, got {hours}"
    );
}
