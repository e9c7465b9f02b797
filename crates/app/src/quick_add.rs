//! Quick add: one line of plain language ("pay rent every month on the 1st
//! at 9am #bills !high") read by the domain's parser in the user's zone,
//! and a task created from what it understood. Every door that takes such
//! a line (REST, the web app's add box, chat, MCP, the CLI) reads it here.

use chrono::{DateTime, Utc};
use dueflow_domain::quickadd::{self, Context, Parsed};
use dueflow_domain::task::Task;
use dueflow_domain::trace::TraceParent;
use dueflow_domain::zone::parse_zone;
use dueflow_store::User;

use crate::{App, AppError};

/// Longest line read, in characters.
pub const TEXT_MAX_CHARS: usize = 2_000;

impl App {
    /// Read `text` as of `now` (RFC 3339; the present when left out) in the
    /// zone `tz` (the user's when left out). Nothing is stored.
    pub fn parse_quick_add(
        &self,
        user: &User,
        text: &str,
        now: Option<&str>,
        tz: Option<&str>,
    ) -> Result<Parsed, AppError> {
        if text.chars().count() > TEXT_MAX_CHARS {
            return Err(AppError::invalid(
                "text",
                format!("a quick-add line has at most {TEXT_MAX_CHARS} characters"),
            ));
        }
        let now = match now {
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map_err(|_| {
                    AppError::invalid(
                        "now",
                        format!("'{t}' is not an RFC 3339 date-time like 2026-12-01T09:00:00Z"),
                    )
                })?
                .with_timezone(&Utc),
            None => Utc::now(),
        };
        let tz = tz
            .map(|t| parse_zone("tz", t))
            .transpose()?
            .unwrap_or(user.tz);
        let ctx = Context {
            now,
            tz,
            date_order: user.date_order,
        };
        Ok(quickadd::parse(text, &ctx))
    }

    /// Create the task `text` describes, read now in the user's zone.
    pub async fn quick_add(
        &self,
        user: &User,
        text: &str,
        trace: TraceParent,
    ) -> Result<Task, AppError> {
        let parsed = self.parse_quick_add(user, text, None, None)?;
        if parsed.title.is_empty() {
            return Err(AppError::invalid(
                "text",
                "the line leaves no title once its dates, tags and other phrases are read; \
                 add words for the title, or quote phrases to keep them as words",
            ));
        }
        self.create_task(user, parsed.into_new_task(user.tz), trace)
            .await
    }
}
