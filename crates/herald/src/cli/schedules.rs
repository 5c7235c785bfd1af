//! `herald schedules …`: events emitted on a cron pattern.

use clap::{Args, Subcommand};
use herald_client::{NewSchedule, Schedule, ScheduledEvent};

use super::connection::Connection;
use super::failure::Failure;
use super::input;
use super::output::{self, Out, fields, table};

#[derive(Debug, Args)]
pub(crate) struct Schedules {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create a schedule that emits an event at each tick.
    Create {
        /// Unique within the tenant.
        #[arg(long)]
        name: String,
        /// 5 fields (`minute hour day month weekday`) or 6 (seconds first).
        #[arg(long)]
        cron: String,
        /// IANA time zone the pattern is read in (default UTC).
        #[arg(long)]
        timezone: Option<String>,
        /// The type of the event emitted.
        #[arg(long = "type", value_name = "TYPE")]
        event_type: String,
        /// Its data: JSON, `@file.json` or `@-` (stdin); default `{}`.
        #[arg(long)]
        data: Option<String>,
    },
    /// List the schedules with their next run.
    List,
    /// Show a schedule and its next five runs.
    Get {
        id: String,
    },
    /// Stop emitting until resumed.
    Pause {
        id: String,
    },
    /// Emit again, from the next tick after now.
    Resume {
        id: String,
    },
    Delete {
        id: String,
    },
}

impl Schedules {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        match self.action {
            Action::Create {
                name,
                cron,
                timezone,
                event_type,
                data,
            } => {
                let data = data.map(|d| input::json_arg("--data", &d)).transpose()?;
                let schedule = NewSchedule {
                    name,
                    cron,
                    timezone,
                    event: ScheduledEvent { event_type, data },
                    paused: None,
                };
                out.show(client.create_schedule(&schedule), |s| view(&s))
                    .await
            }
            Action::List => {
                out.show(client.list_schedules(), |list| {
                    let rows = list.data.iter().map(|s| {
                        vec![
                            s.id.clone(),
                            s.name.clone(),
                            s.cron.clone(),
                            s.timezone.clone(),
                            s.event.event_type.clone(),
                            next_run(s),
                        ]
                    });
                    table(&["ID", "NAME", "CRON", "ZONE", "EVENT", "NEXT RUN"], rows)
                })
                .await
            }
            Action::Get { id } => out.show(client.get_schedule(&id), |s| view(&s)).await,
            Action::Pause { id } => out.show(client.pause_schedule(&id), |s| view(&s)).await,
            Action::Resume { id } => out.show(client.resume_schedule(&id), |s| view(&s)).await,
            Action::Delete { id } => {
                out.done(client.delete_schedule(&id), &format!("deleted {id}"))
                    .await
            }
        }
    }
}

fn next_run(s: &Schedule) -> String {
    match s.next_runs.first() {
        _ if s.paused => "paused".to_string(),
        Some(t) => output::time(t),
        None => "never".to_string(),
    }
}

fn view(s: &Schedule) -> String {
    let mut text = fields(&[
        ("id", s.id.clone()),
        ("name", s.name.clone()),
        ("cron", format!("{} ({})", s.cron, s.timezone)),
        ("event", s.event.event_type.clone()),
        ("paused", s.paused.to_string()),
        ("runs", format!("{} ({} passed over)", s.runs, s.skipped)),
        ("last run", output::opt_time(s.last_run_at.as_ref())),
    ]);
    text.push_str("\nnext runs:\n");
    for t in &s.next_runs {
        text.push_str(&format!("  {}\n", output::time(t)));
    }
    text
}
