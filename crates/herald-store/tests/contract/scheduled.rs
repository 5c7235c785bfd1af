//! Events held until a time, their cancellation, and recurring schedules'
//! once-per-tick step.

use herald_core::delivery::DeliveryStatus;
use herald_store::prelude::*;
use herald_store::{DeliveryFilter, ScheduleAdvance, ScheduleRow, StoreError};

use crate::breaker::stored_webhook;
use crate::fixtures::{TENANT, event};
use crate::harness::Db;

contract! {
    both: [
        a_scheduled_delivery_waits_until_due_and_is_not_a_backlog,
        a_digest_delivery_waits_for_its_webhooks_tick_alone,
        only_scheduled_deliveries_are_cancelled,
        a_schedule_moves_on_once_per_tick,
        schedule_names_are_unique_per_tenant,
    ],
}

async fn statuses(db: &Db) -> Vec<(String, DeliveryStatus)> {
    let mut rows: Vec<(String, DeliveryStatus)> = db
        .list_deliveries(DeliveryFilter {
            tenant_id: TENANT.to_string(),
            limit: 50,
            ..DeliveryFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.event_id, d.status))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

async fn a_scheduled_delivery_waits_until_due_and_is_not_a_backlog(db: &mut Db) {
    let wh = stored_webhook(db, "later").await;
    let mut later = event("later", &[wh.id.as_str()], 100);
    later.deliver_at_ms = Some(5_000);
    // A time not after the posting is no schedule at all.
    let mut now = event("now", &[wh.id.as_str()], 100);
    now.deliver_at_ms = Some(100);
    db.ingest(TENANT, vec![later, now]).await.unwrap();
    assert_eq!(
        statuses(db).await,
        [
            ("later".to_string(), DeliveryStatus::Scheduled),
            ("now".to_string(), DeliveryStatus::Pending)
        ]
    );
    let stats = db.queue_stats().await.unwrap();
    assert_eq!((stats.scheduled, stats.pending), (1, 1));
    assert_eq!(stats.oldest_pending_at_ms, Some(100), "only `now` waits");

    let claim = db.claim(&wh.id, 200, 10, 60_000, false).await.unwrap();
    let ids: Vec<&str> = claim
        .deliveries
        .iter()
        .map(|d| d.event_id.as_str())
        .collect();
    assert_eq!(ids, ["now"]);
    assert_eq!(claim.next_due_ms, Some(5_000), "the lane sleeps until then");
    assert_eq!(db.next_due(&wh.id).await.unwrap(), Some(5_000));
    assert_eq!(
        db.webhooks_with_queued_deliveries().await.unwrap(),
        std::slice::from_ref(&wh.id),
        "a restart wakes the lane of a scheduled delivery"
    );

    let claim = db.claim(&wh.id, 5_000, 10, 60_000, false).await.unwrap();
    assert_eq!(claim.deliveries.len(), 1);
    assert_eq!(claim.deliveries[0].event_id, "later");
    assert_eq!(
        db.get_event(TENANT, "later")
            .await
            .unwrap()
            .unwrap()
            .deliver_at_ms,
        Some(5_000)
    );
    // Retention keeps an event whose delivery is still scheduled.
    let mut kept = event("kept", &[wh.id.as_str()], 100);
    kept.deliver_at_ms = Some(1_000_000);
    db.ingest(TENANT, vec![kept]).await.unwrap();
    db.prune(10_000, 100).await.unwrap();
    assert!(db.get_event(TENANT, "kept").await.unwrap().is_some());
}

async fn a_digest_delivery_waits_for_its_webhooks_tick_alone(db: &mut Db) {
    let now = stored_webhook(db, "at once").await;
    let digest = stored_webhook(db, "digest").await;
    let mut e = event("both", &[now.id.as_str(), digest.id.as_str()], 100);
    e.digest_at_ms = vec![None, Some(7_000)];
    // An event held until later waits for the later of the two times.
    let mut held = event("held", &[digest.id.as_str()], 100);
    held.deliver_at_ms = Some(9_000);
    held.digest_at_ms = vec![Some(8_000)];
    db.ingest(TENANT, vec![e, held]).await.unwrap();
    let due_now = db.claim(&now.id, 200, 10, 60_000, false).await.unwrap();
    assert_eq!(
        due_now.deliveries.len(),
        1,
        "the plain webhook's is due at once"
    );
    let early = db
        .claim(&digest.id, 6_999, 10, 60_000, false)
        .await
        .unwrap();
    assert!(early.deliveries.is_empty());
    assert_eq!(early.next_due_ms, Some(7_000), "the digest's tick");
    let at_tick = db
        .claim(&digest.id, 7_000, 10, 60_000, false)
        .await
        .unwrap();
    let ids: Vec<&str> = at_tick
        .deliveries
        .iter()
        .map(|d| d.event_id.as_str())
        .collect();
    assert_eq!(ids, ["both"]);
    assert_eq!(db.next_due(&digest.id).await.unwrap(), Some(9_000));
}

async fn only_scheduled_deliveries_are_cancelled(db: &mut Db) {
    let a = stored_webhook(db, "a").await;
    let b = stored_webhook(db, "b").await;
    let mut later = event("later", &[a.id.as_str(), b.id.as_str()], 100);
    later.deliver_at_ms = Some(9_000);
    db.ingest(TENANT, vec![later, event("now", &[a.id.as_str()], 100)])
        .await
        .unwrap();
    // b's delivery fell due and was taken: it is no longer cancellable.
    let taken = db.claim(&b.id, 9_000, 10, 60_000, false).await.unwrap();
    assert_eq!(taken.deliveries.len(), 1);

    assert_eq!(
        db.cancel_event(TENANT, "later", 9_001).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        db.cancel_event(TENANT, "later", 9_002).await.unwrap(),
        Some(0)
    );
    assert_eq!(
        db.cancel_event(TENANT, "now", 9_002).await.unwrap(),
        Some(0)
    );
    assert_eq!(
        db.cancel_event(TENANT, "nothing", 9_002).await.unwrap(),
        None
    );
    assert_eq!(
        db.cancel_event("tnt_other", "later", 9_002).await.unwrap(),
        None
    );
    let cancelled: Vec<_> = statuses(db)
        .await
        .into_iter()
        .filter(|(_, s)| *s == DeliveryStatus::Cancelled)
        .collect();
    assert_eq!(
        cancelled,
        [("later".to_string(), DeliveryStatus::Cancelled)]
    );
    assert!(
        db.claim(&a.id, 20_000, 10, 60_000, false)
            .await
            .unwrap()
            .deliveries
            .iter()
            .all(|d| d.event_id == "now"),
        "a cancelled delivery is never claimed"
    );
}

fn schedule(id: &str, name: &str, next: i64) -> ScheduleRow {
    ScheduleRow {
        id: id.to_string(),
        tenant_id: TENANT.to_string(),
        name: name.to_string(),
        cron: "* * * * * *".to_string(),
        timezone: "UTC".to_string(),
        event_type: "tick".to_string(),
        event_data: "{}".to_string(),
        paused: false,
        next_run_at_ms: Some(next),
        last_run_at_ms: None,
        runs: 0,
        skipped: 0,
        created_at_ms: 1,
        updated_at_ms: 1,
    }
}

fn step(id: &str, from: i64, to: i64) -> ScheduleAdvance {
    ScheduleAdvance {
        id: id.to_string(),
        from_ms: from,
        to_ms: Some(to),
        emitted: true,
        skipped: 0,
        now_ms: from,
    }
}

async fn a_schedule_moves_on_once_per_tick(db: &mut Db) {
    db.insert_schedule(schedule("sch_a", "a", 1_000))
        .await
        .unwrap();
    let mut paused = schedule("sch_p", "p", 500);
    paused.paused = true;
    db.insert_schedule(paused).await.unwrap();
    db.insert_schedule(schedule("sch_b", "b", 3_000))
        .await
        .unwrap();

    assert_eq!(db.next_schedule_due().await.unwrap(), Some(1_000));
    let due = db.due_schedules(2_000, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["sch_a"]
    );

    // Two nodes step the same tick: one wins.
    assert!(
        db.advance_schedule(step("sch_a", 1_000, 2_000))
            .await
            .unwrap()
    );
    assert!(
        !db.advance_schedule(step("sch_a", 1_000, 2_000))
            .await
            .unwrap()
    );
    // Passing over ticks counts them, without a run.
    let pass = ScheduleAdvance {
        emitted: false,
        skipped: 4,
        ..step("sch_a", 2_000, 7_000)
    };
    assert!(db.advance_schedule(pass).await.unwrap());
    let a = db.get_schedule(TENANT, "sch_a").await.unwrap().unwrap();
    assert_eq!(
        (a.next_run_at_ms, a.last_run_at_ms, a.runs, a.skipped),
        (Some(7_000), Some(1_000), 1, 5)
    );
    // A paused schedule is not due; a tick emitted as it was paused still
    // counts.
    assert!(db.advance_schedule(step("sch_p", 500, 600)).await.unwrap());
    assert!(
        db.due_schedules(10_000, 10)
            .await
            .unwrap()
            .iter()
            .all(|s| s.id != "sch_p")
    );
    assert_eq!(
        db.get_schedule(TENANT, "sch_p")
            .await
            .unwrap()
            .unwrap()
            .runs,
        1
    );

    // An edit that moved the tick makes a stale step fail.
    let mut b = db.get_schedule(TENANT, "sch_b").await.unwrap().unwrap();
    b.next_run_at_ms = Some(4_000);
    b.cron = "*/2 * * * * *".to_string();
    assert!(db.update_schedule(b).await.unwrap());
    assert!(
        !db.advance_schedule(step("sch_b", 3_000, 4_000))
            .await
            .unwrap()
    );
    assert_eq!(
        db.get_schedule(TENANT, "sch_b")
            .await
            .unwrap()
            .unwrap()
            .cron,
        "*/2 * * * * *"
    );

    assert!(
        db.get_schedule("tnt_other", "sch_a")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!db.delete_schedule("tnt_other", "sch_a").await.unwrap());
    assert!(db.delete_schedule(TENANT, "sch_a").await.unwrap());
    assert!(!db.update_schedule(schedule("sch_a", "a", 1)).await.unwrap());
    let names: Vec<String> = db
        .list_schedules(TENANT)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["b", "p"]);
}

async fn schedule_names_are_unique_per_tenant(db: &mut Db) {
    db.insert_schedule(schedule("sch_1", "daily", 1))
        .await
        .unwrap();
    let again = db.insert_schedule(schedule("sch_2", "daily", 1)).await;
    assert!(
        matches!(again, Err(StoreError::UniqueViolation(_))),
        "{again:?}"
    );
    let mut other = schedule("sch_3", "daily", 1);
    other.tenant_id = "tnt_other".to_string();
    db.insert_schedule(other).await.unwrap();
}
