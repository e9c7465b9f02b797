//! The task list (`/`): a view, narrowed by a filter in the query language
//! and sorted, all kept in the address so that it can be bookmarked and
//! shared; the tag sidebar; quick add; and the row actions (complete,
//! reopen, delete). Each action posts, then returns to the list it came
//! from.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use dueflow_api::AppState;
use dueflow_api::RequestTrace;
use dueflow_app::{AppError, BulkChange, TaskListing};
use dueflow_domain::priority::Priority;
use dueflow_domain::query;
use dueflow_store::listing::MAX_LIMIT;
use serde::Deserialize;

use super::row::Row;
use crate::dates::Dates;
use crate::highlight::Highlighter;
use crate::page::{Chrome, PageError, chrome_for, encode, local_path, render, see_other};
use crate::session::{Posted, Viewer};
use crate::views::{View, list_href};

/// Tasks on one page of the list; the next pages come as it is scrolled.
const PAGE_SIZE: u32 = 100;

/// Most tasks one page shows when asked for more (`rows`), as a list
/// scrolled far is redrawn.
const ROWS_MAX: u32 = 2_000;

/// The sorts the picker offers (any other can be typed into the address).
const SORTS: [(&str, &str); 6] = [
    ("", "View's order"),
    ("due", "Due date"),
    ("-priority,due", "Priority"),
    ("-created", "Newest"),
    ("-updated", "Recently changed"),
    ("title", "Title"),
];

/// The list's address: the view, the filter, the sort and the page.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: Option<String>,
    /// How many tasks to show from the cursor on (100 when left out; at
    /// most [`ROWS_MAX`]): a page that scrolled further is redrawn whole.
    #[serde(default)]
    rows: Option<u32>,
}

struct ViewLink {
    label: &'static str,
    href: String,
    current: bool,
}

struct TagLink {
    name: String,
    open: i64,
    colour: Option<String>,
    href: String,
    current: bool,
}

/// A saved view in the sidebar.
struct SavedLink {
    name: String,
    href: String,
    current: bool,
}

struct SortOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct Group {
    heading: Option<String>,
    rows: Vec<Row>,
}

