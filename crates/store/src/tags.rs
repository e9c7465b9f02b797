//! Tag colours: the SQL both backends share. (The tags themselves live on
//! their tasks; a colour outlives a tag's last task, so it comes back when
//! the tag does.)

pub(crate) const SET_COLOUR: &str = "INSERT INTO tag_colours (user_id, name, colour) \
     VALUES ($1, $2, $3) ON CONFLICT (user_id, name) DO UPDATE SET colour = excluded.colour";
pub(crate) const CLEAR_COLOUR: &str = "DELETE FROM tag_colours WHERE user_id = $1 AND name = $2";
