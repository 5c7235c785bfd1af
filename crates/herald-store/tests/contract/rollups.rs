//! Delivery analytics: attempts roll up by minute, five minutes, hour and
//! day in the
//! transaction that records them, days split at UTC midnight, groups and
//! filters answer from the rollups, the figures outlive the raw rows, and
//! each webhook's stats follow its attempts.

use herald_core::delivery::{AttemptOutcome, ErrorCategory};
use herald_core::webhook::WebhookStatus;
use herald_store::prelude::*;
use herald_store::rollups::{AnalyticsQuery, Dimension, Granularity, bucket_of};
use herald_store::{AttemptRecord, ClaimedDelivery, NextStep};

use crate::breaker::{claimed, stored_webhook};
use crate::fixtures::{TENANT, attempt, audit, event};
use crate::harness::Db;

contract! {
    both: [
        attempts_roll_up_and_days_split_at_utc_midnight,
        groups_and_filters_answer_from_the_rollups,
        rollups_outlive_the_raw_rows,
        stats_follow_attempts_and_restart_when_enabled,
        a_degradation_alert_changes_once_per_transition,
        five_minute_rows_match_their_minutes_and_the_migration_makes_them,
    ],
}

const DAY: i64 = 86_400_000;
/// 2027-01-15 00:00:00 UTC.
const MIDNIGHT: i64 = 1_800_000_000_000 / DAY * DAY + DAY;

fn timed(delivery: &ClaimedDelivery, at: i64, next: NextStep, duration_ms: u64) -> AttemptRecord {
    AttemptRecord {
        duration_ms,
        ..attempt(delivery, at, next)
    }
}

fn whole(granularity: Granularity, start_ms: i64, end_ms: i64) -> AnalyticsQuery {
    AnalyticsQuery {
        tenant_id: TENANT.to_string(),
        granularity,
        bucket_ms: None,
        start_ms,
        end_ms,
        group_by: vec![],
        filters: vec![],
    }
}

async fn attempts_roll_up_and_days_split_at_utc_midnight(db: &mut Db) {
    let wh = stored_webhook(db, "a").await;
    // Ten attempts before midnight (10..100 ms), two after, one a retry.
    for i in 0..10 {
        let at = MIDNIGHT - 60_000 + i * 1_000;
        let d = claimed(db, &wh.id, &format!("e{i}"), at).await;
        db.record_attempts(vec![timed(
            &d,
            at,
            NextStep::Delivered,
            10 * (i as u64 + 1),
        )])
        .await
        .unwrap();
    }
    let d = claimed(db, &wh.id, "late", MIDNIGHT + 1_000).await;
    db.record_attempts(vec![timed(
        &d,
        MIDNIGHT + 1_000,
        NextStep::RetryAt(MIDNIGHT + 2_000),
        700,
    )])
    .await
    .unwrap();
    let d = claimed(db, &wh.id, "ignored", MIDNIGHT + 2_000).await;
    let mut again = db
        .claim(&wh.id, MIDNIGHT + 2_000, 10, MIDNIGHT + 60_000, false)
        .await
        .unwrap()
        .deliveries;
    again.push(d);
    assert_eq!(again.len(), 2);
    let records: Vec<AttemptRecord> = again
        .iter()
        .map(|d| timed(d, MIDNIGHT + 2_000, NextStep::Failed, 900))
        .collect();
    db.record_attempts(records).await.unwrap();

    let mut days = whole(Granularity::Day, MIDNIGHT - DAY, MIDNIGHT + DAY);
    days.bucket_ms = Some(DAY);
    let rows = db.analytics(days).await.unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (before, after) = (&rows[0].figures, &rows[1].figures);
    assert_eq!(rows[0].bucket_start_ms, Some(MIDNIGHT - DAY));
    assert_eq!(rows[1].bucket_start_ms, Some(MIDNIGHT));
    assert_eq!(
        (
            before.attempts,
            before.successes,
            before.delivered,
            before.first_attempts
        ),
        (10, 10, 10, 10)
    );
    assert_eq!(
        (
            after.attempts,
            after.successes,
            after.retries,
            after.failed,
            after.first_attempts
        ),
        (3, 0, 1, 2, 2)
    );
    assert_eq!(before.duration_sum_ms, 550);
    // p50 of 10..100 is 50, p95 is 100: within one bucket.
    let p50 = before.histogram.quantile(0.5).unwrap();
    let p95 = before.histogram.quantile(0.95).unwrap();
    assert!(bucket_of(p50 as u64).abs_diff(bucket_of(50)) <= 1, "{p50}");
    assert!(bucket_of(p95 as u64).abs_diff(bucket_of(100)) <= 1, "{p95}");
    assert_eq!(before.histogram.max_ms(), Some(100));
    assert_eq!(before.histogram.min_ms(), Some(10));

    // Minutes and hours hold the same attempts.
    for granularity in [Granularity::Minute, Granularity::Hour] {
        let rows = db
            .analytics(whole(granularity, MIDNIGHT - DAY, MIDNIGHT + DAY))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].figures.attempts, 13, "{granularity:?}");
    }
    // The range is half open and aligned to the granularity.
    let rows = db
        .analytics(whole(Granularity::Minute, MIDNIGHT, MIDNIGHT + 60_000))
        .await
        .unwrap();
    assert_eq!(rows[0].figures.attempts, 3);
}