/// A filter that did not parse: the message, and the text split where it
/// failed.
struct FilterError {
    message: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    chrome: Chrome,
    views: Vec<ViewLink>,
    saved: Vec<SavedLink>,
    tags: Vec<TagLink>,
    heading: String,
    view: &'static str,
    q: String,
    /// The sort in the address, for saving the list as a view.
    sort: String,
    /// The list's whole query, when it can be saved as a view.
    savable: Option<String>,
    /// The user's today, `YYYY-MM-DD`, where a late task is moved.
    today: String,
    /// The priorities a bulk change offers.
    priorities: [&'static str; 5],
    sorts: Vec<SortOption>,
    filter_error: Option<FilterError>,
    groups: Vec<Group>,
    count: usize,
    /// Rows on a page: a redraw of a list scrolled past it asks for all shown.
    page_size: usize,
    next: Option<String>,
    /// This list's address, where its forms return to.
    here: String,
    add_text: String,
    add_error: Option<String>,
}

/// `GET /`
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<ListParams>,
) -> Response {
    match list_page(&state, &viewer, &params).await {
        Ok((status, page)) => render(status, &page),
        Err(e) => e.into_response(),
    }
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    params: &ListParams,
) -> Result<(StatusCode, TasksPage), PageError> {
    let user = viewer.user();
    let now = Utc::now();
    let today = now.with_timezone(&user.tz).date_naive();
    let dates = Dates::of(user);
    let view = View::from_slug(params.view.as_deref());
    let q = params.q.trim().to_owned();
    let sort = params.sort.trim().to_owned();
    let parsed = query::parse(&q);
    let filter_error = parsed.as_ref().err().map(|e| {
        let at = q.char_indices().nth(e.position).map_or(q.len(), |(i, _)| i);
        FilterError {
            message: e.to_string(),
            before: q[..at].to_owned(),
            after: q[at..].to_owned(),
        }
    });
    let (items, next) = if filter_error.is_some() {
        (Vec::new(), None)
    } else {
        let mut listing = TaskListing {
            q: view.with_filter(&q, today),
            sort: if sort.is_empty() {
                view.default_sort().to_owned()
            } else {
                sort.clone()
            },
            limit: None,
            cursor: params.cursor.clone(),
        };
        let wanted = params.rows.unwrap_or(PAGE_SIZE).clamp(1, ROWS_MAX) as usize;
        let mut items = Vec::new();
        // The store hands out at most MAX_LIMIT at once.
        let next = loop {
            listing.limit = Some((wanted - items.len()).min(MAX_LIMIT as usize) as u32);
            let page = state.app.list_tasks(user, &listing).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(c) if items.len() < wanted => listing.cursor = Some(c),
                c => break c,
            }
        };
        let next = next.map(|c| format!("{}&cursor={}", list_href(view, &q, &sort), encode(&c)));
        (items, next)
    };
    let all_tags = state.app.tags(user).await?;
    let colour = |name: &str| {
        all_tags
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.colour.clone())
    };
    let count = items.len();
    let search = parsed.as_ref().map(Highlighter::new).unwrap_or_default();
    let rows = items.iter().map(|t| {
        let mut row = Row::new(t, dates, now, colour);
        if search.searched() {
            row.marked = Some(search.pieces(&row.title));
        }
        row
    });
    let groups = if view.groups_by_day() {
        group_by_day(rows, today, dates)
    } else {
        vec![Group {
            heading: None,
            rows: rows.collect(),
        }]
    };
    let current_tag = q.strip_prefix("tag:").filter(|t| !t.contains(' '));
    let tags = all_tags
        .into_iter()
        .filter(|t| t.open > 0 || Some(t.name.as_str()) == current_tag)
        .map(|t| TagLink {
            href: list_href(View::Inbox, &format!("tag:{}", t.name), ""),
            current: Some(t.name.as_str()) == current_tag,
            open: t.open,
            colour: t.colour,
            name: t.name,
        })
        .collect();
    let mut heading = view.label().to_owned();
    let saved = state
        .app
        .saved_views(user)
        .await?
        .into_iter()
        .map(|v| {
            let current = view == View::All && v.query == q && v.sort == sort;
            if current {
                heading.clone_from(&v.name);
            }
            SavedLink {
                href: list_href(View::All, &v.query, &v.sort),
                name: v.name,
                current,
            }
        })
        .collect();
    let page = TasksPage {
        chrome: chrome_for(state, viewer, view.label()).await?,
        views: View::ALL
            .into_iter()
            .map(|v| ViewLink {
                label: v.label(),
                href: list_href(v, "", ""),
                current: v == view && q.is_empty(),
            })
            .collect(),
        saved,
        tags,
        heading,
        view: view.slug(),
        sorts: SORTS
            .into_iter()
            .map(|(value, label)| SortOption {
                value,
                label,
                selected: value == sort,
            })
            .collect(),
        here: list_href(view, &q, &sort),
        today: today.to_string(),
        priorities: Priority::ALL.map(Priority::as_str),
        savable: (!q.is_empty() && filter_error.is_none())
            .then(|| view.narrowed(&q, today))
            .flatten(),
        q,
        sort,
        filter_error,
        groups,
        count,
        page_size: PAGE_SIZE as usize,
        next,
        add_text: String::new(),
        add_error: None,
    };
    let status = if page.filter_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, page))
}

fn group_by_day(rows: impl Iterator<Item = Row>, today: NaiveDate, dates: Dates) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for row in rows {
        let heading = row
            .day
            .map(|d| format!("{} · {}", dates.near(d, today), dates.heading(d)));
        match groups.last_mut() {
            Some(g) if g.heading == heading => g.rows.push(row),
            _ => groups.push(Group {
                heading,
                rows: vec![row],
            }),
        }
    }
    groups
}

