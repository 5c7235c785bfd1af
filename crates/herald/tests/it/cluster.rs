//! Real `herald serve` processes on one PostgreSQL database. Three, one of
//! them killed with SIGKILL mid-stream: every acknowledged event is
//! delivered, only what was in flight at the kill may arrive twice, and a
//! webhook's rate limit holds across the nodes in every one-second window.
//! Two: a webhook made on one routes the next event posted to the other.
//! Needs the PostgreSQL at `HERALD_TEST_DATABASE` (default: the local one)
//! and fails, saying so, without it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::Receiver;
use crate::common::binary::{CRASH_TOKEN, Nodes};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::Notify;

const NODES: usize = 3;
const EVENTS: usize = 20_000;
/// Events for the rate-limited webhook; the rest go to the three others.
const LIMITED_EVENTS: usize = 500;
const LIMIT_PER_SECOND: usize = 50;
const BATCH: usize = 20;
const POSTERS: usize = 12;
/// Kill one node once this many events have been acknowledged.
const KILL_AFTER: usize = EVENTS / 2;

/// Which webhook (by path) event number `n` goes to.
fn route_of(n: usize) -> &'static str {
    if n.is_multiple_of(EVENTS / LIMITED_EVENTS) {
        "limited"
    } else {
        ["a", "b", "c"][n % 3]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_the_work_survive_a_kill_and_keep_the_rate_limit() {
    let mut cluster = Nodes::start(NODES).await;
    let database = cluster.database.clone();
    let receiver = Receiver::start().await;
    let first = cluster.client(0);
    let mut names: HashMap<String, String> = HashMap::new();
    for path in ["a", "b", "c", "limited"] {
        let mut body = json!({
            "name": path,
            "url": receiver.url(&format!("/{path}")),
            "event_types": [format!("load.{path}")],
            "max_in_flight": 32,
        });
        if path == "limited" {
            body["rate_limit"] = json!({ "per_second": LIMIT_PER_SECOND });
        }
        let (status, created) = first.post("/api/v1/webhooks", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        names.insert(
            created["id"].as_str().unwrap().to_string(),
            path.to_string(),
        );
    }
    // Every node routes the new webhooks before events arrive there.
    for (_, client) in &cluster.nodes {
        crate::common::wait_until(crate::common::WAIT, "every node knows the webhooks", || {
            let client = client.clone();
            async move {
                let (_, list) = client.get("/api/v1/webhooks").await;
                list["data"].as_array().is_some_and(|l| l.len() == 4)
            }
        })
        .await;
    }

    let urls: Vec<String> = cluster
        .nodes
        .iter()
        .map(|(_, c)| c.url("/api/v1/events/batch"))
        .collect();
    let dead = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acknowledged_count = Arc::new(AtomicUsize::new(0));
    let kill_now = Arc::new(Notify::new());
    let mut posters = tokio::task::JoinSet::new();
    for poster in 0..POSTERS {
        let urls = urls.clone();
        let (dead, count, kill_now) = (dead.clone(), acknowledged_count.clone(), kill_now.clone());
        posters.spawn(async move {
            let http = reqwest::Client::new();
            let mut acknowledged = Vec::new();
            let batches: Vec<usize> = (0..EVENTS / BATCH).filter(|b| b % POSTERS == poster).collect();
            for (k, batch) in batches.into_iter().enumerate() {
                let ids: Vec<usize> = (batch * BATCH..(batch + 1) * BATCH).collect();
                let events: Vec<Value> = ids
                    .iter()
                    .map(|&n| {
                        let id = format!("evt-{n}");
                        json!({ "type": format!("load.{}", route_of(n)), "id": id, "data": { "event_id": id } })
                    })
                    .collect();
                // Round robin over the nodes; a request to the killed node
                // goes again to the next one (same ids: idempotent).
                let mut node = (poster + k) % NODES;
                loop {
                    if node == 1 && dead.load(Ordering::SeqCst) {
                        node = (node + 1) % NODES;
                        continue;
                    }
                    let sent = http
                        .post(&urls[node])
                        .bearer_auth(CRASH_TOKEN)
                        .json(&json!({ "events": events }))
                        .timeout(Duration::from_secs(20))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::ACCEPTED => break,
                        Ok(r) => panic!("batch refused: {} {}", r.status(), r.text().await.unwrap_or_default()),
                        Err(_) => node = (node + 1) % NODES,
                    }
                }
                acknowledged.extend(ids.iter().map(|n| format!("evt-{n}")));
                if count.fetch_add(BATCH, Ordering::SeqCst) + BATCH == KILL_AFTER {
                    kill_now.notify_one();
                }
            }
            acknowledged
        });
    }

    kill_now.notified().await;
    // SIGKILL: no shutdown, its leases are simply never renewed again.
    cluster.nodes[1].0.kill().await.expect("kill node 2");
    dead.store(true, Ordering::SeqCst);
    // What was leased at the kill (on any node): the only deliveries that
    // may arrive twice.
    let in_flight: HashSet<(String, String)> = leased_deliveries(&database)
        .await
        .into_iter()
        .map(|(event, webhook)| (event, names[&webhook].clone()))
        .collect();

    let mut acknowledged = BTreeSet::new();
    while let Some(result) = posters.join_next().await {
        acknowledged.extend(result.expect("poster task"));
    }
    assert_eq!(
        acknowledged.len(),
        EVENTS,
        "every batch was acknowledged by some node"
    );

    let key = |r: &crate::common::Recorded| -> Option<(String, String)> {
        let id = r.json()["data"]["event_id"].as_str()?.to_string();
        Some((id, r.path.trim_start_matches('/').to_string()))
    };
    let requests = receiver
        .wait_until(
            Duration::from_secs(240),
            "every acknowledged event delivered",
            |requests| {
                requests
                    .iter()
                    .filter_map(key)
                    .collect::<HashSet<_>>()
                    .len()
                    >= EVENTS
            },
        )
        .await;

    // Delivered, each to its webhook.
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for r in &requests {
        *seen.entry(key(r).expect("an event id")).or_default() += 1;
    }
    for n in 0..EVENTS {
        let want = (format!("evt-{n}"), route_of(n).to_string());
        assert!(
            seen.contains_key(&want),
            "{want:?} was acknowledged but never delivered"
        );
    }
    // Twice only if in flight at the kill.
    let twice: Vec<_> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k.clone())
        .collect();
    eprintln!(
        "cluster test: {EVENTS} events acknowledged, {} requests received, {} delivered twice, {} leased at the kill",
        requests.len(),
        twice.len(),
        in_flight.len()
    );
    for k in &twice {
        assert!(
            in_flight.contains(k),
            "{k:?} arrived twice but was not in flight at the kill"
        );
    }

    // The rate limit, in every one-second window at the receiver.
    let mut limited: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/limited")
        .map(|r| r.at)
        .collect();
    limited.sort();
    assert_eq!(
        limited.len() - twice.iter().filter(|k| k.1 == "limited").count(),
        LIMITED_EVENTS
    );
    let busiest = (0..limited.len())
        .map(|i| {
            limited[i..]
                .iter()
                .take_while(|t| **t - limited[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    eprintln!("cluster test: busiest second of the limited webhook: {busiest} requests");
    assert!(
        busiest <= LIMIT_PER_SECOND,
        "{busiest} requests within one second; the limit is {LIMIT_PER_SECOND}/s"
    );
}

/// Two real nodes on one fresh PostgreSQL database.
struct TwoNodes {
    nodes: Nodes,
}

impl TwoNodes {
    async fn start() -> TwoNodes {
        TwoNodes {
            nodes: Nodes::start(2).await,
        }
    }

    fn a(&self) -> crate::common::ApiClient {
        self.nodes.client(0)
    }

    fn b(&self) -> crate::common::ApiClient {
        self.nodes.client(1)
    }
}

/// A webhook made on one node routes an event posted to another node right
/// after the create returned, before that node heard of it: the store tells
/// the second node its routing table is behind, and it matches again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_made_on_one_node_routes_the_next_event_posted_to_another() {
    let pair = TwoNodes::start().await;
    let (a, b) = (pair.a(), pair.b());
    for round in 0..5 {
        let (status, created) = a
            .post(
                "/api/v1/webhooks",
                json!({
                    "name": format!("fresh-{round}"),
                    "url": "http://127.0.0.1:9/hook",
                    "event_types": [format!("fresh.r{round}")],
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (status, answer) = b
            .post("/api/v1/events", json!({"type": format!("fresh.r{round}")}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        assert_eq!(
            answer["deliveries"], 1,
            "round {round}: the event posted to the other node found the new webhook"
        );
    }
}

/// Two nodes changing one webhook at once: rotations on one, edits on the
/// other. Each read-change-write used to hold only its own node's lock, so
/// an edit read before a rotation could put the old secret back. Writes
/// apply to the version read, and every change survives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_on_two_nodes_never_undo_each_other() {
    let pair = TwoNodes::start().await;
    let (a, b) = (pair.a(), pair.b());
    let (status, webhook) = a
        .post(
            "/api/v1/webhooks",
            json!({"name": "shared", "url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let rotations = {
        let (a, path) = (a.clone(), path.clone());
        tokio::spawn(async move {
            let mut last = String::new();
            for _ in 0..60 {
                let (status, answer) = a
                    .post(
                        &format!("{path}/secret/rotate"),
                        json!({"grace_period_hours": 0}),
                    )
                    .await;
                // Under this much contention a change may lose every race
                // and be refused whole (409): then it did not happen.
                match status {
                    StatusCode::OK => last = answer["secret"].as_str().unwrap().to_string(),
                    StatusCode::CONFLICT => {}
                    other => panic!("a rotation answered {other}: {answer}"),
                }
            }
            last
        })
    };
    // Several editors at once, so edits are always under way on the
    // other node while secrets rotate.
    let editors: Vec<_> = (0..3)
        .map(|e| {
            let (b, path) = (b.clone(), path.clone());
            tokio::spawn(async move {
                for n in 0..40 {
                    let (status, answer) = b
                        .patch(
                            &path,
                            json!({"tags": [format!("editor-{e}"), format!("n{n}")]}),
                        )
                        .await;
                    assert!(
                        matches!(status, StatusCode::OK | StatusCode::CONFLICT),
                        "an edit answered {status}: {answer}"
                    );
                }
            })
        })
        .collect();
    let last_secret = rotations.await.unwrap();
    assert!(!last_secret.is_empty(), "no rotation succeeded");
    for editor in editors {
        editor.await.unwrap();
    }
    let (status, answer) = b.patch(&path, json!({"description": "last edit"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for node in [&a, &b] {
        let (_, secret) = node.get(&format!("{path}/secret")).await;
        assert_eq!(secret["secret"], last_secret.as_str(), "{secret}");
        let (_, stored) = node.get(&path).await;
        assert_eq!(stored["description"], "last edit", "{stored}");
    }
}

/// `(event id, webhook id)` of every delivery leased right now.
async fn leased_deliveries(database: &str) -> Vec<(String, String)> {
    let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
    sqlx::query_as(
        "SELECT e.id, d.webhook_id FROM deliveries d JOIN events e ON e.seq = d.event_seq
         WHERE d.status = 'delivering'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}
