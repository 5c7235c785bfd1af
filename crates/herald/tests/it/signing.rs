//! Request signing: the Standard Webhooks test vector, an end-to-end delivery
//! verified by the official `standardwebhooks` crate, and the
//! `hmac_sha256_hex` scheme.

use crate::common::{Receiver, TestServer, WAIT, create_webhook, post_event, webhook_body};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// The secret from the Standard Webhooks specification's test vector.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn standard_webhooks_vector_is_reproduced() {
    let secret = herald_core::signing::SigningSecret::parse(SECRET).expect("valid secret");
    let signature = herald_core::signing::sign_standard(
        &secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

#[tokio::test]
async fn delivered_event_verifies_with_standard_webhooks_crate() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(&receiver.url("/hook"), json!({ "secret": SECRET })),
    )
    .await;

    let data = json!({ "accuracy": 0.968, "run": { "epochs": 12 } });
    let answer = post_event(
        &client,
        json!({ "type": "training.complete", "data": data, "id": "run-42", "source": "trainer" }),
    )
    .await;
    assert_eq!(answer, json!({ "id": "run-42", "deliveries": 1 }));

    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hook");

    let verifier = standardwebhooks::Webhook::new(SECRET).expect("valid secret");
    verifier
        .verify(&request.body, &request.headers)
        .unwrap_or_else(|e| {
            panic!(
                "signature did not verify ({e}); headers {:?}, body {}",
                request.headers,
                String::from_utf8_lossy(&request.body)
            )
        });
    // The verifier must be able to fail: one changed byte breaks it.
    let mut tampered = request.body.to_vec();
    tampered.push(b' ');
    assert!(verifier.verify(&tampered, &request.headers).is_err());

    let content_type = request.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content-type was {content_type:?}"
    );
    let user_agent = request.header("user-agent").unwrap_or_default();
    assert!(
        user_agent.starts_with("Herald/"),
        "user-agent was {user_agent:?}"
    );

    let body = request.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("payload is an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["data", "id", "timestamp", "type"], "payload {body}");
    assert_eq!(body["type"], "training.complete");
    assert_eq!(body["data"], data);
    // The event's id is both the payload id and the stable `webhook-id`.
    assert_eq!(body["id"], "run-42", "payload {body}");
    assert_eq!(request.header("webhook-id"), Some("run-42"));
}

#[tokio::test]
async fn hmac_sha256_hex_scheme_signs_raw_body() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/legacy"),
            json!({ "secret": SECRET, "signature": { "scheme": "hmac_sha256_hex" } }),
        ),
    )
    .await;

    post_event(
        &client,
        json!({ "type": "model.deployed", "id": "deploy-7", "data": { "model": "resnet" } }),
    )
    .await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);

    // The key is the secret string exactly as configured, prefix included.
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(&request.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        request.header("x-webhook-signature"),
        Some(expected.as_str()),
        "headers {:?}",
        request.headers
    );
    assert_eq!(request.header("x-webhook-event"), Some("model.deployed"));
    assert_eq!(
        request.header("x-webhook-id"),
        Some("deploy-7"),
        "headers {:?}",
        request.headers
    );
    assert_eq!(request.json()["data"], json!({ "model": "resnet" }));
}

#[tokio::test]
async fn scheme_none_sends_no_signature() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let client = server.client();
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/unsigned"),
            json!({ "signature": { "scheme": "none" } }),
        ),
    )
    .await;

    post_event(&client, json!({ "type": "ping" })).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.header("webhook-signature"), None);
    assert_eq!(request.header("x-webhook-signature"), None);
    assert_eq!(request.json()["type"], "ping");
}