#[derive(Deserialize)]
pub struct AddForm {
    text: String,
    #[serde(default)]
    back: String,
}

/// `POST /tasks`: quick add, read by the same parser as the API's.
pub async fn add(
    State(state): State<AppState>,
    RequestTrace(trace): RequestTrace,
    posted: Posted<AddForm>,
) -> Response {
    let Posted { viewer, form } = posted;
    let back = local_path(&form.back).to_owned();
    match state.app.quick_add(viewer.user(), &form.text, trace).await {
        Ok(_) => see_other(&back),
        Err(e) => {
            // The list again, with what was typed and why it was refused.
            let params: ListParams = back
                .split_once('?')
                .and_then(|(_, query)| serde_urlencoded::from_str(query).ok())
                .unwrap_or_default();
            let e = PageError::from(e);
            match list_page(&state, &viewer, &params).await {
                Ok((_, mut page)) => {
                    page.add_text = form.text;
                    page.add_error = Some(e.detail().to_owned());
                    render(e.status(), &page)
                }
                Err(e) => e.into_response(),
            }
        }
    }
}

#[derive(Deserialize)]
pub struct RowForm {
    #[serde(default)]
    back: String,
    /// Where `move` puts the task: `YYYY-MM-DD`.
    #[serde(default)]
    day: String,
}

/// `POST /tasks/{id}/{act}`: complete, reopen, delete or move (to `day`) a
/// task from a list or the calendar, then return to it.
pub async fn act(
    State(state): State<AppState>,
    Path((id, act)): Path<(String, String)>,
    RequestTrace(trace): RequestTrace,
    posted: Posted<RowForm>,
) -> Response {
    let user = posted.viewer.user();
    let done = match act.as_str() {
        "complete" => state.app.complete_task(user, &id, trace).await.map(drop),
        "reopen" => state.app.reopen_task(user, &id, trace).await.map(drop),
        "delete" => state.app.delete_task(user, &id, trace).await,
        "move" => match NaiveDate::parse_from_str(&posted.form.day, "%Y-%m-%d") {
            Ok(day) => state
                .app
                .reschedule_task(user, &id, day, trace)
                .await
                .map(drop),
            Err(_) => Err(AppError::invalid("day", "a day is YYYY-MM-DD")),
        },
        _ => Err(AppError::NotFound),
    };
    match done {
        Ok(()) => see_other(local_path(&posted.form.back)),
        Err(e) => PageError::from(e).into_response(),
    }
}

/// `POST /tasks/bulk`: one change to every selected task (`ids`), then back
/// to the list. `act` says which: complete, reopen, delete, or priority,
/// due or tag with the field of that name.
pub async fn bulk(
    State(state): State<AppState>,
    RequestTrace(trace): RequestTrace,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { viewer, form } = posted;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    };
    let ids: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    let change = match field("act") {
        "complete" => Ok(BulkChange::Complete),
        "reopen" => Ok(BulkChange::Reopen),
        "delete" => Ok(BulkChange::Delete),
        "priority" => field("priority")
            .parse::<Priority>()
            .map(BulkChange::Priority)
            .map_err(|_| AppError::invalid("priority", "choose a priority")),
        "due" if field("due").is_empty() => Err(AppError::invalid(
            "due",
            "choose the date to move the selected tasks to",
        )),
        "due" => Ok(BulkChange::Due(field("due").to_owned())),
        "tag" => Ok(BulkChange::Tag(
            field("tag").trim_start_matches('#').to_owned(),
        )),
        _ => Err(AppError::invalid(
            "act",
            "choose what to do to the selected tasks",
        )),
    };
    let done = match change {
        Ok(change) => {
            state
                .app
                .bulk_change(viewer.user(), &ids, &change, trace)
                .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => see_other(local_path(field("back"))),
        Err(e) => PageError::from(e).into_response(),
    }
}
