//! Webhook filters through the real server: events routed by content (the
//! seeds' two examples exactly as written), the delivery counts ingest
//! answers, `…/filter/test` explaining a decision, 422s naming the part of
//! a filter at fault, and a PATCH changing or clearing a filter.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    ApiClient, Receiver, Reply, TestServer, WAIT, create_webhook, post_event, webhook_body,
};

/// Long enough for a delivery that should not come to have come.
const QUIET: Duration = Duration::from_millis(400);

/// A server with one plain webhook to a fresh receiver, `extra` merged
/// into its body; answers the webhook's path too.
async fn one_webhook(extra: Value) -> (TestServer, ApiClient, Receiver, String) {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    let webhook = create_webhook(&client, webhook_body(&receiver.url("/h"), extra)).await;
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    (server, client, receiver, path)
}

fn event(id: &str, event_type: &str, data: Value) -> Value {
    json!({"id": id, "type": event_type, "data": data})
}

/// The ids of what a receiver got: the event id of a plain webhook's body,
/// or PagerDuty's `dedup_key` (the event id by default).
fn ids(receiver: &Receiver) -> Vec<String> {
    let mut ids: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| {
            let body = r.json();
            body["id"]
                .as_str()
                .or(body["dedup_key"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_seeds_filters_route_exactly_as_written() {
    let server = TestServer::start().await;
    let client = server.client();
    let pagerduty = Receiver::start_with_default(
        Reply::status(202).body(r#"{"status":"success","message":"Event processed"}"#),
    )
    .await;
    let compliance = Receiver::start().await;
    let everything = Receiver::start().await;
    // "Only send high-severity events to PagerDuty."
    create_webhook(
        &client,
        json!({
            "name": "pagerduty",
            "provider": "pagerduty",
            "url": pagerduty.url("/v2/enqueue"),
            "settings": {"routing_key": "R0UT1NGKEY0123456789ABCDEFGHIJKL"},
            "event_types": ["alert"],
            "filter": {"match": {"data": {"severity": "high"}}},
        }),
    )
    .await;
    // "Healthcare-specific alerts to compliance team", as CEL.
    create_webhook(
        &client,
        webhook_body(
            &compliance.url("/compliance"),
            json!({
                "event_types": ["compliance_violation", "phi_access"],
                "filter": {"expr": "event.data.classification == 'SENSITIVE'"},
            }),
        ),
    )
    .await;
    // "Send all events to Datadog": no filter, everything of its types.
    create_webhook(&client, webhook_body(&everything.url("/all"), json!({}))).await;

    let cases = [
        ("a_high", "alert", json!({"severity": "high"}), 2),
        ("a_low", "alert", json!({"severity": "low"}), 1),
        ("a_none", "alert", json!({}), 1),
        ("a_text", "alert", json!({"severity": "HIGH"}), 1),
        (
            "a_sensitive",
            "alert",
            json!({"severity": "low", "classification": "SENSITIVE"}),
            1,
        ),
        (
            "c_sensitive",
            "compliance_violation",
            json!({"classification": "SENSITIVE"}),
            2,
        ),
        (
            "c_public",
            "compliance_violation",
            json!({"classification": "PUBLIC"}),
            1,
        ),
        (
            "c_missing",
            "compliance_violation",
            json!({"rule": "hipaa"}),
            1,
        ),
        (
            "p_sensitive",
            "phi_access",
            json!({"classification": "SENSITIVE", "severity": "high"}),
            2,
        ),
    ];
    for (id, event_type, data, deliveries) in &cases {
        let answer = post_event(&client, event(id, event_type, data.clone())).await;
        assert_eq!(answer["deliveries"], *deliveries, "{id}: {answer}");
    }
    // The same through the batch endpoint: each event's own count.
    let (status, batch) = client
        .post(
            "/api/v1/events/batch",
            json!({"events": [
                event("b_high", "alert", json!({"severity": "high"})),
                event("b_low", "alert", json!({"severity": "low"})),
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{batch}");
    assert_eq!(batch["data"][0]["deliveries"], 2, "{batch}");
    assert_eq!(batch["data"][1]["deliveries"], 1, "{batch}");

    pagerduty.wait_for(2, WAIT).await;
    compliance.wait_for(2, WAIT).await;
    everything.wait_for(cases.len() + 2, WAIT).await;
    pagerduty.assert_quiet(QUIET, 2, "only high severity").await;
    assert_eq!(ids(&pagerduty), ["a_high", "b_high"]);
    assert_eq!(ids(&compliance), ["c_sensitive", "p_sensitive"]);
    assert_eq!(everything.requests().len(), cases.len() + 2);

    // An event no filter lets through is still stored, with no delivery.
    let (status, stored) = client.get("/api/v1/events/a_low").await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(
        stored["deliveries"].as_array().unwrap().len(),
        1,
        "{stored}"
    );
}

#[tokio::test]
async fn filters_see_type_source_and_data_and_gate_replays() {
    let (_server, client, receiver, path) = one_webhook(json!({"filter": {
        "match": {
            "type": {"$startsWith": "order."},
            "source": "shop",
            "data": {"amount": {"$gte": 1000}, "items.sku": {"$in": ["a1", "b2"]}},
        },
        "expr": "event.data.currency in ['EUR', 'USD']",
    }}))
    .await;
    let (_, webhook) = client.get(&path).await;
    let id = webhook["id"].as_str().unwrap();
    assert_eq!(
        webhook["filter"]["expr"],
        "event.data.currency in ['EUR', 'USD']"
    );
    let data = json!({"amount": 1500, "currency": "EUR", "items": [{"sku": "zz"}, {"sku": "b2"}]});
    let post = |id: &str, event_type: &str, source: &str, data: Value| json!({"id": id, "type": event_type, "source": source, "data": data});
    let cases = [
        (post("yes", "order.paid", "shop", data.clone()), 1),
        (post("no_source", "order.paid", "pos", data.clone()), 0),
        (post("no_type", "refund.paid", "shop", data.clone()), 0),
        (
            post(
                "no_cel",
                "order.paid",
                "shop",
                json!({"amount": 1500, "currency": "GBP", "items": [{"sku": "a1"}]}),
            ),
            0,
        ),
        (
            post(
                "no_amount",
                "order.paid",
                "shop",
                json!({"amount": "1500", "currency": "EUR", "items": [{"sku": "a1"}]}),
            ),
            0,
        ),
    ];
    for (e, deliveries) in &cases {
        let answer = post_event(&client, e.clone()).await;
        assert_eq!(answer["deliveries"], *deliveries, "{e}: {answer}");
    }
    receiver.wait_for(1, WAIT).await;
    receiver.assert_quiet(QUIET, 1, "one event passes").await;
    assert_eq!(ids(&receiver), ["yes"]);

    // A replay to the current subscribers asks the filter again; naming
    // the webhook sends it whatever the filter says.
    let (status, replayed) = client
        .post("/api/v1/events/no_source/replay", json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    assert_eq!(replayed["deliveries"], 0, "{replayed}");
    let (status, replayed) = client
        .post(
            "/api/v1/events/no_source/replay",
            json!({"webhook_ids": [id]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    assert_eq!(replayed["deliveries"], 1, "{replayed}");
    receiver.wait_for(2, WAIT).await;
}

#[tokio::test]
async fn filter_test_explains_each_decision() {
    let (_server, client, receiver, webhook) = one_webhook(json!({
        "event_types": ["alert.*"],
        "filter": {"match": {"data": {
            "severity": {"$in": ["high", "critical"]},
            "amount": {"$gte": 1000},
        }}},
    }))
    .await;
    let path = format!("{webhook}/filter/test");
    let test = |body: Value| {
        let client = client.clone();
        let path = path.clone();
        async move { client.post(&path, body).await }
    };

    let (status, d) = test(
        json!({"event": {"type": "alert.raised", "data": {"severity": "low", "amount": 5000}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(
        d,
        json!({"matches": false, "reason": "match: data.severity: \"low\" is not in [\"high\",\"critical\"]"})
    );
    let (_, d) =
        test(json!({"event": {"type": "alert.raised", "data": {"severity": "high", "amount": 5}}}))
            .await;
    assert_eq!(d["matches"], false);
    assert_eq!(
        d["reason"],
        "match: data.amount: 5 is not greater than or equal to 1000"
    );
    let (_, d) = test(json!({"event": {"type": "alert.raised", "data": {"severity": "critical", "amount": 1000}}})).await;
    assert_eq!(d["matches"], true, "{d}");
    // The event types come first.
    let (_, d) = test(
        json!({"event": {"type": "deploy.done", "data": {"severity": "high", "amount": 1000}}}),
    )
    .await;
    assert_eq!(d["matches"], false);
    assert!(
        d["reason"]
            .as_str()
            .unwrap()
            .contains("event_types (alert.*)"),
        "{d}"
    );
    // Without a type only the filter is judged.
    let (_, d) = test(json!({"event": {"data": {"severity": "high", "amount": 2000}}})).await;
    assert_eq!(d["matches"], true, "{d}");
    // A filter to try, not saved: CEL that does not return a bool.
    let (_, d) = test(
        json!({"event": {"data": {"amount": 2}}, "filter": {"expr": "event.data.amount * 2"}}),
    )
    .await;
    assert_eq!(d["matches"], false);
    assert!(d["reason"].as_str().unwrap().contains("not a bool"), "{d}");
    let (_, d) =
        test(json!({"event": {"data": {"amount": 2}}, "filter": {"expr": "event.data.nope == 1"}}))
            .await;
    assert_eq!(d["matches"], false);
    assert!(
        d["reason"].as_str().unwrap().starts_with("expr: failed"),
        "{d}"
    );
    let (_, stored) = client.get(&webhook).await;
    assert!(stored["filter"]["expr"].is_null(), "{stored}");

    // Mistakes name their field.
    for (body, field) in [
        (json!({"event": {"type": "a b"}}), "event.type"),
        (
            json!({"event": {}, "filter": {"match": {"data.x": {"$foo": 1}}}}),
            "filter.match.data.x.$foo",
        ),
        (
            json!({"event": {}, "filter": {"expr": "event.data.x =="}}),
            "filter.expr",
        ),
        (json!({"event": {"kind": 1}}), "event.kind"),
        (json!({}), "event"),
    ] {
        let (status, e) = test(body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    let (status, e) = client
        .post(
            "/api/v1/webhooks/wh_01JABCDEF0123456789ABCDEFG/filter/test",
            json!({"event": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");

    // A webhook without a filter takes every event of its types.
    let plain = create_webhook(&client, webhook_body(&receiver.url("/p"), json!({}))).await;
    let (_, d) = client
        .post(
            &format!(
                "/api/v1/webhooks/{}/filter/test",
                plain["id"].as_str().unwrap()
            ),
            json!({"event": {"type": "anything"}}),
        )
        .await;
    assert_eq!(d["matches"], true, "{d}");
    assert!(d["reason"].as_str().unwrap().contains("no filter"), "{d}");
}

/// Nested `levels` deep in `$not`s around one condition.
fn nots(levels: usize) -> Value {
    let mut doc = json!({"data.x": 1});
    for _ in 0..levels {
        doc = json!({ "$not": doc });
    }
    doc
}

#[tokio::test]
async fn bad_filters_are_refused_naming_the_part_at_fault() {
    let server = TestServer::start().await;
    let client = server.client();
    let url = "http://127.0.0.1:9/h";
    let cases = [
        (
            json!({"match": {"data": {"amount": {"$gte": [1]}}}}),
            Some("filter.match.data.amount.$gte"),
        ),
        (
            json!({"match": {"data": {"severity": {"$foo": 1}}}}),
            Some("filter.match.data.severity.$foo"),
        ),
        (
            json!({"match": {"data.x": {"$in": []}}}),
            Some("filter.match.data.x.$in"),
        ),
        (
            json!({"match": {"data.x": {"$exist": 1}}}),
            Some("filter.match.data.x.$exist"),
        ),
        (
            json!({"match": {"data.x": {"$regex": "a{1000}{1000}"}}}),
            Some("filter.match.data.x.$regex"),
        ),
        (
            json!({"match": {"data.x": {"$regex": "x".repeat(5000)}}}),
            Some("filter.match.data.x.$regex"),
        ),
        (
            json!({"match": {"$or": [{"type": "a"}, {"data": {}}]}}),
            Some("filter.match.$or[1].data"),
        ),
        (
            json!({"match": {"severity": "high"}}),
            Some("filter.match.severity"),
        ),
        (json!({"match": "type == 'a'"}), Some("filter.match")),
        (json!({"expr": "event.data.x =="}), Some("filter.expr")),
        (json!({"expr": "other.x == 1"}), Some("filter.expr")),
        (json!({"expr": ""}), Some("filter.expr")),
        (json!({"expr": "x".repeat(3000)}), Some("filter.expr")),
        (
            json!({"expr": format!("{}1{}", "(".repeat(900), ")".repeat(900))}),
            Some("filter.expr"),
        ),
        (
            json!({"expr": format!("event.data.a{}", " + 1".repeat(400))}),
            Some("filter.expr"),
        ),
        (json!({"expr": 5}), Some("filter.expr")),
        (json!({"matches": {}}), Some("filter.matches")),
        (json!({}), Some("filter")),
        (json!("severity == high"), Some("filter")),
        (json!({"match": nots(40)}), None),
    ];
    for (filter, field) in &cases {
        let body = webhook_body(url, json!({ "filter": filter }));
        let (status, e) = client.post("/api/v1/webhooks", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{filter}: {e}");
        let got = e["error"]["field"].as_str().unwrap_or_default();
        match field {
            Some(field) => assert_eq!(got, *field, "{filter}: {e}"),
            None => assert!(got.starts_with("filter.match."), "{filter}: {e}"),
        }
    }
    // 100,000 levels deep: refused while reading the body, as JSON.
    let deep = format!(
        r#"{{"name": "d", "url": "{url}", "filter": {{"match": {}{{"type": "a"}}{}}}}}"#,
        r#"{"$not": "#.repeat(100_000),
        "}".repeat(100_000)
    );
    let answer = client
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            "application/json",
            deep.into_bytes(),
        )
        .await;
    assert!(
        answer.status.is_client_error(),
        "{}: {}",
        answer.status,
        answer.body
    );
    assert_eq!(
        answer.body["error"]["code"], "invalid_json",
        "{}",
        answer.body
    );
    let (status, list) = client.get("/api/v1/webhooks").await;
    assert_eq!(status, StatusCode::OK, "the server still answers: {list}");
    assert_eq!(list["data"], json!([]), "nothing was stored: {list}");

    // The same checks on PATCH, and the stored filter is left as it was.
    let webhook = create_webhook(
        &client,
        webhook_body(url, json!({"filter": {"match": {"data.severity": "high"}}})),
    )
    .await;
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let (status, e) = client
        .patch(
            &path,
            json!({"filter": {"match": {"data": {"amount": {"$lt": {"a": 1}}}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "filter.match.data.amount.$lt", "{e}");
    let (_, stored) = client.get(&path).await;
    assert_eq!(
        stored["filter"],
        json!({"match": {"data.severity": "high"}})
    );
}

#[tokio::test]
async fn a_patched_filter_takes_effect_and_null_clears_it() {
    let (_server, client, receiver, path) =
        one_webhook(json!({"filter": {"match": {"data.severity": "high"}}})).await;
    let low = |id: &str| event(id, "alert", json!({"severity": "low"}));
    assert_eq!(post_event(&client, low("low_1")).await["deliveries"], 0);

    let (status, changed) = client
        .patch(
            &path,
            json!({"filter": {"expr": "event.data.severity == 'low'"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["filter"],
        json!({"expr": "event.data.severity == 'low'"})
    );
    assert_eq!(post_event(&client, low("low_2")).await["deliveries"], 1);
    let high = event("high_1", "alert", json!({"severity": "high"}));
    assert_eq!(post_event(&client, high).await["deliveries"], 0);

    // A PATCH of other fields keeps the filter.
    let (status, renamed) = client.patch(&path, json!({"name": "renamed"})).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["filter"]["expr"], "event.data.severity == 'low'");
    assert_eq!(post_event(&client, low("low_3")).await["deliveries"], 1);

    // `null` removes it: every event of the webhook's types again.
    let (status, cleared) = client.patch(&path, json!({"filter": null})).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert!(cleared["filter"].is_null(), "{cleared}");
    let (_, stored) = client.get(&path).await;
    assert!(stored["filter"].is_null(), "{stored}");
    let high = event("high_2", "alert", json!({"severity": "high"}));
    assert_eq!(post_event(&client, high).await["deliveries"], 1);

    receiver.wait_for(3, WAIT).await;
    receiver.assert_quiet(QUIET, 3, "three events passed").await;
    assert_eq!(ids(&receiver), ["high_2", "low_2", "low_3"]);
}
