//! The pure domain of dueflow: what a task is, how its fields are parsed and
//! validated, how recurrence rules unfold, and the query language users type.
//!
//! Nothing here does I/O. Storage, HTTP and the workers depend on this crate,
//! never the other way round, so every rule about tasks lives in one place.

pub mod due;
pub mod error;
pub mod event;
pub mod ids;
pub mod priority;
pub mod query;
pub mod quickadd;
pub mod recurrence;
pub mod reminder;
pub mod rfc3339;
pub mod sort;
pub mod status;
pub mod tags;
pub mod task;
pub mod trace;
pub mod urgency;
pub mod webhook;
pub mod zone;

pub use error::FieldError;
