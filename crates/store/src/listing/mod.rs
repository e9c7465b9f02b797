//! Task lists: a parsed filter, a sort order, a page size and an opaque
//! keyset cursor, compiled to parameterised SQL for either backend. User
//! input only ever reaches the database as bound parameters.

mod cursor;
mod filter;
mod order;
mod relevance;
mod sql;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dueflow_domain::query::Expr;
use dueflow_domain::sort::SortField;
use dueflow_domain::task::Task;

pub use cursor::{Cursor, KeyValue};
pub use filter::{TextItem, top_level_text};
pub(crate) use order::KeyKind;
pub(crate) use sql::{Builder, Dialect, SqlValue, build};

pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Expr,
    /// Explicit sort; empty means relevance when searching, else `due,-priority`.
    pub sort: Vec<SortField>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    /// "Now" for relative dates and urgency; a cursor carries its own.
    pub now: DateTime<Utc>,
    /// The zone days are read in (the user's).
    pub tz: Tz,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Task>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}
