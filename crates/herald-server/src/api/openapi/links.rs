//! OpenAPI links: which answer carries the id another operation takes, so
//! a client (and schemathesis's stateful phase) can follow a webhook from
//! its creation to its reads, changes and deletion.

use serde_json::{Map, Value, json};

/// (path, method, status) of the answer; the link's target operation; its
/// parameters as (name, runtime expression).
type Link = (
    (&'static str, &'static str, &'static str),
    &'static str,
    &'static [(&'static str, &'static str)],
);

const BODY_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const PATH_ID: &[(&str, &str)] = &[("id", "$request.path.id")];

const LINKS: &[Link] = &[
    (("/webhooks", "post", "201"), "getWebhook", BODY_ID),
    (("/webhooks", "post", "201"), "updateWebhook", BODY_ID),
    (("/webhooks", "post", "201"), "deleteWebhook", BODY_ID),
    (("/webhooks", "post", "201"), "getWebhookSecret", BODY_ID),
    (("/webhooks", "post", "201"), "rotateWebhookSecret", BODY_ID),
    (("/webhooks", "post", "201"), "testWebhook", BODY_ID),
    (("/webhooks", "post", "201"), "enableWebhook", BODY_ID),
    (
        ("/webhooks", "post", "201"),
        "retryFailedDeliveries",
        BODY_ID,
    ),
    (
        ("/webhooks", "post", "201"),
        "listWebhookDeliveries",
        BODY_ID,
    ),
    (("/webhooks", "post", "201"), "getWebhookAnalytics", BODY_ID),
    (
        ("/webhooks/{id}/test", "post", "200"),
        "getDelivery",
        &[("id", "$response.body#/delivery_id")],
    ),
    (
        ("/webhooks/{id}/test", "post", "200"),
        "getEvent",
        &[("id", "$response.body#/event_id")],
    ),
    (("/events", "post", "202"), "getEvent", BODY_ID),
    (("/events", "post", "202"), "replayEvent", BODY_ID),
    (("/deliveries/{id}", "get", "200"), "retryDelivery", PATH_ID),
    (("/tenants", "post", "201"), "getTenant", BODY_ID),
    (("/tenants", "post", "201"), "deleteTenant", BODY_ID),
    (("/tenants", "post", "201"), "createApiKey", BODY_ID),
    (
        ("/tenants/{id}/keys", "post", "201"),
        "revokeApiKey",
        &[
            ("id", "$response.body#/tenant_id"),
            ("key_id", "$response.body#/id"),
        ],
    ),
];

/// Adds [`LINKS`] to the answers of `doc`'s paths.
pub(super) fn add(doc: &mut Value) {
    for ((path, method, status), target, parameters) in LINKS {
        let response = &mut doc["paths"][*path][*method]["responses"][*status];
        assert!(
            response.is_object(),
            "no {status} answer of {method} {path} to link from"
        );
        let parameters: Map<String, Value> = parameters
            .iter()
            .map(|(name, expression)| (name.to_string(), json!(expression)))
            .collect();
        response["links"][*target] = json!({"operationId": target, "parameters": parameters});
    }
}
