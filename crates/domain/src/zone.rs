//! IANA time zones as users name them (`Europe/Berlin`), parsed once at the edge.

use chrono_tz::Tz;

use crate::FieldError;

/// The schema of a zone name sent by a client: one of the IANA names
/// [`parse_zone`] knows, or `null` for the default.
#[cfg(feature = "openapi")]
pub fn zone_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let names = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| serde_json::Value::from(tz.name()));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some("IANA time zone name, e.g. Europe/Berlin"))
        .enum_values(Some(names.chain([serde_json::Value::Null])))
        .build()
}

/// Parse an IANA zone name, naming `field` in the error.
pub fn parse_zone(field: &str, name: &str) -> Result<Tz, FieldError> {
    name.parse::<Tz>().map_err(|_| {
        FieldError::new(
            field,
            format!("'{name}' is not an IANA time zone name (for example Europe/Berlin or UTC)"),
        )
    })
}
