//! Users' rows as both backends write them: a new user, and the
//! preferences a user changes (zone, date order) without touching the rest.

use chrono_tz::Tz;
use dueflow_domain::quickadd::DateOrder;

/// What a preferences change sets; `None` keeps the stored value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Preferences {
    pub tz: Option<Tz>,
    pub date_order: Option<DateOrder>,
}

/// `$1` id, `$2` name, `$3` password hash, `$4` zone, `$5` created (ms),
/// `$6` date order.
pub(crate) const INSERT_USER: &str = "INSERT INTO users \
     (id, name, password_hash, tz, created_at, date_order) VALUES ($1, $2, $3, $4, $5, $6)";

/// `$1` user, `$2` zone, `$3` date order.
pub(crate) const SET_PREFERENCES: &str = "UPDATE users \
     SET tz = COALESCE($2, tz), date_order = COALESCE($3, date_order) WHERE id = $1 \
     RETURNING id, name, tz, created_at, email, email_verified, date_order";
