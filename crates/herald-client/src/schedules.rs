//! Schedules: an event emitted at each tick of a cron pattern.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Call, Client, Time};

/// The event a schedule emits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// A schedule to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSchedule {
    pub name: String,
    /// 5 fields, or 6 with seconds first.
    pub cron: String,
    /// IANA zone name; the server's default is `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    pub event: ScheduledEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
}

/// Any field of a schedule; `None` leaves it as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SchedulePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<ScheduledEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
}

/// A stored schedule with its next runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub event: ScheduledEvent,
    pub paused: bool,
    /// The next five ticks (none while paused).
    #[serde(default)]
    pub next_runs: Vec<Time>,
    #[serde(default)]
    pub last_run_at: Option<Time>,
    #[serde(default)]
    pub runs: u64,
    /// Ticks passed over, missed by more than a minute.
    #[serde(default)]
    pub skipped: u64,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleList {
    pub data: Vec<Schedule>,
}

impl Client {
    /// `POST /schedules`.
    pub fn create_schedule(&self, schedule: &NewSchedule) -> Call<Schedule> {
        self.api(Method::POST, &["schedules"]).body(schedule)
    }

    /// `GET /schedules`, by name.
    pub fn list_schedules(&self) -> Call<ScheduleList> {
        self.api(Method::GET, &["schedules"])
    }

    /// `GET /schedules/{id}`.
    pub fn get_schedule(&self, id: &str) -> Call<Schedule> {
        self.api(Method::GET, &["schedules", id])
    }

    /// `PATCH /schedules/{id}`.
    pub fn update_schedule(&self, id: &str, patch: &SchedulePatch) -> Call<Schedule> {
        self.api(Method::PATCH, &["schedules", id]).body(patch)
    }

    /// `POST /schedules/{id}/pause`.
    pub fn pause_schedule(&self, id: &str) -> Call<Schedule> {
        self.api(Method::POST, &["schedules", id, "pause"])
    }

    /// `POST /schedules/{id}/resume`: from the next tick after now.
    pub fn resume_schedule(&self, id: &str) -> Call<Schedule> {
        self.api(Method::POST, &["schedules", id, "resume"])
    }

    /// `DELETE /schedules/{id}`.
    pub fn delete_schedule(&self, id: &str) -> Call<()> {
        self.api(Method::DELETE, &["schedules", id])
    }
}
