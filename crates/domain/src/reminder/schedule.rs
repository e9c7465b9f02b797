//! Reminders as the scheduler sees them: concrete instants, one stored row
//! per (task, instant), each moving pending → fired (or dismissed, or
//! snoozed back to pending at a later instant). Keying rows by instant is
//! what lets a task be edited without firing a reminder twice: an instant
//! that survives the edit keeps its row and its state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::Status;
use crate::task::Task;

/// A firing later than this after its instant was missed (the scheduler was
/// down or behind) and is marked late.
pub const LATE_AFTER_MS: i64 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReminderState {
    /// Waiting for its instant (`fire_at`).
    Pending,
    Fired,
    Dismissed,
}

impl ReminderState {
    pub const fn as_str(self) -> &'static str {
        match self {
            ReminderState::Pending => "pending",
            ReminderState::Fired => "fired",
            ReminderState::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Fired, Self::Dismissed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One reminder of one task at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledReminder {
    pub id: String,
    pub task_id: String,
    /// The instant the task's reminder asks for.
    pub at: DateTime<Utc>,
    /// When it fires next: `at`, or later once snoozed.
    pub fire_at: DateTime<Utc>,
    pub state: ReminderState,
    pub fired_at: Option<DateTime<Utc>>,
}

/// The instants (ms) an open task's reminders fire at, ascending, without
/// repeats; none for a finished task.
pub fn instants(task: &Task) -> Vec<i64> {
    if task.status != Status::Open {
        return Vec::new();
    }
    let mut out: Vec<i64> = task
        .reminders
        .iter()
        .filter_map(|r| r.fires_at(task.due.as_ref(), task.tz))
        .map(|t| t.timestamp_millis())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// How stored reminder rows must change for a task to fire at `wanted`:
/// pending rows whose instant is no longer wanted go (fired and dismissed
/// ones stay as history); wanted instants without a row are added, unless
/// they are already past at `now_ms` (a reminder set for the past is not
/// news). Returns (instants to remove, instants to add).
pub fn plan(
    existing: &[(i64, ReminderState)],
    wanted: &[i64],
    now_ms: i64,
) -> (Vec<i64>, Vec<i64>) {
    let remove = existing
        .iter()
        .filter(|(at, st)| *st == ReminderState::Pending && !wanted.contains(at))
        .map(|(at, _)| *at)
        .collect();
    let add = wanted
        .iter()
        .filter(|at| **at >= now_ms && !existing.iter().any(|(e, _)| e == *at))
        .copied()
        .collect();
    (remove, add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::NewTask;
    use ReminderState::*;

    #[test]
    fn plan_keeps_history_and_skips_the_past() {
        let existing = [
            (100, Fired),
            (200, Pending),
            (300, Dismissed),
            (400, Pending),
        ];
        let (remove, add) = plan(&existing, &[100, 400, 500, 50], 60);
        assert_eq!(remove, vec![200], "only pending rows no longer wanted go");
        assert_eq!(add, vec![500], "50 is past, 100 and 400 exist");
    }

    #[test]
    fn finished_tasks_have_no_instants() {
        let now: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
        let input: NewTask = serde_json::from_value(serde_json::json!({
            "title": "t", "due": "2026-11-25T09:00:00Z",
            "reminders": [{"before": "PT15M"}, {"before": "PT15M"}, {"at": "2026-11-25T08:00:00Z"}]
        }))
        .unwrap();
        let task = Task::create(input, chrono_tz::UTC, now).unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap().timestamp_millis();
        assert_eq!(
            instants(&task),
            vec![at("2026-11-25T08:00:00Z"), at("2026-11-25T08:45:00Z")]
        );
        let done = task.complete(now).unwrap();
        assert!(instants(&done).is_empty());
    }
}
