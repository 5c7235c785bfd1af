//! Events delivered later (`deliver_at`, `delay_ms`), cancelled before
//! their time, and emitted on a cron pattern: on time, across a SIGKILL,
//! and once per tick with three nodes on one PostgreSQL database.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::binary::{Nodes, spawn_herald_with};
use crate::common::{
    ApiClient, Receiver, TestServer, WAIT, create_webhook, post_event, wait_for_value, wait_until,
    webhook_body,
};

fn rfc3339(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn deliveries_of(client: &ApiClient, event_id: &str) -> Vec<Value> {
    let (status, list) = client
        .get(&format!("/api/v1/deliveries?event_id={event_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["data"].as_array().expect("data").clone()
}

/// Asserts an arrival fell within a second after its due time.
fn assert_on_time(arrived: Instant, due: Instant, what: &str) {
    assert_within(arrived, due, Duration::from_secs(1), what);
}

/// Asserts an arrival fell within `bound` after its due time, not before.
fn assert_within(arrived: Instant, due: Instant, bound: Duration, what: &str) {
    assert!(
        arrived + Duration::from_millis(5) >= due,
        "{what} arrived {:?} before its time",
        due - arrived
    );
    let late = arrived.saturating_duration_since(due);
    assert!(late <= bound, "{what} arrived {late:?} after its time");
}

/// Posts an event due three seconds from now; answers when it is due.
async fn post_due_in_three_seconds(client: &ApiClient, id: &str) -> Instant {
    let (now, now_at) = (Instant::now(), SystemTime::now());
    let deliver_at = rfc3339(now_at + Duration::from_secs(3));
    let answer = post_event(
        client,
        json!({"type": "reminder.due", "id": id, "deliver_at": deliver_at}),
    )
    .await;
    assert_eq!(answer["deliveries"], 1, "{answer}");
    let (_, event) = client.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(event["deliver_at"], deliver_at.as_str(), "{event}");
    assert_eq!(event["deliveries"][0]["status"], "scheduled", "{event}");
    now + Duration::from_secs(3)
}

#[tokio::test]
async fn deliver_at_survives_a_restart_and_arrives_within_a_second_after_it() {
    let mut server = TestServer::start().await;
    let receiver = Receiver::start().await;
    create_webhook(
        &server.client(),
        webhook_body(&receiver.url("/later"), json!({})),
    )
    .await;
    let due = post_due_in_three_seconds(&server.client(), "later-0").await;
    server.restart().await;
    assert!(Instant::now() < due, "the restart took too long");
    let requests = receiver.wait_for(1, WAIT).await;
    assert_on_time(requests[0].at, due, "the scheduled event");
    receiver
        .assert_quiet(Duration::from_millis(300), 1, "sent once")
        .await;
}

/// On PostgreSQL a node killed with SIGKILL keeps its webhooks' lanes
/// until their lease runs out (5 s, the cluster's failover time); only
/// then does the restarted node (or another) take the lane over.
const POSTGRES_TAKEOVER: Duration = Duration::from_secs(5);

#[tokio::test]
async fn deliver_at_survives_a_kill() {
    let data_dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("herald.log");
    let receiver = Receiver::start().await;
    let (mut child, client) = spawn_herald_with(data_dir.path(), &log, &[]).await;
    create_webhook(&client, webhook_body(&receiver.url("/later"), json!({}))).await;
    let due = post_due_in_three_seconds(&client, "later-1").await;
    let listed = client.get("/api/v1/deliveries?status=scheduled").await.1;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");

    // SIGKILL: nothing but the database remembers the time.
    child.kill().await.unwrap();
    let (_child, client) = spawn_herald_with(data_dir.path(), &log, &[]).await;
    assert!(
        Instant::now() < due,
        "the restart took too long to test a delivery after it"
    );
    let requests = receiver.wait_for(1, WAIT).await;
    let bound = match crate::common::database::postgres_admin_url() {
        Some(_) => POSTGRES_TAKEOVER + Duration::from_secs(1),
        None => Duration::from_secs(1),
    };
    assert_within(requests[0].at, due, bound, "the scheduled event");
    assert_eq!(requests[0].json()["id"], "later-1");
    wait_until(WAIT, "the delivery recorded as delivered", || {
        let client = client.clone();
        async move { deliveries_of(&client, "later-1").await[0]["status"] == "delivered" }
    })
    .await;
    receiver
        .assert_quiet(Duration::from_millis(300), 1, "sent once")
        .await;
}

#[tokio::test]
async fn delay_ms_delivers_later_and_a_cancelled_event_never_does() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(&client, webhook_body(&receiver.url("/later"), json!({}))).await;

    let posted = Instant::now();
    let (status, batch) = client
        .post(
            "/api/v1/events/batch",
            json!({"events": [
                // 1500.0 is an integer to JSON Schema, and to Herald.
                {"type": "reminder.due", "id": "kept", "delay_ms": 1500.0},
                {"type": "reminder.due", "id": "dropped", "delay_ms": 1500},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{batch}");
    let (status, cancelled) = client
        .post("/api/v1/events/dropped/cancel", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled, json!({"id": "dropped", "cancelled": 1}));
    let (status, again) = client
        .post("/api/v1/events/dropped/cancel", json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"]["code"], "not_scheduled");
    let (status, missing) = client
        .post("/api/v1/events/nothing/cancel", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");

    let requests = receiver.wait_for(1, WAIT).await;
    assert_on_time(
        requests[0].at,
        posted + Duration::from_millis(1500),
        "the delayed event",
    );
    assert_eq!(requests[0].json()["id"], "kept");
    receiver
        .assert_quiet(
            Duration::from_millis(1000),
            1,
            "the cancelled event stays unsent",
        )
        .await;
    assert_eq!(
        deliveries_of(&client, "dropped").await[0]["status"],
        "cancelled"
    );
    // Sent already: nothing left to cancel.
    let (status, late) = client.post("/api/v1/events/kept/cancel", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{late}");
    // An event posted without a time is not scheduled either.
    post_event(&client, json!({"type": "reminder.due", "id": "plain"})).await;
    let (status, _) = client.post("/api/v1/events/plain/cancel", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_times_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let client = server.client();
    let far = rfc3339(SystemTime::now() + Duration::from_secs(91 * 24 * 3600));
    for (body, field) in [
        (
            json!({"type": "a", "deliver_at": "tomorrow morning"}),
            "deliver_at",
        ),
        (json!({"type": "a", "deliver_at": far}), "deliver_at"),
        (
            json!({"type": "a", "deliver_at": rfc3339(SystemTime::now()), "delay_ms": 5}),
            "delay_ms",
        ),
        (
            json!({"type": "a", "delay_ms": 7_776_000_001_u64}),
            "delay_ms",
        ),
    ] {
        let (status, answer) = client.post("/api/v1/events", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, answer) = client
        .post(
            "/api/v1/events/batch",
            json!({"events": [{"type": "a"}, {"type": "a", "deliver_at": "soon"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["field"], "events[1].deliver_at");
    // A time already past is no schedule: delivered at once.
    let past = rfc3339(SystemTime::now() - Duration::from_secs(60));
    post_event(
        &client,
        json!({"type": "a", "id": "past", "deliver_at": past}),
    )
    .await;
    let (_, event) = client.get("/api/v1/events/past").await;
    assert_eq!(event["deliver_at"], Value::Null, "{event}");
    let (_, list) = client.get("/api/v1/events").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "nothing else was stored: {list}"
    );
}

/// The schedule's tick in an emitted event's id (`sch_…:<ms>`).
fn tick_of(event: &Value) -> i64 {
    let id = event["id"].as_str().expect("id");
    id.rsplit_once(':')
        .and_then(|(_, ms)| ms.parse().ok())
        .unwrap_or_else(|| panic!("`{id}` is not a schedule's tick"))
}

#[tokio::test]
async fn a_schedule_emits_each_tick_and_can_be_paused_edited_and_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    let receiver = Receiver::start().await;
    create_webhook(
        &client,
        webhook_body(
            &receiver.url("/ticks"),
            json!({"event_types": ["report.tick"]}),
        ),
    )
    .await;

    let schedule = json!({
        "name": "every-second",
        "cron": "* * * * * *",
        "timezone": "Europe/Berlin",
        "event": {"type": "report.tick", "data": {"report": "queue"}},
    });
    let (status, created) = client.post("/api/v1/schedules", schedule.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let runs: Vec<i64> = created["next_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            DateTime::parse_from_rfc3339(t.as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        })
        .collect();
    assert_eq!(runs.len(), 5, "{created}");
    assert!(runs.windows(2).all(|w| w[1] - w[0] == 1000), "{runs:?}");

    let (status, taken) = client.post("/api/v1/schedules", schedule).await;
    assert_eq!(status, StatusCode::CONFLICT, "{taken}");
    assert_eq!(taken["error"]["field"], "name");

    let requests = receiver.wait_for(3, WAIT).await;
    let events: Vec<Value> = requests.iter().map(|r| r.json()).collect();
    let ticks: Vec<i64> = events.iter().map(tick_of).collect();
    assert!(ticks.windows(2).all(|w| w[1] - w[0] == 1000), "{ticks:?}");
    assert_eq!(events[0]["type"], "report.tick");
    assert_eq!(events[0]["data"], json!({"report": "queue"}));
    let event_id = events[0]["id"].as_str().unwrap();
    let (_, stored) = client.get(&format!("/api/v1/events/{event_id}")).await;
    assert_eq!(
        stored["source"],
        format!("herald.schedule:{id}"),
        "{stored}"
    );

    let (status, paused) = client
        .post(&format!("/api/v1/schedules/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["next_runs"], json!([]));
    // A tick already being emitted may still land: wait for every emitted
    // one, then silence.
    let before = wait_for_value(WAIT, "every emitted tick delivered", || {
        let (client, id, receiver) = (client.clone(), id.clone(), &receiver);
        async move {
            let (_, read) = client.get(&format!("/api/v1/schedules/{id}")).await;
            let runs = read["runs"].as_u64()? as usize;
            (receiver.requests().len() == runs).then_some(runs)
        }
    })
    .await;
    receiver
        .assert_quiet(
            Duration::from_millis(2100),
            before,
            "a paused schedule emits nothing",
        )
        .await;
    let (_, read) = client.get(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(read["runs"], before as u64, "{read}");
    assert_eq!(read["paused"], true);

    for (patch, field) in [
        (json!({"cron": "* * *"}), "cron"),
        (json!({"cron": "99 * * * *"}), "cron"),
        (json!({"timezone": "Nowhere/Atlantis"}), "timezone"),
        (json!({"event": {"type": "bad type!"}}), "event.type"),
    ] {
        let (status, answer) = client
            .patch(&format!("/api/v1/schedules/{id}"), patch.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{patch}: {answer}"
        );
        assert_eq!(answer["error"]["field"], field, "{patch}: {answer}");
    }
    let (status, resumed) = client
        .patch(
            &format!("/api/v1/schedules/{id}"),
            json!({"paused": false, "cron": "*/2 * * * * *"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    let requests = receiver.wait_for(before + 1, WAIT).await;
    assert_eq!(
        tick_of(&requests[before].json()) % 2000,
        0,
        "every other second now"
    );

    let (status, list) = client.get("/api/v1/schedules").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"][0]["name"], "every-second", "{list}");
    let (status, _) = client.delete(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = client.get(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_schedules_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let client = server.client();
    let event = json!({"type": "a"});
    for (body, field) in [
        (
            json!({"name": "", "cron": "* * * * *", "event": event}),
            "name",
        ),
        (
            json!({"name": "n", "cron": "* * * *", "event": event}),
            "cron",
        ),
        (
            json!({"name": "n", "cron": "0 0 30 2 *", "event": event}),
            "cron",
        ),
        (
            json!({"name": "n", "cron": "* * * * *", "timezone": "UTC+25", "event": event}),
            "timezone",
        ),
        (
            json!({"name": "n", "cron": "* * * * *", "event": {"type": "a b"}}),
            "event.type",
        ),
    ] {
        let (status, answer) = client.post("/api/v1/schedules", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (_, list) = client.get("/api/v1/schedules").await;
    assert_eq!(list["data"], json!([]), "nothing was stored");
}

const NODES: usize = 3;
const WINDOW: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_postgres_nodes_emit_each_tick_exactly_once() {
    let cluster = Nodes::start(NODES).await;
    let receiver = Receiver::start().await;
    let first = cluster.client(0);
    create_webhook(
        &first,
        webhook_body(
            &receiver.url("/ticks"),
            json!({"event_types": ["cluster.tick"]}),
        ),
    )
    .await;
    for (_, client) in &cluster.nodes {
        wait_until(WAIT, "every node knows the webhook", || {
            let client = client.clone();
            async move {
                let (_, list) = client.get("/api/v1/webhooks").await;
                list["data"].as_array().is_some_and(|l| l.len() == 1)
            }
        })
        .await;
    }
    // Made on the last node; every node runs the ticker.
    let (status, created) = cluster
        .client(NODES - 1)
        .post(
            "/api/v1/schedules",
            json!({"name": "pulse", "cron": "* * * * * *", "event": {"type": "cluster.tick"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    tokio::time::sleep(WINDOW).await;
    let (status, paused) = first
        .post(&format!("/api/v1/schedules/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    // What was being emitted at the pause lands: every emitted tick.
    let runs = wait_for_value(WAIT, "every emitted tick delivered", || {
        let (first, id, receiver) = (first.clone(), id.clone(), &receiver);
        async move {
            let (_, read) = first.get(&format!("/api/v1/schedules/{id}")).await;
            let runs = read["runs"].as_u64()? as usize;
            (receiver.requests().len() == runs).then_some(runs)
        }
    })
    .await;

    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    for request in receiver.requests() {
        *seen.entry(tick_of(&request.json())).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "ticks delivered more than once: {twice:?}"
    );
    let ticks: Vec<i64> = seen.keys().copied().collect();
    assert!(
        ticks.len() >= WINDOW.as_secs() as usize - 1,
        "only {} ticks in {WINDOW:?}: {ticks:?}",
        ticks.len()
    );
    assert!(
        ticks.windows(2).all(|w| w[1] - w[0] == 1000),
        "a tick is missing: {ticks:?}"
    );
    assert_eq!(runs, ticks.len(), "every emitted tick arrived once");
    let (_, read) = first.get(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(read["skipped"], 0, "{read}");
}
