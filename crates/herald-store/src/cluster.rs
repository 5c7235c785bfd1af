//! What nodes sharing one database tell each other.

/// The answer to [`crate::Store::acquire_lane`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaneClaim {
    /// This node now works the webhook. `token` names this holding (a
    /// release or renewal with an older token does nothing); nothing may be
    /// sent before `quiet_until_ms` (the rate budget and back-pressure the
    /// last holder left); `recovered` deliveries a dead holder had leased
    /// went back to the queue.
    Granted {
        token: i64,
        quiet_until_ms: Option<i64>,
        recovered: u64,
    },
    /// Another live node works it; its lease runs at least until then.
    Taken { until_ms: i64 },
}

/// A notification from some node through the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Deliveries of this webhook were stored or scheduled: its lane should
    /// look at the queue.
    Work(String),
    /// This webhook was created, changed or deleted.
    Webhook(String),
    /// This tenant's event types or schema validation mode changed.
    EventTypes(String),
    /// Notifications may have been missed (the listening connection was
    /// lost, or this node fell behind): look at everything again.
    Resync,
}

/// The channels the notifications travel on.
pub(crate) const WORK_CHANNEL: &str = "herald_work";
pub(crate) const WEBHOOK_CHANNEL: &str = "herald_webhooks";
pub(crate) const EVENT_TYPE_CHANNEL: &str = "herald_event_types";
