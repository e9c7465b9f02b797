//! A user's tags: the SQL both backends share. The tags themselves live on
//! their tasks, counted per user and name in `tag_counts` by every task
//! write; a colour outlives a tag's last task, so it comes back when the
//! tag does.

use crate::TagCount;
use crate::row::RowAccess;

/// `$1` the user: each tag with its task counts and colour, by name.
pub(crate) const LIST: &str = "SELECT c.name, c.count, c.open, k.colour FROM tag_counts c \
     LEFT JOIN tag_colours k ON k.user_id = c.user_id AND k.name = c.name \
     WHERE c.user_id = $1 ORDER BY c.name";

pub(crate) const SET_COLOUR: &str = "INSERT INTO tag_colours (user_id, name, colour) \
     VALUES ($1, $2, $3) ON CONFLICT (user_id, name) DO UPDATE SET colour = excluded.colour";
pub(crate) const CLEAR_COLOUR: &str = "DELETE FROM tag_colours WHERE user_id = $1 AND name = $2";

/// A task's tags, with the task (`$1`).
pub(crate) const DELETE_FOR_TASK: &str = "DELETE FROM task_tags WHERE task_id = $1";

/// Reads a row of [`LIST`].
pub(crate) fn tag_count<R: RowAccess>(row: &R) -> Result<TagCount, R::Error> {
    Ok(TagCount {
        name: row.at(0)?,
        count: row.at(1)?,
        open: row.at(2)?,
        colour: row.at(3)?,
    })
}
