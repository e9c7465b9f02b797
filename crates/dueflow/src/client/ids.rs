//! Task ids as people type them: the whole `tsk_…` id, or a unique start
//! of one (with or without `tsk_`), as git and Taskwarrior take them.

use anyhow::bail;

use super::connection::Client;
use super::{ListArgs, every_task};

/// Hex digits after `tsk_` in a whole id.
const ID_DIGITS: usize = 32;

/// The id of the one task `given` names. A start of an id is looked up
/// among all the user's tasks, open and done.
pub async fn task_id(c: &Client, given: &str) -> anyhow::Result<String> {
    let given = given.trim();
    let digits = given.strip_prefix("tsk_").unwrap_or(given).to_lowercase();
    if digits.is_empty()
        || digits.len() > ID_DIGITS
        || !digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        bail!(
            "'{given}' is not a task id: ids look like tsk_0194c1d2… (a unique start of one is enough)"
        );
    }
    let wanted = format!("tsk_{digits}");
    if digits.len() == ID_DIGITS {
        return Ok(wanted);
    }
    let mut found = Vec::new();
    every_task(c, &ListArgs::default(), |t| {
        if let Some(id) = t["id"].as_str().filter(|id| id.starts_with(&wanted)) {
            found.push(id.to_owned());
        }
    })
    .await?;
    match found.as_slice() {
        [] => bail!("no task's id starts with {wanted}"),
        [one] => Ok(one.clone()),
        [a, b, ..] => bail!(
            "{wanted} starts {} task ids ({a}, {b}{}); give more of the id",
            found.len(),
            if found.len() > 2 { ", …" } else { "" }
        ),
    }
}
