//! IANA time zones as users name them (`Europe/Berlin`), parsed once at the edge.

use chrono_tz::Tz;

use crate::FieldError;

/// Parse an IANA zone name, naming `field` in the error.
pub fn parse_zone(field: &str, name: &str) -> Result<Tz, FieldError> {
    name.parse::<Tz>().map_err(|_| {
        FieldError::new(
            field,
            format!("'{name}' is not an IANA time zone name (for example Europe/Berlin or UTC)"),
        )
    })
}