async fn groups_and_filters_answer_from_the_rollups(db: &mut Db) {
    let a = stored_webhook(db, "a").await;
    let b = stored_webhook(db, "b").await;
    let at = MIDNIGHT + 5_000;
    for (i, (webhook, next)) in [
        (&a, NextStep::Delivered),
        (&a, NextStep::Failed),
        (&b, NextStep::Delivered),
    ]
    .into_iter()
    .enumerate()
    {
        let d = claimed(db, &webhook.id, &format!("e{i}"), at).await;
        db.record_attempts(vec![attempt(&d, at, next)])
            .await
            .unwrap();
    }
    // A test send counts toward nothing.
    let probe = db
        .insert_test_delivery(TENANT, event("probe", &[], at), &a.id)
        .await
        .unwrap();
    assert!(probe.test);
    db.record_attempts(vec![attempt(&probe, at, NextStep::Delivered)])
        .await
        .unwrap();

    let mut query = whole(Granularity::Hour, MIDNIGHT, MIDNIGHT + DAY);
    query.group_by = vec![
        Dimension::WebhookId,
        Dimension::Outcome,
        Dimension::StatusCode,
    ];
    let rows = db.analytics(query.clone()).await.unwrap();
    let mut seen: Vec<(String, String, String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.dimensions[0].clone(),
                r.dimensions[1].clone(),
                r.dimensions[2].clone(),
                r.figures.attempts,
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (a.id.clone(), "http_5xx".to_string(), "500".to_string(), 1),
        (a.id.clone(), "success".to_string(), "200".to_string(), 1),
        (b.id.clone(), "success".to_string(), "200".to_string(), 1),
    ];
    expected.sort();
    assert_eq!(seen, expected);

    query.group_by = vec![Dimension::Provider];
    query.filters = vec![
        (Dimension::WebhookId, vec![a.id.clone()]),
        (Dimension::StatusCode, vec!["500".to_string()]),
    ];
    let rows = db.analytics(query).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].dimensions, vec!["webhook".to_string()]);
    assert_eq!(rows[0].figures.attempts, 1);
    assert_eq!(rows[0].figures.failed, 1);

    // Another tenant sees nothing.
    let mut other = whole(Granularity::Hour, MIDNIGHT, MIDNIGHT + DAY);
    other.tenant_id = "tnt_other".to_string();
    assert!(db.analytics(other).await.unwrap().is_empty());
}

async fn rollups_outlive_the_raw_rows(db: &mut Db) {
    let wh = stored_webhook(db, "a").await;
    let at = MIDNIGHT + 1_000;
    let d = claimed(db, &wh.id, "e1", at).await;
    db.record_attempts(vec![attempt(&d, at, NextStep::Delivered)])
        .await
        .unwrap();
    assert_eq!(db.prune(i64::MAX, 100).await.unwrap(), 1);
    assert!(db.get_event(TENANT, "e1").await.unwrap().is_none());
    let rows = db
        .analytics(whole(Granularity::Day, MIDNIGHT, MIDNIGHT + DAY))
        .await
        .unwrap();
    assert_eq!(rows[0].figures.attempts, 1);

    // Each granularity goes by its own keeping time: three days on, the
    // minutes are gone; nine days on, the five minutes too; the hours and
    // the day stay.
    let rows_of = async |db: &Db, granularity| {
        db.analytics(whole(granularity, MIDNIGHT, MIDNIGHT + DAY))
            .await
            .unwrap()
    };
    assert_eq!(db.prune_rollups(MIDNIGHT + 3 * DAY).await.unwrap(), 1);
    assert!(rows_of(db, Granularity::Minute).await.is_empty());
    assert_eq!(rows_of(db, Granularity::FiveMinutes).await.len(), 1);
    assert_eq!(db.prune_rollups(MIDNIGHT + 9 * DAY).await.unwrap(), 1);
    assert!(rows_of(db, Granularity::FiveMinutes).await.is_empty());
    for granularity in [Granularity::Hour, Granularity::Day] {
        let rows = rows_of(db, granularity).await;
        assert_eq!(rows[0].figures.attempts, 1, "{granularity:?}");
    }
}

async fn stats_follow_attempts_and_restart_when_enabled(db: &mut Db) {
    let wh = stored_webhook(db, "a").await;
    assert!(
        db.webhook_stats(TENANT, vec![wh.id.clone()])
            .await
            .unwrap()
            .is_empty()
    );
    let mut records = Vec::new();
    for (i, next) in [NextStep::Delivered, NextStep::Failed, NextStep::Failed]
        .into_iter()
        .enumerate()
    {
        let at = MIDNIGHT + i as i64 * 1_000;
        let d = claimed(db, &wh.id, &format!("e{i}"), at).await;
        records.push(attempt(&d, at, next));
    }
    // One batch: the success first, two failures after it.
    db.record_attempts(records).await.unwrap();
    let d = claimed(db, &wh.id, "e3", MIDNIGHT + 3_000).await;
    let mut timeout = attempt(&d, MIDNIGHT + 3_000, NextStep::Failed);
    timeout.outcome = AttemptOutcome::Failed;
    timeout.error_category = Some(ErrorCategory::Timeout);
    timeout.error_message = Some("no answer in 1 s".to_string());
    timeout.status_code = None;
    db.record_attempts(vec![timeout]).await.unwrap();

    let stats = db.webhook_stats(TENANT, vec![wh.id.clone()]).await.unwrap();
    let [s] = &stats[..] else { panic!("{stats:?}") };
    assert_eq!(s.failures_in_a_row, 3);
    assert_eq!(s.successes_in_a_row, 0);
    assert_eq!(s.last_success_at_ms, Some(MIDNIGHT + 5));
    assert_eq!(s.last_failure_at_ms, Some(MIDNIGHT + 3_005));
    assert_eq!(s.last_attempt_at_ms, Some(MIDNIGHT + 3_005));
    assert_eq!(s.last_error.as_deref(), Some("timeout: no answer in 1 s"));
    assert_eq!(s.counted_since_ms, 0);
    // Another tenant's view has none of it.
    assert!(
        db.webhook_stats("tnt_other", vec![wh.id.clone()])
            .await
            .unwrap()
            .is_empty()
    );

    let mut paused = db.get_webhook(TENANT, &wh.id).await.unwrap().unwrap();
    paused.spec.status = WebhookStatus::Active;
    db.enable_webhook(&paused, false, audit(TENANT, "webhook.enabled", &wh.id, 9))
        .await
        .unwrap();
    let stats = db.webhook_stats(TENANT, vec![wh.id.clone()]).await.unwrap();
    assert_eq!(stats[0].failures_in_a_row, 0);
    assert!(stats[0].counted_since_ms > 0);
    assert_eq!(
        stats[0].last_error.as_deref(),
        Some("timeout: no answer in 1 s")
    );
}

async fn a_degradation_alert_changes_once_per_transition(db: &mut Db) {
    let wh = stored_webhook(db, "a").await;
    let d = claimed(db, &wh.id, "e1", MIDNIGHT).await;
    db.record_attempts(vec![attempt(&d, MIDNIGHT, NextStep::Failed)])
        .await
        .unwrap();
    assert!(db.set_degraded_alert(&wh.id, true).await.unwrap());
    assert!(
        !db.set_degraded_alert(&wh.id, true).await.unwrap(),
        "raised once"
    );
    let stats = db.webhook_stats(TENANT, vec![wh.id.clone()]).await.unwrap();
    assert!(stats[0].degraded_alert);
    assert!(db.set_degraded_alert(&wh.id, false).await.unwrap());
    assert!(!db.set_degraded_alert(&wh.id, false).await.unwrap());

    // Server-wide flags: clear until raised, changed once per transition.
    assert!(!db.set_flag("backlog_alert", false).await.unwrap());
    assert!(db.set_flag("backlog_alert", true).await.unwrap());
    assert!(!db.set_flag("backlog_alert", true).await.unwrap());
    assert!(db.set_flag("backlog_alert", false).await.unwrap());
    assert!(!db.set_flag("backlog_alert", false).await.unwrap());
}

/// Attempts in three minutes of two five-minute buckets: each five-minute
/// row is the sum of its minutes, written with them; and on a database
/// from before five-minute rows existed, the migration makes the same rows
/// from the minutes.
async fn five_minute_rows_match_their_minutes_and_the_migration_makes_them(db: &mut Db) {
    let wh = stored_webhook(db, "a").await;
    // 12:03, 12:04 and 12:06 (MIDNIGHT + 12 h), 5 ms to 2.5 s.
    let noon = MIDNIGHT + DAY / 2;
    let minutes = [3, 3, 4, 6];
    for (i, minute) in minutes.iter().enumerate() {
        let at = noon + minute * 60_000 + 1_000;
        let d = claimed(db, &wh.id, &format!("e{i}"), at).await;
        let next = if i == 2 {
            NextStep::Failed
        } else {
            NextStep::Delivered
        };
        db.record_attempts(vec![timed(&d, at, next, 5 * 10u64.pow(i as u32))])
            .await
            .unwrap();
    }
    let buckets = |granularity| AnalyticsQuery {
        bucket_ms: Some(300_000),
        group_by: vec![Dimension::Outcome],
        ..whole(granularity, noon, noon + 3_600_000)
    };
    let written = db
        .analytics(buckets(Granularity::FiveMinutes))
        .await
        .unwrap();
    let from_minutes = db.analytics(buckets(Granularity::Minute)).await.unwrap();
    assert_eq!(written, from_minutes);
    let starts: Vec<_> = written.iter().map(|r| r.bucket_start_ms).collect();
    assert_eq!(
        starts,
        [Some(noon), Some(noon), Some(noon + 300_000)],
        "{written:?}"
    );
    let attempts: u64 = written.iter().map(|r| r.figures.attempts).sum();
    assert_eq!(attempts, 4);

    // The same database as version 12 left it: minutes, no five minutes.
    db.close();
    let back_to_12 = if db.is_postgres() {
        "DELETE FROM herald_schema WHERE version >= 13;"
    } else {
        "PRAGMA user_version = 12;"
    };
    // Versions 14 to 16 are undone too, so that they can be applied again.
    db.execute(&format!(
        "DELETE FROM attempt_rollups WHERE granularity = 300000;
         DROP TABLE console_sessions;
         DROP TABLE portal_links;
         DROP TABLE event_types;
         ALTER TABLE tenants DROP COLUMN schema_validation;
         ALTER TABLE events DROP COLUMN schema_errors;
         ALTER TABLE events DROP COLUMN deliver_at;
         DROP TABLE schedules;
         DROP INDEX deliveries_queue;
         CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, seq)
             WHERE status IN ('pending', 'retrying');
         {back_to_12}"
    ))
    .await;
    db.reopen().await;
    assert_eq!(
        db.analytics(buckets(Granularity::FiveMinutes))
            .await
            .unwrap(),
        written,
        "the migration sums the minutes as the writes did"
    );
}
